// OAuth applications of an organization, their tokens, public application
// information, and a user's authorized applications.
#include <httplib.h>

#include "host/api/handlers.h"
#include "host/api/json.h"
#include "host/api/views.h"

namespace quayd {
namespace {

using quay::Status;

void WriteApp(Json& j, const quay::OAuthApplication& a, bool with_secret) {
  j.Object().Field("name", a.name).Field("description", a.description);
  j.Field("application_uri", a.application_uri).Field("client_id", a.client_id);
  if (with_secret) j.Field("client_secret", a.client_secret);
  j.Field("redirect_uri", a.redirect_uri).Field("avatar_email", a.avatar_email);
  j.End();
}

void WriteToken(Json& j, const quay::OAuthToken& t, std::string_view secret) {
  j.Object().Field("uuid", t.id).Field("user", t.user).Field("scope", t.scopes.ToString());
  j.Field("created", Rfc2822(t.created_at));
  if (t.expires_at)
    j.Field("expires_at", Rfc2822(*t.expires_at));
  else
    j.NullField("expires_at");
  if (!secret.empty()) j.Field("access_token", secret);
  j.End();
}

quay::OAuthApplicationSpec SpecFrom(const rapidjson::Value& body,
                                    const quay::OAuthApplication* old) {
  quay::OAuthApplicationSpec spec;
  if (old != nullptr) {
    spec = {old->name, old->description, old->application_uri, old->redirect_uri,
            old->avatar_email};
  }
  if (auto v = OptString(body, "name")) spec.name = *v;
  if (auto v = OptString(body, "description")) spec.description = *v;
  if (auto v = OptString(body, "application_uri")) spec.application_uri = *v;
  if (auto v = OptString(body, "redirect_uri")) spec.redirect_uri = *v;
  if (auto v = OptString(body, "avatar_email")) spec.avatar_email = *v;
  return spec;
}

// The application of the path, when it belongs to the path's organization
// (another org's client id is NotFound, not a leak).
quay::Result<quay::OAuthApplication> AppOf(ApiExchange& ex) {
  auto app = ex.svc.identity.applications().GetApplication(ex.Param("client_id"));
  if (!app.ok() || app->organization != ex.Param("orgname")) {
    return Status::NotFound(quay::Subject::kNone, "Not Found");
  }
  return app;
}

void WriteAuthorized(Json& j, const quay::AuthorizedApplication& a) {
  j.Object().Field("uuid", a.client_id).Field("scopes", a.scopes.ToString());
  j.Key("application").Object().Field("name", a.name).Field("clientId", a.client_id);
  j.Field("description", a.description).Field("url", a.application_uri);
  j.Key("organization").Object().Field("name", a.organization);
  WriteAvatar(j, a.organization, "org");
  j.End().End().End();
}

}  // namespace

Status HandleListApplications(ApiExchange& ex) {
  auto apps = ex.svc.identity.applications().ListApplications(ex.Param("orgname"));
  if (!apps.ok()) return apps.status();
  Json j;
  j.Object().Key("applications").Array();
  for (const auto& a : *apps) WriteApp(j, a, true);
  j.EndArray().End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleCreateApplication(ApiExchange& ex) {
  auto spec = SpecFrom(ex.body, nullptr);
  if (spec.name.empty()) {
    return Status::InvalidArgument(quay::Subject::kNone, "'name' is a required property");
  }
  auto app =
      ex.svc.identity.applications().CreateApplication(ex.actor(), ex.Param("orgname"), spec);
  if (!app.ok()) return app.status();
  Json j;
  WriteApp(j, *app, true);
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleGetApplication(ApiExchange& ex) {
  auto app = AppOf(ex);
  if (!app.ok()) return app.status();
  Json j;
  WriteApp(j, *app, true);
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleUpdateApplication(ApiExchange& ex) {
  auto app = AppOf(ex);
  if (!app.ok()) return app.status();
  auto updated = ex.svc.identity.applications().UpdateApplication(ex.actor(), app->client_id,
                                                                  SpecFrom(ex.body, &*app));
  if (!updated.ok()) return updated.status();
  Json j;
  WriteApp(j, *updated, true);
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleDeleteApplication(ApiExchange& ex) {
  auto app = AppOf(ex);
  if (!app.ok()) return app.status();
  if (Status s = ex.svc.identity.applications().DeleteApplication(ex.actor(), app->client_id);
      !s.ok()) {
    return s;
  }
  ReplyEmpty(ex.res, 204);
  return Status::Ok();
}

Status HandleResetClientSecret(ApiExchange& ex) {
  auto app = AppOf(ex);
  if (!app.ok()) return app.status();
  auto reset = ex.svc.identity.applications().ResetClientSecret(ex.actor(), app->client_id);
  if (!reset.ok()) return reset.status();
  Json j;
  WriteApp(j, *reset, true);
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleApplicationInformation(ApiExchange& ex) {
  auto app = ex.svc.identity.applications().GetApplication(ex.Param("client_id"));
  if (!app.ok()) return Status::NotFound(quay::Subject::kNone, "Not Found");
  Json j;
  j.Object().Field("name", app->name).Field("description", app->description);
  j.Field("uri", app->application_uri);
  WriteAvatar(j, app->name, "app");
  j.Key("organization").Object().Field("name", app->organization);
  WriteAvatar(j, app->organization, "org");
  j.End().End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleListApplicationTokens(ApiExchange& ex) {
  auto app = AppOf(ex);
  if (!app.ok()) return app.status();
  const std::string binding = "apptokens\n" + app->client_id + "\n" + ex.principal.name + "\n";
  auto cursor = PageCursor(ex, binding);
  if (!cursor.ok()) return cursor.status();
  const std::string after = *cursor;
  auto page = ex.svc.identity.applications().ListApplicationTokens(app->client_id, 50, after);
  if (!page.ok()) return page.status();
  Json j;
  j.Object().Key("tokens").Array();
  for (const auto& t : page->items) WriteToken(j, t, {});
  j.EndArray();
  if (page->more && !page->items.empty()) {
    j.Field("next_page", NextPage(ex, binding, page->items.back().id));
  }
  j.End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleCreateApplicationToken(ApiExchange& ex) {
  auto app = AppOf(ex);
  if (!app.ok()) return app.status();
  if (ex.UserName().empty()) return Status::Denied("only users may hold OAuth tokens");
  auto scopes = quay::ScopeSet::Parse(OptString(ex.body, "scope").value_or(""));
  if (!scopes.ok()) return scopes.status();
  if (scopes->empty()) return Status::InvalidArgument(quay::Subject::kNone, "'scope' is required");
  quay::Actor actor = ex.actor();
  actor.principal.name = std::string(ex.UserName());
  auto token =
      ex.svc.identity.applications().CreateApplicationToken(actor, app->client_id, *scopes);
  if (!token.ok()) return token.status();
  Json j;
  j.Object().Key("token");
  WriteToken(j, token->token, token->secret);
  j.End();
  Reply(ex.res, 201, j);
  return Status::Ok();
}

Status HandleDeleteApplicationToken(ApiExchange& ex) {
  auto app = AppOf(ex);
  if (!app.ok()) return app.status();
  if (Status s = ex.svc.identity.applications().RevokeApplicationToken(ex.actor(), app->client_id,
                                                                       ex.Param("token_uuid"));
      !s.ok()) {
    return s;
  }
  ReplyEmpty(ex.res, 204);
  return Status::Ok();
}

Status HandleListAuthorizations(ApiExchange& ex) {
  auto apps = ex.svc.identity.applications().ListAuthorizedApplications(ex.UserName());
  if (!apps.ok()) return apps.status();
  Json j;
  j.Object().Key("authorizations").Array();
  for (const auto& a : *apps) WriteAuthorized(j, a);
  j.EndArray().End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleGetAuthorization(ApiExchange& ex) {
  auto apps = ex.svc.identity.applications().ListAuthorizedApplications(ex.UserName());
  if (!apps.ok()) return apps.status();
  for (const auto& a : *apps) {
    if (a.client_id == ex.Param("access_token_uuid")) {
      Json j;
      WriteAuthorized(j, a);
      Reply(ex.res, 200, j);
      return Status::Ok();
    }
  }
  return Status::NotFound(quay::Subject::kNone, "Not Found");
}

Status HandleDeleteAuthorization(ApiExchange& ex) {
  if (Status s = ex.svc.identity.applications().RevokeAuthorizedApplication(
          ex.actor(), ex.UserName(), ex.Param("access_token_uuid"));
      !s.ok()) {
    return s;
  }
  ReplyEmpty(ex.res, 204);
  return Status::Ok();
}

// FEATURE_ASSIGN_OAUTH_TOKEN: what org admins assigned to the user, pending.
Status HandleListAssignedAuthorizations(ApiExchange& ex) {
  auto assigned = ex.svc.identity.applications().ListAssignedAuthorizations(ex.UserName());
  if (!assigned.ok()) return assigned.status();
  Json j;
  j.Object().Key("authorizations").Array();
  for (const quay::AssignedAuthorization& a : *assigned) {
    j.Object().Key("application").Object();
    j.Field("name", a.application.name).Field("clientId", a.application.client_id);
    j.Field("description", a.application.description).Field("url", a.application.application_uri);
    WriteAvatar(j, a.application.name, "app");
    j.Key("organization").Object().Field("name", a.application.organization);
    WriteAvatar(j, a.application.organization, "org");
    j.End().End();
    j.Field("uuid", a.uuid).Field("redirectUri", a.redirect_uri);
    j.Field("scopes", a.scopes.ToString()).Field("responseType", a.response_type).End();
  }
  j.EndArray().End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleDeleteAssignedAuthorization(ApiExchange& ex) {
  if (Status s = ex.svc.identity.applications().DeleteAssignedAuthorization(
          ex.UserName(), ex.Param("assigned_authorization_uuid"));
      !s.ok()) {
    return s.code() == quay::Code::kNotFound ? Status::NotFound(quay::Subject::kNone, "Not Found")
                                             : s;
  }
  ReplyEmpty(ex.res, 204);
  return Status::Ok();
}

}  // namespace quayd
