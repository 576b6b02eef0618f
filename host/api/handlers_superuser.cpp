// The superuser panel's user and organization management.
#include <httplib.h>

#include "host/api/handlers.h"
#include "host/api/json.h"
#include "host/api/views.h"
#include "host/auth/session.h"

namespace quayd {
namespace {

using quay::Status;

void WriteUser(Json& j, ApiExchange& ex, const quay::User& u) {
  const quay::SuperuserKind su = ex.svc.identity.SuperuserOf(u.name);
  j.Object().Field("username", u.name).Field("email", u.email).Field("verified", true);
  j.Field("kind", "user").Field("enabled", u.enabled);
  j.Field("super_user",
          su == quay::SuperuserKind::kPlain || su == quay::SuperuserKind::kFullAccess);
  j.Field("global_readonly_super_user", su == quay::SuperuserKind::kGlobalReadOnly);
  j.Field("created", Rfc2822(u.created_at));
  WriteAvatar(j, u.name, "user");
  j.End();
}

}  // namespace

Status HandleSuperuserListUsers(ApiExchange& ex) {
  constexpr size_t kPage = 50;
  const std::string binding = "superuser-users\n" + ex.principal.name + "\n";
  auto after = PageCursor(ex, binding);
  if (!after.ok()) return after.status();
  auto page = ex.svc.identity.ListUsers(kPage, *after);
  if (!page.ok()) return page.status();
  const bool only_disabled = ex.QueryFlag("disabled");
  Json j;
  j.Object().Key("users").Array();
  for (const std::string& name : page->names) {
    auto user = ex.svc.identity.GetUser(name);
    if (!user.ok() || (only_disabled && user->enabled)) continue;
    WriteUser(j, ex, *user);
  }
  j.EndArray();
  if (page->more && !page->names.empty()) {
    j.Field("next_page", NextPage(ex, binding, page->names.back()));
  }
  j.End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

// Quay mails a random password or returns it; quayd returns it once.
Status HandleSuperuserCreateUser(ApiExchange& ex) {
  auto username = RequireString(ex.body, "username");
  if (!username.ok()) return username.status();
  const std::string email = OptString(ex.body, "email").value_or("");
  const std::string password = RandomToken().substr(0, 32);
  auto user = ex.svc.identity.CreateUser(ex.actor(), *username, email, password);
  if (!user.ok()) return user.status();
  Json j;
  j.Object().Field("username", user->name).Field("email", user->email);
  j.Field("password", password).Field("encrypted_password", "").End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleSuperuserGetUser(ApiExchange& ex) {
  auto user = ex.svc.identity.GetUser(ex.Param("username"));
  if (!user.ok()) return Status::NotFound(quay::Subject::kNone, "Not Found");
  Json j;
  WriteUser(j, ex, *user);
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleSuperuserChangeUser(ApiExchange& ex) {
  const std::string name(ex.Param("username"));
  auto user = ex.svc.identity.GetUser(name);
  if (!user.ok()) return Status::NotFound(quay::Subject::kNone, "Not Found");
  // Quay: a superuser cannot be changed through the panel by another one.
  if (ex.svc.identity.SuperuserOf(name) != quay::SuperuserKind::kNone && name != ex.UserName()) {
    return Status::Denied("Cannot change another superuser");
  }
  if (auto password = OptString(ex.body, "password")) {
    if (Status s = ex.svc.identity.SetPassword(ex.actor(), name, *password); !s.ok()) return s;
  }
  if (auto enabled = OptBool(ex.body, "enabled")) {
    if (Status s = ex.svc.identity.SetUserEnabled(ex.actor(), name, *enabled); !s.ok()) return s;
  }
  auto updated = ex.svc.identity.GetUser(name);
  if (!updated.ok()) return updated.status();
  Json j;
  WriteUser(j, ex, *updated);
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleSuperuserDeleteUser(ApiExchange& ex) {
  const std::string name(ex.Param("username"));
  if (!ex.svc.identity.GetUser(name).ok())
    return Status::NotFound(quay::Subject::kNone, "Not Found");
  if (ex.svc.identity.SuperuserOf(name) != quay::SuperuserKind::kNone) {
    return Status::Denied("Cannot delete a superuser");
  }
  if (Status s = quay::DeleteNamespace(ex.svc.registry, ex.svc.identity, ex.actor(), name,
                                       quay::NamespaceDeletion::kUser);
      !s.ok()) {
    return s;
  }
  ReplyEmpty(ex.res, 204);
  return Status::Ok();
}

Status HandleSuperuserDeleteOrg(ApiExchange& ex) {
  if (!ex.svc.identity.GetOrganization(ex.Param("name")).ok()) {
    return Status::NotFound(quay::Subject::kNone, "Not Found");
  }
  if (Status s = quay::DeleteNamespace(ex.svc.registry, ex.svc.identity, ex.actor(),
                                       ex.Param("name"), quay::NamespaceDeletion::kOrganization);
      !s.ok()) {
    return s;
  }
  ReplyEmpty(ex.res, 204);
  return Status::Ok();
}

}  // namespace quayd

namespace quayd {

// Computed when asked (one aggregate over the blob rows), so nothing is ever
// queued or running; last_ran is now, in milliseconds as Quay's completed_ms.
Status HandleRegistrySize(ApiExchange& ex) {
  auto bytes = ex.svc.registry.TotalBlobBytes();
  if (!bytes.ok()) return bytes.status();
  Json j;
  j.Object().Field("size_bytes", static_cast<int64_t>(*bytes));
  j.Field("last_ran", ex.Now() * 1000).Field("queued", false).Field("running", false).End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

// Nothing to queue: GET computes the size. 201 as Quay's "queued".
Status HandleQueueRegistrySize(ApiExchange& ex) {
  ReplyEmpty(ex.res, 201);
  return Status::Ok();
}

// quayd is configured by its file and environment before it serves, so it
// is always set up (Quay: SETUP_COMPLETE with the file config provider).
Status HandleRegistryStatus(ApiExchange& ex) {
  Json j;
  j.Object().Field("provider_id", "file").Field("status", "ready").End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleTakeOwnership(ApiExchange& ex) {
  const std::string ns(ex.Param("namespace"));
  auto taken = ex.svc.identity.TakeOwnership(ex.actor(), ns);
  if (!taken.ok()) {
    return taken.status().code() == quay::Code::kNotFound
               ? Status::NotFound(quay::Subject::kNone, "Not Found")
               : taken.status();
  }
  Json j;
  j.Object().Field("namespace", ns).End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

// Quay's UpdateOrg takes "name" (a rename); quayd also takes "email".
Status HandleSuperuserChangeOrg(ApiExchange& ex) {
  std::string name(ex.Param("name"));
  if (!ex.svc.identity.GetOrganization(name).ok()) {
    return Status::NotFound(quay::Subject::kNone, "Not Found");
  }
  if (auto email = OptString(ex.body, "email")) {
    if (Status s = ex.svc.identity.SetOrganizationEmail(ex.actor(), name, *email); !s.ok()) {
      return s;
    }
  }
  if (auto new_name = OptString(ex.body, "name")) {
    auto renamed = ex.svc.identity.RenameOrganization(ex.actor(), name, *new_name);
    if (!renamed.ok()) {
      if (renamed.status().code() == quay::Code::kConflict) {
        return Status::InvalidArgument(quay::Subject::kNone, "Namespace already taken");
      }
      return renamed.status();
    }
    name = renamed->name;
  }
  auto org = ex.svc.identity.GetOrganization(name);
  if (!org.ok()) return org.status();
  Json j;
  j.Object().Field("name", org->name).Field("email", org->email);
  WriteAvatar(j, org->name, "org");
  j.End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

// Every user's app-specific tokens, without secrets (quayd stores only
// hashes). Pages of 100 with a sealed next_page (Quay answers all at once).
Status HandleSuperuserAppTokens(ApiExchange& ex) {
  const bool has_expiring = ex.HasQuery("expiring");
  const bool expiring = ex.QueryFlag("expiring");
  const std::string binding =
      "superuser-apptokens\n" + ex.principal.name + "\n" + (expiring ? "e" : "") + "\n";
  auto after = PageCursor(ex, binding);
  if (!after.ok()) return after.status();
  auto page = ex.svc.identity.ListAllAppTokens(expiring, 100, *after);
  if (!page.ok()) return page.status();
  Json j;
  j.Object().Key("tokens").Array();
  for (const quay::AppToken& t : page->tokens) {
    j.Object().Field("uuid", t.id).Field("title", t.title);
    if (t.last_used_at)
      j.Field("last_accessed", Rfc2822(*t.last_used_at));
    else
      j.NullField("last_accessed");
    j.Field("created", Rfc2822(t.created_at));
    if (t.expires_at)
      j.Field("expiration", Rfc2822(*t.expires_at));
    else
      j.NullField("expiration");
    j.End();
  }
  j.EndArray();
  if (has_expiring)
    j.Field("only_expiring", expiring);
  else
    j.NullField("only_expiring");
  if (page->more) j.Field("next_page", NextPage(ex, binding, page->next_cursor));
  j.End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

}  // namespace quayd
