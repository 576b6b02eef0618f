// Account-level views and changes that complete the core areas: the
// signed-in user's details, an organization's details, the repository
// grants of a team, a robot and a user (transitive), prototype roles, and the
// superuser's organization list.
#include <httplib.h>

#include "host/api/handlers.h"
#include "host/api/json.h"
#include "host/api/views.h"

namespace quayd {
namespace {

using quay::Status;

Status ReplyGrants(ApiExchange& ex,
                   const quay::Result<std::vector<quay::RepositoryGrant>>& grants) {
  if (!grants.ok()) return grants.status();
  Json j;
  j.Object().Key("permissions").Array();
  for (const quay::RepositoryGrant& g : *grants) {
    const size_t slash = g.repository.find('/');
    j.Object().Key("repository").Object().Field("name", g.repository.substr(slash + 1));
    j.Field("namespace", g.repository.substr(0, slash)).End();
    j.Field("role", quay::ToString(g.role)).End();
  }
  j.EndArray().End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

std::string RobotOf(const ApiExchange& ex) {
  std::string_view org = ex.Param("orgname");
  return std::string(org.empty() ? ex.UserName() : org) + "+" +
         std::string(ex.Param("robot_shortname"));
}

}  // namespace

// PUT /api/v1/user/: password and e-mail (Quay's changeUserDetails).
Status HandleChangeUserDetails(ApiExchange& ex) {
  const std::string user(ex.UserName());
  if (auto password = OptString(ex.body, "password")) {
    if (Status s = ex.svc.identity.SetPassword(ex.actor(), user, *password); !s.ok()) return s;
  }
  if (auto email = OptString(ex.body, "email")) {
    if (Status s = ex.svc.identity.ChangeEmail(ex.actor(), user, *email); !s.ok()) return s;
  }
  return HandleGetUser(ex);
}

Status HandleDeleteCurrentUser(ApiExchange& ex) {
  if (Status s = quay::DeleteNamespace(ex.svc.registry, ex.svc.identity, ex.actor(), ex.UserName(),
                                       quay::NamespaceDeletion::kUser);
      !s.ok()) {
    return s;
  }
  ex.res.set_header("Set-Cookie", SessionCodec::ClearCookie());
  ReplyEmpty(ex.res, 204);
  return Status::Ok();
}

// PUT /api/v1/organization/{orgname}: the e-mail (billing and
// tag_expiration_s are not served).
Status HandleChangeOrgDetails(ApiExchange& ex) {
  if (auto email = OptString(ex.body, "email")) {
    if (Status s = ex.svc.identity.SetOrganizationEmail(ex.actor(), ex.Param("orgname"), *email);
        !s.ok()) {
      return s;
    }
  }
  return HandleGetOrg(ex);
}

Status HandleTeamPermissions(ApiExchange& ex) {
  return ReplyGrants(
      ex, ex.svc.identity.ListTeamPermissions(ex.Param("orgname"), ex.Param("teamname")));
}

Status HandleRobotPermissions(ApiExchange& ex) {
  if (!ex.svc.identity.GetRobot(RobotOf(ex)).ok()) {
    return Status::NotFound(quay::Subject::kNone, "Could not find robot with specified username");
  }
  return ReplyGrants(ex, ex.svc.identity.ListRobotPermissions(RobotOf(ex)));
}

Status HandleUserTransitivePermission(ApiExchange& ex) {
  auto role = ex.svc.identity.UserRoleOn(ex.Param("username"), ex.Param("repository"));
  if (!role.ok()) return role.status();
  Json j;
  j.Object().Key("permissions").Array();
  if (*role != quay::RepositoryRole::kNone) j.Object().Field("role", quay::ToString(*role)).End();
  j.EndArray().End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleUpdatePrototype(ApiExchange& ex) {
  auto text = RequireString(ex.body, "role");
  if (!text.ok()) return text.status();
  auto role = quay::ParseRepositoryRole(*text);
  if (!role.ok()) return role.status();
  auto updated = ex.svc.identity.UpdatePrototype(ex.actor(), ex.Param("orgname"),
                                                 ex.Param("prototypeid"), *role);
  if (!updated.ok()) return updated.status();
  Json j;
  j.Object().Field("id", updated->id).Field("role", quay::ToString(updated->role)).End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleSuperuserListOrgs(ApiExchange& ex) {
  const std::string binding = "superuser-orgs\n" + ex.principal.name + "\n";
  auto cursor = PageCursor(ex, binding);
  if (!cursor.ok()) return cursor.status();
  const std::string after = *cursor;
  auto page = ex.svc.identity.ListOrganizations(100, after);
  if (!page.ok()) return page.status();
  Json j;
  j.Object().Key("organizations").Array();
  for (const std::string& name : page->names) {
    j.Object().Field("name", name);
    WriteAvatar(j, name, "org");
    j.End();
  }
  j.EndArray();
  if (page->more && !page->names.empty()) {
    j.Field("next_page", NextPage(ex, binding, page->names.back()));
  }
  j.End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

}  // namespace quayd
