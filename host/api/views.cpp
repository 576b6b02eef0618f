#include "host/api/views.h"

#include <string>
#include <unordered_map>

#include "quay/digest.h"

namespace quayd {

namespace {

// The avatar hash of a name, remembered per thread: a logs page names the
// same few performers and namespaces on every row, and each hash is an
// OpenSSL digest call. Names are public; the map is emptied when full.
const std::string& AvatarHash(std::string_view name) {
  constexpr size_t kMaxRemembered = 512;
  thread_local std::unordered_map<std::string, std::string> remembered;
  if (auto it = remembered.find(std::string(name)); it != remembered.end()) return it->second;
  if (remembered.size() >= kMaxRemembered) remembered.clear();
  return remembered.emplace(std::string(name), std::string(quay::Digest::Of(name).hex()))
      .first->second;
}

}  // namespace

void WriteAvatar(Json& j, std::string_view name, std::string_view kind) {
  const std::string& hash = AvatarHash(name);
  j.Key("avatar").Object().Field("name", name).Field("hash", hash);
  j.Field("color", std::string("#").append(hash, 0, 6)).Field("kind", kind).End();
}

void WriteEntity(Json& j, std::string_view name, std::string_view kind) {
  j.Field("name", name).Field("kind", kind).Field("is_robot", kind == "robot");
  WriteAvatar(j, name, kind);
}

std::string_view ShortName(std::string_view repository) {
  const size_t slash = repository.find('/');
  return slash == std::string_view::npos ? repository : repository.substr(slash + 1);
}

quay::Status AuditRepository(
    ApiExchange& ex, std::string kind, std::string_view repository,
    std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  return ex.svc.identity.audit().Record(quay::AuditEvent::By(
      ex.actor(), std::move(kind), std::string(repository), quay::AuditMetadata(fields)));
}

quay::Result<std::string> PageCursor(const ApiExchange& ex, const std::string& binding) {
  const std::string page = ex.Query("next_page");
  if (page.empty()) return std::string();
  std::optional<std::string> cursor = ex.svc.sessions.Unseal(page);
  if (!cursor || !cursor->starts_with(binding)) {
    return quay::Status::InvalidArgument(quay::Subject::kNone, "Invalid page token");
  }
  return cursor->substr(binding.size());
}

std::string NextPage(const ApiExchange& ex, const std::string& binding, std::string_view position) {
  return ex.svc.sessions.Seal(binding + std::string(position));
}

}  // namespace quayd
