// Robot accounts of the signed-in user (/user/robots) and of organizations
// (/organization/{orgname}/robots): one set of handlers, the namespace
// taken from the path or the principal.
#include <httplib.h>

#include "host/api/handlers.h"
#include "host/api/json.h"

namespace quayd {
namespace {

using quay::Status;

std::string Namespace(const ApiExchange& ex) {
  std::string_view org = ex.Param("orgname");
  return std::string(org.empty() ? ex.UserName() : org);
}

std::string RobotName(const ApiExchange& ex) {
  return Namespace(ex) + "+" + std::string(ex.Param("robot_shortname"));
}

// The token is stored only as a hash: it appears in the answers of create
// and regenerate, never again (Quay shows it on every GET; docs/api.md).
void WriteRobot(Json& j, const quay::Robot& r, std::string_view token) {
  j.Object().Field("name", r.name).Field("description", r.description);
  j.Field("created", Rfc2822(r.created_at)).NullField("last_accessed");
  j.Key("unstructured_metadata").Object().End();
  if (!token.empty()) j.Field("token", token);
  j.End();
}

}  // namespace

Status HandleListRobots(ApiExchange& ex) {
  auto robots = ex.svc.identity.ListRobots(Namespace(ex));
  if (!robots.ok()) return robots.status();
  Json j;
  j.Object().Key("robots").Array();
  for (const quay::Robot& r : *robots) WriteRobot(j, r, {});
  j.EndArray().End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleGetRobot(ApiExchange& ex) {
  auto robot = ex.svc.identity.GetRobot(RobotName(ex));
  if (!robot.ok())
    return Status::NotFound(quay::Subject::kNone, "Could not find robot with specified username");
  Json j;
  WriteRobot(j, *robot, {});
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleCreateRobot(ApiExchange& ex) {
  auto created = ex.svc.identity.CreateRobot(ex.actor(), Namespace(ex), ex.Param("robot_shortname"),
                                             OptString(ex.body, "description").value_or(""));
  if (!created.ok()) {
    if (created.status().code() == quay::Code::kConflict) {
      return Status::InvalidArgument(quay::Subject::kNone,
                                     "Existing robot with name: " + RobotName(ex));
    }
    return created.status();
  }
  Json j;
  WriteRobot(j, created->robot, created->token);
  Reply(ex.res, 201, j);
  return Status::Ok();
}

Status HandleDeleteRobot(ApiExchange& ex) {
  Status deleted = ex.svc.identity.DeleteRobot(ex.actor(), RobotName(ex));
  if (!deleted.ok()) return deleted;
  ReplyEmpty(ex.res, 204);
  return Status::Ok();
}

Status HandleRegenerateRobot(ApiExchange& ex) {
  auto regenerated = ex.svc.identity.RegenerateRobotToken(ex.actor(), RobotName(ex));
  if (!regenerated.ok()) return regenerated.status();
  Json j;
  WriteRobot(j, regenerated->robot, regenerated->token);
  Reply(ex.res, 200, j);
  return Status::Ok();
}

}  // namespace quayd
