// Global (banner) messages: anyone reads them, superusers post and delete
// them (Quay's endpoints/api/globalmessages.py). Quay writes no audit kind
// for them.
#include <httplib.h>

#include "host/api/handlers.h"
#include "host/api/json.h"

namespace quayd {

using quay::Status;

Status HandleListMessages(ApiExchange& ex) {
  auto messages = ex.svc.identity.messages().ListMessages();
  if (!messages.ok()) return messages.status();
  Json j;
  j.Object().Key("messages").Array();
  for (const quay::GlobalMessage& m : *messages) {
    j.Object().Field("uuid", m.uuid).Field("content", m.content);
    j.Field("severity", m.severity).Field("media_type", m.media_type).End();
  }
  j.EndArray().End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

// Body {"message": {"content", "media_type", "severity"}}; 201 without a
// body, as Quay.
Status HandleCreateMessage(ApiExchange& ex) {
  if (!ex.body.IsObject() || !ex.body.HasMember("message") || !ex.body["message"].IsObject()) {
    return Status::InvalidArgument(quay::Subject::kNone, "'message' is a required property");
  }
  const rapidjson::Value& message = ex.body["message"];
  auto content = RequireString(message, "content");
  if (!content.ok()) return content.status();
  auto media_type = RequireString(message, "media_type");
  if (!media_type.ok()) return media_type.status();
  auto severity = RequireString(message, "severity");
  if (!severity.ok()) return severity.status();
  auto created = ex.svc.identity.messages().CreateMessage(*severity, *media_type, *content);
  if (!created.ok()) return created.status();
  ReplyEmpty(ex.res, 201);
  return Status::Ok();
}

Status HandleDeleteMessage(ApiExchange& ex) {
  if (Status s = ex.svc.identity.messages().DeleteMessage(ex.Param("uuid")); !s.ok()) return s;
  ReplyEmpty(ex.res, 204);
  return Status::Ok();
}

}  // namespace quayd
