// Repositories (create, list, get, update, delete, visibility) and the tag
// operations that need no tag listing (delete, restore).
#include <httplib.h>

#include "host/api/handlers.h"
#include "host/api/json.h"
#include "host/api/views.h"
#include "quay/digest.h"
#include "quay/reference.h"

namespace quayd {
namespace {

using quay::Status;

std::string_view NameOf(std::string_view repository) {
  const size_t slash = repository.find('/');
  return slash == std::string_view::npos ? repository : repository.substr(slash + 1);
}

// Registry-side changes are audited here, strictly (a failed row fails the
// request after the change: the row is the only record of who did it).
Status Audit(ApiExchange& ex, std::string kind, std::string_view repository,
             std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  return ex.svc.identity.audit().Record(
      quay::AuditEvent::By(ex.actor(), std::move(kind), std::string(repository),
                           quay::AuditMetadata(fields)));
}

bool IsOrganization(ApiExchange& ex, std::string_view ns) {
  return ex.svc.identity.GetOrganization(ns).ok();
}

void WriteRepositoryRow(Json& j, const quay::RepositoryInfo& repo) {
  j.Object().Field("namespace", repo.namespace_name).Field("name", NameOf(repo.name));
  j.Field("description", repo.description);
  j.Field("is_public", repo.visibility == quay::Visibility::kPublic);
  j.Field("kind", "image").Field("state", "NORMAL").End();
}

// Anonymous callers: Quay lists the public repositories of a namespace
// whenever anonymous access is on (FEATURE_PUBLIC_CATALOG governs only
// /v2/_catalog), while the library's visible listing refuses anonymous
// principals without that flag. So they walk every name, and the listing
// keeps those Access() lets them read (public ones, if anonymous access is on).
quay::Result<quay::AccountPage> AnonymousPage(ApiExchange& ex, size_t limit,
                                              const std::string& after) {
  auto names = ex.svc.registry.ListRepositories(limit, after);
  if (!names.ok()) return names.status();
  return quay::AccountPage{std::move(names->names), names->more};
}

bool AnonymousMayRead(ApiExchange& ex, std::string_view repository) {
  auto access = ex.svc.identity.Access(ex.principal, repository);
  return access.ok() && access->role >= quay::RepositoryRole::kRead;
}

}  // namespace

Status HandleCreateRepo(ApiExchange& ex) {
  auto ns = RequireString(ex.body, "namespace");
  if (!ns.ok()) return ns.status();
  auto name = RequireString(ex.body, "repository");
  if (!name.ok()) return name.status();
  auto visibility_text = RequireString(ex.body, "visibility");
  if (!visibility_text.ok()) return visibility_text.status();
  quay::Result<quay::Visibility> visibility = quay::ParseVisibility(*visibility_text);
  if (!visibility.ok()) return visibility.status();
  if (auto kind = OptString(ex.body, "repo_kind"); kind && *kind != "image") {
    return Status::InvalidArgument(quay::Subject::kNone, "only image repositories are supported");
  }
  const std::string full = *ns + "/" + *name;
  if (Status v = quay::ValidateRepositoryName(full); !v.ok()) return v;
  Status may = ex.svc.identity.authorizer()->CheckNamespace(
      ex.principal, *ns, quay::NamespaceAction::kCreateRepository);
  if (!may.ok()) return may;
  auto created = ex.svc.identity.CreateRepository(ex.actor(), full, *visibility,
                                                  OptString(ex.body, "description").value_or(""));
  if (!created.ok()) {
    if (created.status().code() == quay::Code::kConflict) {
      return Status::InvalidArgument(quay::Subject::kNone, "Repository already exists");
    }
    return created.status();
  }
  Json j;
  j.Object().Field("namespace", *ns).Field("name", *name).Field("kind", "image").End();
  Reply(ex.res, 201, j);
  return Status::Ok();
}

// Quay requires one of namespace, starred or public, so that no request
// asks for "every repository I can see". Pages of 100 by name; next_page is
// a sealed cursor bound to the caller and the filter.
Status HandleListRepos(ApiExchange& ex) {
  const std::string ns = ex.Query("namespace");
  const bool only_public = ex.QueryFlag("public");
  const bool starred = ex.QueryFlag("starred");
  if (ns.empty() && !only_public && !starred) {
    return Status::InvalidArgument(quay::Subject::kNone,
                                   "You must specify either a namespace or starred or public");
  }
  if (starred && ex.UserName().empty()) return Status::Unauthenticated("Requires authentication");
  if (starred) {
    // Only starred repositories; the library keeps no stars yet (no star
    // route exists), so nothing is starred.
    Json j;
    j.Object().Key("repositories").Array().EndArray().End();
    Reply(ex.res, 200, j);
    return Status::Ok();
  }
  const std::string binding = std::string(ex.principal.name) + "\n" + ns + "\n" +
                              (only_public ? "p" : "") + (starred ? "s" : "") + "\n";
  std::string after = ns.empty() ? std::string() : ns + "/";
  if (std::string page = ex.Query("next_page"); !page.empty()) {
    std::optional<std::string> cursor = ex.svc.sessions.Unseal(page);
    if (!cursor || !cursor->starts_with(binding)) {
      return Status::InvalidArgument(quay::Subject::kNone, "Invalid page token");
    }
    after = cursor->substr(binding.size());
  }
  constexpr size_t kPage = 100;
  Json j;
  j.Object().Key("repositories").Array();
  std::string last;
  bool more = false;
  size_t emitted = 0;
  // Repositories the caller may see, in name order from the cursor, until a
  // page is full or the namespace's range ends.
  while (emitted < kPage) {
    auto page = ex.principal.anonymous() ? AnonymousPage(ex, kPage, after)
                                         : ex.svc.identity.ListVisibleRepositories(ex.principal,
                                                                                   kPage, after);
    if (!page.ok()) return page.status();
    bool out_of_range = false;
    for (const std::string& name : page->names) {
      after = name;
      if (!ns.empty() && quay::NamespaceOf(name) != ns) {
        out_of_range = true;
        break;
      }
      auto info = ex.svc.identity.GetRepository(name);
      if (!info.ok()) continue;
      if (only_public && info->visibility != quay::Visibility::kPublic) continue;
      if (ex.principal.anonymous() && !AnonymousMayRead(ex, name)) continue;
      WriteRepositoryRow(j, *info);
      last = name;
      if (++emitted == kPage) {
        more = page->more || &name != &page->names.back();
        break;
      }
    }
    if (out_of_range || !page->more) break;
  }
  j.EndArray();
  if (more) j.Field("next_page", ex.svc.sessions.Seal(binding + last));
  j.End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleGetRepo(ApiExchange& ex) {
  const std::string_view repository = ex.Param("repository");
  auto info = ex.svc.identity.GetRepository(repository);
  if (!info.ok()) {
    return info.status().code() == quay::Code::kNotFound
               ? Status::NotFound(quay::Subject::kRepository, "Not Found")
               : info.status();
  }
  auto access = ex.svc.identity.Access(ex.principal, repository);
  if (!access.ok()) return access.status();
  auto tags = ex.svc.registry.ListTags(repository, 500, "");
  Json j;
  j.Object().Field("namespace", info->namespace_name).Field("name", NameOf(info->name));
  j.Field("kind", "image").Field("description", info->description);
  j.Field("is_public", info->visibility == quay::Visibility::kPublic);
  j.Field("is_organization", IsOrganization(ex, info->namespace_name));
  j.Field("is_starred", false).Field("state", "NORMAL").Field("trust_enabled", false);
  j.Field("can_write", access->role >= quay::RepositoryRole::kWrite);
  j.Field("can_admin", access->role >= quay::RepositoryRole::kAdmin);
  j.Field("is_free_account", true).Field("status_token", "");
  j.Key("tags").Object();
  if (tags.ok()) {
    for (const std::string& tag : tags->names) j.Key(tag).Object().Field("name", tag).End();
  }
  j.End().End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleUpdateRepo(ApiExchange& ex) {
  auto description = RequireString(ex.body, "description");
  if (!description.ok()) return description.status();
  Status set = ex.svc.identity.SetDescription(ex.actor(), ex.Param("repository"), *description);
  if (!set.ok()) return set;
  Json j;
  j.Object().Field("success", true).End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleDeleteRepo(ApiExchange& ex) {
  const std::string repository(ex.Param("repository"));
  Status deleted = ex.svc.registry.DeleteRepository(repository);
  if (!deleted.ok()) return deleted;
  if (Status a = Audit(ex, "delete_repo", repository,
                       {{"repo", NameOf(repository)}, {"namespace", quay::NamespaceOf(repository)}});
      !a.ok()) {
    return a;
  }
  ReplyEmpty(ex.res, 204);
  return Status::Ok();
}

Status HandleChangeVisibility(ApiExchange& ex) {
  auto text = RequireString(ex.body, "visibility");
  if (!text.ok()) return text.status();
  auto visibility = quay::ParseVisibility(*text);
  if (!visibility.ok()) return visibility.status();
  Status set = ex.svc.identity.SetVisibility(ex.actor(), ex.Param("repository"), *visibility);
  if (!set.ok()) return set;
  Json j;
  j.Object().Field("success", true).End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleDeleteTag(ApiExchange& ex) {
  const std::string repository(ex.Param("repository"));
  const std::string tag(ex.Param("tag"));
  auto manifest = ex.svc.registry.GetManifest(repository, tag);
  if (!manifest.ok()) return Status::NotFound(quay::Subject::kTag, "Not Found");
  Status deleted = ex.svc.registry.DeleteTag(repository, tag);
  if (!deleted.ok()) return deleted;
  if (Status a = Audit(ex, "delete_tag", repository,
                       {{"tag", tag},
                        {"repo", NameOf(repository)},
                        {"namespace", quay::NamespaceOf(repository)},
                        {"manifest_digest", manifest->digest.str()}});
      !a.ok()) {
    return a;
  }
  ReplyEmpty(ex.res, 204);
  return Status::Ok();
}

Status HandleRestoreTag(ApiExchange& ex) {
  const std::string repository(ex.Param("repository"));
  const std::string tag(ex.Param("tag"));
  auto digest_text = RequireString(ex.body, "manifest_digest");
  if (!digest_text.ok()) return digest_text.status();
  auto digest = quay::Digest::Parse(*digest_text);
  if (!digest.ok()) return Status::InvalidArgument(quay::Subject::kDigest, "invalid manifest_digest");
  std::string original;
  if (auto current = ex.svc.registry.GetManifest(repository, tag); current.ok()) {
    original = current->digest.str();
  }
  Status restored = ex.svc.registry.RestoreTag(repository, tag, *digest);
  if (!restored.ok()) return restored;
  if (Status a = Audit(ex, "revert_tag", repository,
                       {{"tag", tag},
                        {"repo", NameOf(repository)},
                        {"namespace", quay::NamespaceOf(repository)},
                        {"manifest_digest", digest->str()},
                        {"original_manifest_digest", original}});
      !a.ok()) {
    return a;
  }
  Json j;
  j.Object().End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

}  // namespace quayd
