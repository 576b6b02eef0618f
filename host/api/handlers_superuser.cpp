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
