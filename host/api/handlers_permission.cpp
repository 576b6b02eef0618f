// Direct repository permissions of users (robots count as users, as in
// Quay) and teams.
#include <httplib.h>

#include "host/api/handlers.h"
#include "host/api/json.h"
#include "host/api/views.h"

namespace quayd {
namespace {

using quay::Grantee;
using quay::Status;

bool IsRobotName(std::string_view name) { return name.find('+') != std::string_view::npos; }

Grantee UserGrantee(std::string_view name) {
  return IsRobotName(name) ? Grantee::Robot(std::string(name)) : Grantee::User(std::string(name));
}

void WritePermission(Json& j, const quay::RepositoryPermission& p) {
  const bool team = p.grantee.kind == Grantee::Kind::kTeam;
  const bool robot = p.grantee.kind == Grantee::Kind::kRobot;
  j.Object().Field("role", RoleName(p.role)).Field("name", p.grantee.name);
  if (!team) j.Field("is_robot", robot).Field("is_org_member", false);
  WriteAvatar(j, p.grantee.name, team ? "team" : robot ? "robot" : "user");
  j.End();
}

Status ListBy(ApiExchange& ex, bool teams) {
  auto permissions = ex.svc.identity.ListPermissions(ex.Param("repository"));
  if (!permissions.ok()) return permissions.status();
  Json j;
  j.Object().Key("permissions").Object();
  for (const quay::RepositoryPermission& p : *permissions) {
    if ((p.grantee.kind == Grantee::Kind::kTeam) != teams) continue;
    j.Key(p.grantee.name);
    WritePermission(j, p);
  }
  j.End().End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status GetOne(ApiExchange& ex, const Grantee& grantee) {
  auto permissions = ex.svc.identity.ListPermissions(ex.Param("repository"));
  if (!permissions.ok()) return permissions.status();
  for (const quay::RepositoryPermission& p : *permissions) {
    if (p.grantee == grantee) {
      Json j;
      WritePermission(j, p);
      Reply(ex.res, 200, j);
      return Status::Ok();
    }
  }
  return Status::NotFound(quay::Subject::kNone, "Not Found");
}

Status Put(ApiExchange& ex, const Grantee& grantee) {
  auto text = RequireString(ex.body, "role");
  if (!text.ok()) return text.status();
  auto role = quay::ParseRepositoryRole(*text);
  if (!role.ok() || *role == quay::RepositoryRole::kNone) {
    return Status::InvalidArgument(quay::Subject::kNone, "role must be read, write or admin");
  }
  Status set = ex.svc.identity.SetPermission(ex.actor(), ex.Param("repository"), grantee, *role);
  if (!set.ok()) return set;
  Json j;
  WritePermission(j, {grantee, *role});
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status Delete(ApiExchange& ex, const Grantee& grantee) {
  Status removed = ex.svc.identity.RemovePermission(ex.actor(), ex.Param("repository"), grantee);
  if (!removed.ok()) return removed;
  ReplyEmpty(ex.res, 204);
  return Status::Ok();
}

}  // namespace

Status HandleListUserPermissions(ApiExchange& ex) { return ListBy(ex, false); }
Status HandleListTeamPermissions(ApiExchange& ex) { return ListBy(ex, true); }
Status HandleGetUserPermission(ApiExchange& ex) {
  return GetOne(ex, UserGrantee(ex.Param("username")));
}
Status HandlePutUserPermission(ApiExchange& ex) {
  return Put(ex, UserGrantee(ex.Param("username")));
}
Status HandleDeleteUserPermission(ApiExchange& ex) {
  return Delete(ex, UserGrantee(ex.Param("username")));
}
Status HandleGetTeamPermission(ApiExchange& ex) {
  return GetOne(ex, Grantee::Team(std::string(ex.Param("teamname"))));
}
Status HandlePutTeamPermission(ApiExchange& ex) {
  return Put(ex, Grantee::Team(std::string(ex.Param("teamname"))));
}
Status HandleDeleteTeamPermission(ApiExchange& ex) {
  return Delete(ex, Grantee::Team(std::string(ex.Param("teamname"))));
}

}  // namespace quayd
