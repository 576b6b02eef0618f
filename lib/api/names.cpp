// Names, role words and the small audit helpers of the public API.
#include <cctype>

#include "core/json_text.h"
#include "core/str_cat.h"
#include "quay/audit.h"
#include "quay/identity.h"

namespace quay {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

}  // namespace

std::string_view ToString(Principal::Kind kind) {
  switch (kind) {
    case Principal::Kind::kAnonymous:
      return "anonymous";
    case Principal::Kind::kUser:
      return "user";
    case Principal::Kind::kRobot:
      return "robot";
    case Principal::Kind::kToken:
      return "token";
  }
  return "anonymous";
}

std::string_view ToString(RepositoryRole role) {
  switch (role) {
    case RepositoryRole::kNone:
      return "none";
    case RepositoryRole::kRead:
      return "read";
    case RepositoryRole::kWrite:
      return "write";
    case RepositoryRole::kAdmin:
      return "admin";
  }
  return "none";
}

std::string_view ToString(TeamRole role) {
  switch (role) {
    case TeamRole::kMember:
      return "member";
    case TeamRole::kCreator:
      return "creator";
    case TeamRole::kAdmin:
      return "admin";
  }
  return "member";
}

std::string_view ToString(Visibility visibility) {
  return visibility == Visibility::kPublic ? "public" : "private";
}

Result<RepositoryRole> ParseRepositoryRole(std::string_view text) {
  if (text == "read") return RepositoryRole::kRead;
  if (text == "write") return RepositoryRole::kWrite;
  if (text == "admin") return RepositoryRole::kAdmin;
  return Status::InvalidArgument(Subject::kNone, "role must be read, write or admin");
}

Result<TeamRole> ParseTeamRole(std::string_view text) {
  if (text == "member") return TeamRole::kMember;
  if (text == "creator") return TeamRole::kCreator;
  if (text == "admin") return TeamRole::kAdmin;
  return Status::InvalidArgument(Subject::kNone, "team role must be member, creator or admin");
}

Result<Visibility> ParseVisibility(std::string_view text) {
  if (text == "private") return Visibility::kPrivate;
  if (text == "public") return Visibility::kPublic;
  return Status::InvalidArgument(Subject::kNone, "visibility must be public or private");
}

// Quay's ^([a-z0-9]+(?:[._-][a-z0-9]+)*)$, 2 to 255 characters.
Status ValidateAccountName(std::string_view name) {
  const auto bad = [&] {
    return Status::InvalidArgument(Subject::kName,
                                   core::StrCat({"'", name,
                                                 "' is not a valid name: lower-case letters and "
                                                 "digits, single '.', '_' or '-' between them, 2 "
                                                 "to 255 characters"}));
  };
  if (name.size() < 2 || name.size() > 255) return bad();
  bool after_separator = true;  // a name may not start with a separator
  for (const char c : name) {
    if (IsLowerAlnum(c)) {
      after_separator = false;
    } else if (c == '.' || c == '_' || c == '-') {
      if (after_separator) return bad();
      after_separator = true;
    } else {
      return bad();
    }
  }
  if (after_separator) return bad();
  return Status::Ok();
}

std::string_view NamespaceOf(std::string_view repository) {
  const auto slash = repository.find('/');
  if (slash == std::string_view::npos) return {};
  return repository.substr(0, slash);
}

std::string AuditMetadata(
    std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  return core::JsonObjectText({fields.begin(), fields.end()});
}

AuditEvent AuditEvent::By(const Actor& actor, std::string kind, std::string repository,
                          std::string metadata) {
  AuditEvent e;
  e.kind = std::move(kind);
  e.namespace_name = std::string(NamespaceOf(repository));
  e.repository = std::move(repository);
  e.performer_kind = actor.principal.kind;
  e.performer = actor.principal.name;
  e.token_kind = actor.principal.token_kind;
  e.token_id = actor.principal.token_id;
  e.ip = actor.ip;
  e.request_id = actor.request_id;
  e.metadata = metadata.empty() ? "{}" : std::move(metadata);
  return e;
}

}  // namespace quay

namespace quay {

ManifestAuditEvent::ManifestAuditEvent(Kind kind, const Fields& f) {
  const std::string_view ns = NamespaceOf(f.repository);
  const std::string_view repo = ns.empty() ? f.repository : f.repository.substr(ns.size() + 1);
  size_t n = 0;
  metadata_[n++] = {"repo", repo};
  metadata_[n++] = {"namespace", ns};
  // A digest always contains ':', a tag never does.
  if (f.reference.find(':') == std::string_view::npos) metadata_[n++] = {"tag", f.reference};
  metadata_[n++] = {"manifest_digest", f.manifest_digest};
  metadata_[n++] = {"mediaType", f.media_type};
  metadata_[n++] = {"user-agent", f.user_agent.substr(0, 256)};
  view_.kind = KindName(kind);
  view_.repository = f.repository;
  view_.namespace_name = ns;
  view_.performer = f.performer;
  view_.ip = f.ip;
  view_.request_id = f.request_id;
  view_.metadata = std::span(metadata_.data(), n);
}

std::string_view ManifestAuditEvent::KindName(Kind kind) {
  return kind == Kind::kPull ? "pull_repo" : "push_repo";
}

AuditEvent ManifestAuditEvent::ToEvent() const {
  AuditEvent e;
  e.kind = std::string(view_.kind);
  e.time = view_.time;
  e.namespace_name = std::string(view_.namespace_name);
  e.repository = std::string(view_.repository);
  if (view_.performer != nullptr) {
    e.performer_kind = view_.performer->kind;
    e.performer = view_.performer->name;
    e.token_kind = view_.performer->token_kind;
    e.token_id = view_.performer->token_id;
  }
  e.ip = std::string(view_.ip);
  e.request_id = std::string(view_.request_id);
  e.metadata = core::JsonObjectText({view_.metadata.begin(), view_.metadata.end()});
  return e;
}

}  // namespace quay
