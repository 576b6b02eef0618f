#include "registry/upload_sessions.h"

namespace quay::registry {

bool UploadSessions::TryAcquire(const std::string& id) {
  std::lock_guard lock(mu_);
  return busy_.insert(id).second;
}

void UploadSessions::Release(const std::string& id) {
  std::lock_guard lock(mu_);
  busy_.erase(id);
}

void UploadSessions::Park(const std::string& id, uint64_t offset, Digester digester) {
  std::lock_guard lock(mu_);
  parked_.insert_or_assign(id, Parked{offset, std::move(digester)});
}

std::optional<Digester> UploadSessions::Take(const std::string& id, uint64_t offset) {
  std::lock_guard lock(mu_);
  auto it = parked_.find(id);
  if (it == parked_.end()) return std::nullopt;
  std::optional<Digester> out;
  if (it->second.offset == offset) out.emplace(std::move(it->second.digester));
  parked_.erase(it);
  return out;
}

void UploadSessions::Forget(const std::string& id) {
  std::lock_guard lock(mu_);
  parked_.erase(id);
}

}  // namespace quay::registry
