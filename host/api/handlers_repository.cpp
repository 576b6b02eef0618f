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

bool IsOrganization(ApiExchange& ex, std::string_view ns) {
  return ex.svc.identity.GetOrganization(ns).ok();
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
  auto created = ex.svc.identity.CreateRepositoryAs(ex.actor(), full, *visibility,
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
  const std::string binding = std::string(ex.principal.name) + "\n" + ns + "\n" +
                              (only_public ? "p" : "") + (starred ? "s" : "") + "\n";
  auto cursor = PageCursor(ex, binding);
  if (!cursor.ok()) return cursor.status();
  const std::string after = *cursor;
  quay::RepositoryFilter filter;
  filter.namespace_name = ns;
  filter.public_only = only_public;
  if (starred) filter.starred_by = std::string(ex.UserName());
  auto page = ex.svc.identity.SharedListRepositories(ex.principal, filter, 100, after);
  if (!page.ok()) return page.status();
  // The page is the principal's own (the library keys it by principal), and
  // so is its rendering.
  auto rendered = ex.svc.rendered->Render(
      *page, RenderMemo::View::kRepositoryList, [](const quay::RepositoryListingPage& p) {
        Json list;
        list.Array();
        for (const quay::RepositoryListing& r : p.repositories) {
          list.Object().Field("namespace", r.namespace_name).Field("name", r.name);
          list.Field("description", r.description).Field("is_public", r.is_public);
          list.Field("kind", "image").Field("state", "NORMAL").Field("is_starred", r.is_starred);
          if (r.last_modified)
            list.Field("last_modified", Seconds(*r.last_modified));
          else
            list.NullField("last_modified");
          list.End();
        }
        list.EndArray();
        return list.str();
      });
  Json j;
  j.Object().Key("repositories").Raw(*rendered);
  if ((*page)->more) j.Field("next_page", NextPage(ex, binding, (*page)->next_cursor));
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
  // Quay's can_write / can_admin are the permission checks themselves
  // (scopes included), answered from the Authorizer's decision cache.
  const quay::Authorizer& authorizer = *ex.svc.identity.authorizer();
  const bool can_write = authorizer.Check(ex.principal, repository, quay::Action::kPush).ok();
  const bool can_admin = authorizer.Check(ex.principal, repository, quay::Action::kAdmin).ok();
  quay::TagListQuery live;
  live.only_active = true;
  live.limit = 100;
  auto tags = ex.svc.registry.SharedTagRows(repository, live);
  auto stats = ex.svc.registry.RepositoryStats(repository);
  bool starred = false;
  if (!ex.UserName().empty()) {
    auto flags = ex.svc.identity.stars().AreStarred(ex.UserName(), {std::string(repository)});
    starred = flags.ok() && !flags->empty() && (*flags)[0];
  }
  Json j;
  j.Object().Field("namespace", info->namespace_name).Field("name", ShortName(info->name));
  j.Field("kind", "image").Field("description", info->description);
  j.Field("is_public", info->visibility == quay::Visibility::kPublic);
  j.Field("is_organization", IsOrganization(ex, info->namespace_name));
  j.Field("is_starred", starred).Field("state", "NORMAL").Field("trust_enabled", false);
  j.Field("can_write", can_write).Field("can_admin", can_admin);
  j.Field("is_free_account", true).Field("status_token", "");
  if (tags.ok()) {
    auto rendered = ex.svc.rendered->Render(
        *tags, RenderMemo::View::kRepositoryTags, [](const quay::TagListPage& page) {
          Json t;
          t.Object();
          for (const quay::TagListRow& tag : page.rows) {
            t.Key(tag.name).Object().Field("name", tag.name);
            t.Field("manifest_digest", tag.manifest_digest.str());
            if (tag.size) t.Field("size", static_cast<int64_t>(*tag.size));
            t.Field("last_modified", Rfc2822(tag.last_modified)).End();
          }
          t.End();
          return t.str();
        });
    j.Key("tags").Raw(*rendered);
  } else {
    j.Key("tags").Object().End();
  }
  if (stats.ok()) {
    j.Field("tag_count", static_cast<int64_t>(stats->tag_count));
    if (stats->last_modified) j.Field("last_modified", Seconds(*stats->last_modified));
  }
  j.End();
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
  if (Status a = AuditRepository(
          ex, "delete_repo", repository,
          {{"repo", ShortName(repository)}, {"namespace", quay::NamespaceOf(repository)}});
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
  if (Status a = AuditRepository(ex, "delete_tag", repository,
                                 {{"tag", tag},
                                  {"repo", ShortName(repository)},
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
  if (!digest.ok())
    return Status::InvalidArgument(quay::Subject::kDigest, "invalid manifest_digest");
  std::string original;
  if (auto current = ex.svc.registry.GetManifest(repository, tag); current.ok()) {
    original = current->digest.str();
  }
  Status restored = ex.svc.registry.RestoreTag(repository, tag, *digest);
  if (!restored.ok()) return restored;
  if (Status a = AuditRepository(ex, "revert_tag", repository,
                                 {{"tag", tag},
                                  {"repo", ShortName(repository)},
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
