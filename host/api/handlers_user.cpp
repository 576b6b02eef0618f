// Sessions (signin, signout), the signed-in user, account creation, the
// first-user bootstrap, public user information and app-specific tokens.
#include <httplib.h>

#include "host/api/handlers.h"
#include "host/api/json.h"
#include "host/api/views.h"

namespace quayd {
namespace {

using quay::Status;

void WriteAppToken(Json& j, const quay::AppToken& t, std::string_view secret) {
  j.Object().Field("uuid", t.id).Field("title", t.title);
  j.Field("created", Rfc2822(t.created_at));
  if (t.last_used_at)
    j.Field("last_accessed", Rfc2822(*t.last_used_at));
  else
    j.NullField("last_accessed");
  if (t.expires_at)
    j.Field("expiration", Rfc2822(*t.expires_at));
  else
    j.NullField("expiration");
  if (!secret.empty()) j.Field("token_code", secret);
  j.End();
}

// Quay's notification_view.
void WriteUserNotification(Json& j, const quay::UserNotification& n) {
  j.Object().Field("id", n.id);
  if (n.organization.empty())
    j.NullField("organization");
  else
    j.Field("organization", n.organization);
  j.Field("kind", n.kind).Field("created", Rfc2822(n.created_at));
  j.Key("metadata").Raw(n.metadata_json).Field("dismissed", n.dismissed).End();
}

// The session names the user and its account's uuid (see SessionCodec).
void StartSession(ApiExchange& ex, const std::string& user, const std::string& account_uuid) {
  Session session = ex.svc.sessions.Start(user, account_uuid, ex.Now());
  ex.res.set_header("Set-Cookie",
                    ex.svc.sessions.SetCookie(session, ex.svc.options.url_scheme == "https"));
  ex.res.set_header("X-Next-CSRF-Token", session.csrf_token);
}

// Past the back-off's limit: 429 with Retry-After (Quay: plain text).
Status ReplyThrottled(ApiExchange& ex, const quay::LoginResult& login) {
  ex.res.status = 429;
  ex.res.set_header("Retry-After", std::to_string(login.retry_after.count()));
  ex.res.set_content("Too many login attempts.", "text/plain");
  return Status::Ok();
}

}  // namespace

Status HandleSignin(ApiExchange& ex) {
  auto username = RequireString(ex.body, "username");
  if (!username.ok()) return username.status();
  auto password = RequireString(ex.body, "password");
  if (!password.ok()) return password.status();
  // The same back-off as /v2/auth: past the limit, 429 with Retry-After
  // whether or not the password is right (Quay: plain text).
  quay::LoginAttempt attempt;
  attempt.method = quay::LoginAttempt::Method::kPassword;
  attempt.username = *username;
  attempt.secret = *password;
  attempt.address = ex.ip;
  quay::LoginResult login = ex.svc.identity.Login(attempt, ex.svc.throttle);
  if (login.throttled()) return ReplyThrottled(ex, login);
  if (!login.principal.ok()) {
    if (login.principal.status().code() != quay::Code::kUnauthenticated) {
      return login.principal.status();
    }
    Json j;
    j.Object().Field("success", false).Field("message", "Invalid username or password");
    j.Field("invalidCredentials", true).End();
    Reply(ex.res, 403, j);
    return Status::Ok();
  }
  StartSession(ex, login.principal->name, login.principal->account_uuid);
  Json j;
  j.Object().Field("success", true).End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

// Re-entering the password renews the session's login time (the fresh
// login the superuser panel and app tokens need). The same back-off as a
// signin; a wrong password is Quay's 403 {"message","invalidCredentials"}.
Status HandleVerifyUser(ApiExchange& ex) {
  auto password = RequireString(ex.body, "password");
  if (!password.ok()) return password.status();
  const std::string username(ex.UserName());
  // The same back-off as signin and /v2/auth (Accounts::Login).
  quay::LoginAttempt attempt;
  attempt.method = quay::LoginAttempt::Method::kPassword;
  attempt.username = username;
  attempt.secret = *password;
  attempt.address = ex.ip;
  quay::LoginResult login = ex.svc.identity.Login(attempt, ex.svc.throttle);
  if (login.throttled()) return ReplyThrottled(ex, login);
  const quay::Result<quay::Principal>& who = login.principal;
  if (!who.ok() && who.status().code() != quay::Code::kUnauthenticated) return who.status();
  if (!who.ok()) {
    Json j;
    j.Object().Field("message", "Invalid password").Field("invalidCredentials", true).End();
    Reply(ex.res, 403, j);
    return Status::Ok();
  }
  StartSession(ex, username, who->account_uuid);
  Json j;
  j.Object().Field("success", true).End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleSignout(ApiExchange& ex) {
  ex.res.set_header("Set-Cookie", SessionCodec::ClearCookie());
  Json j;
  j.Object().Field("success", true).End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleGetUser(ApiExchange& ex) {
  std::string_view name = ex.UserName();
  if (name.empty()) {
    if (ex.principal.kind == quay::Principal::Kind::kRobot) {
      return Status::Denied("robots have no user information");
    }
    Json j;
    j.Object().Field("anonymous", true).End();
    Reply(ex.res, 200, j);
    return Status::Ok();
  }
  if (!ex.principal.scopes.Has(quay::Scope::kUserRead) &&
      !ex.principal.scopes.Has(quay::Scope::kUserAdmin)) {
    return Status::Denied("the token lacks the user:read scope");
  }
  quay::Result<quay::User> user = ex.svc.identity.GetUser(name);
  if (!user.ok()) return user.status();
  const quay::SuperuserKind su = ex.svc.identity.SuperuserOf(name);
  Json j;
  j.Object().Field("anonymous", false).Field("username", user->name);
  j.Field("email", user->email).Field("verified", true).Field("is_me", true);
  j.Field("kind", "user").Field("can_create_repo", true);
  j.Field("super_user",
          su == quay::SuperuserKind::kPlain || su == quay::SuperuserKind::kFullAccess);
  j.Field("global_readonly_super_user", su == quay::SuperuserKind::kGlobalReadOnly);
  j.Field("enabled", user->enabled).Field("created", Rfc2822(user->created_at));
  WriteAvatar(j, user->name, "user");
  j.Key("organizations").Array();
  if (auto orgs = ex.svc.identity.OrganizationsOf(user->name); orgs.ok()) {
    for (const quay::OrganizationMembership& m : *orgs) {
      j.Object().Field("name", m.organization).Field("is_org_admin", m.is_admin);
      j.Field("can_create_repo", true);
      WriteAvatar(j, m.organization, "org");
      j.End();
    }
  }
  j.EndArray();
  j.Key("logins").Array().EndArray();
  j.Key("prompts").Array().EndArray();
  j.End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleCreateUser(ApiExchange& ex) {
  auto username = RequireString(ex.body, "username");
  if (!username.ok()) return username.status();
  auto password = RequireString(ex.body, "password");
  if (!password.ok()) return password.status();
  const std::string email = OptString(ex.body, "email").value_or("");
  quay::Result<quay::User> user =
      ex.svc.identity.CreateUser(ex.actor(), *username, email, *password);
  if (!user.ok()) return user.status();
  StartSession(ex, user->name, user->id);
  Json j;
  j.Object().Field("awaiting_verification", false).End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

// FEATURE_USER_INITIALIZE: only while no user exists; with "access_token":
// true the answer carries an OAuth token with every scope for the new user.
Status HandleInitializeUser(ApiExchange& ex) {
  auto username = RequireString(ex.body, "username");
  if (!username.ok()) return username.status();
  auto password = RequireString(ex.body, "password");
  if (!password.ok()) return password.status();
  const std::string email = OptString(ex.body, "email").value_or("");
  // Atomic in the library: only while no user exists.
  quay::Result<quay::User> user =
      ex.svc.identity.CreateFirstUser(ex.actor(), *username, email, *password);
  if (!user.ok()) {
    if (user.status().code() == quay::Code::kConflict ||
        user.status().code() == quay::Code::kDenied) {
      return Status::InvalidArgument(quay::Subject::kNone,
                                     "Cannot initialize user in a non-empty database");
    }
    return user.status();
  }
  Json j;
  j.Object().Field("username", user->name).Field("email", user->email);
  j.NullField("encrypted_password");
  if (OptBool(ex.body, "access_token").value_or(false)) {
    quay::Actor actor = ex.actor();
    actor.principal = quay::Principal::User(user->name);
    auto token = ex.svc.identity.IssueOAuthToken(actor, user->name, "quayd-initialize",
                                                 quay::ScopeSet::All());
    if (!token.ok()) return token.status();
    j.Field("access_token", token->secret);
  }
  j.End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleUserInformation(ApiExchange& ex) {
  quay::Result<quay::User> user = ex.svc.identity.GetUser(ex.Param("username"));
  if (!user.ok()) return Status::NotFound(quay::Subject::kNone, "Not Found");
  Json j;
  j.Object().Field("username", user->name).Field("kind", "user").Field("is_robot", false);
  WriteAvatar(j, user->name, "user");
  j.End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

// `limit` (default 5, as Quay; at most 100) and a sealed next_page; Quay's
// offset `page` is served for the first page only (docs/api.md).
Status HandleListUserNotifications(ApiExchange& ex) {
  if (std::string page = ex.Query("page"); !page.empty() && page != "0" && page != "1") {
    return Status::InvalidArgument(quay::Subject::kNone,
                                   "page past the first is not served: use next_page");
  }
  int64_t limit = 5;
  if (std::string text = ex.Query("limit"); !text.empty()) {
    char* end = nullptr;
    limit = std::strtoll(text.c_str(), &end, 10);
    if (end == text.c_str() || *end != '\0' || limit < 1) {
      return Status::InvalidArgument(quay::Subject::kNone, "limit must be a positive integer");
    }
  }
  const std::string binding = std::string("user-notifications\n")
                                  .append(ex.UserName())
                                  .append("\n")
                                  .append(std::to_string(limit))
                                  .append("\n");
  auto after = PageCursor(ex, binding);
  if (!after.ok()) return after.status();
  auto page =
      ex.svc.identity.ListUserNotifications(ex.UserName(), static_cast<size_t>(limit), *after);
  if (!page.ok()) return page.status();
  Json j;
  j.Object().Key("notifications").Array();
  for (const quay::UserNotification& n : page->notifications) WriteUserNotification(j, n);
  j.EndArray().Field("additional", page->more);
  if (page->more) j.Field("next_page", NextPage(ex, binding, page->next_cursor));
  j.End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleGetUserNotification(ApiExchange& ex) {
  auto n = ex.svc.identity.GetUserNotification(ex.UserName(), ex.Param("uuid"));
  if (!n.ok()) return n.status();
  Json j;
  WriteUserNotification(j, *n);
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleUpdateUserNotification(ApiExchange& ex) {
  const bool dismissed = OptBool(ex.body, "dismissed").value_or(false);
  auto n = ex.svc.identity.SetUserNotificationDismissed(ex.UserName(), ex.Param("uuid"), dismissed);
  if (!n.ok()) return n.status();
  Json j;
  WriteUserNotification(j, *n);
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleListAppTokens(ApiExchange& ex) {
  auto tokens = ex.svc.identity.ListAppTokens(ex.UserName());
  if (!tokens.ok()) return tokens.status();
  Json j;
  j.Object().Key("tokens").Array();
  for (const quay::AppToken& t : *tokens) WriteAppToken(j, t, {});
  j.EndArray().End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleCreateAppToken(ApiExchange& ex) {
  auto title = RequireString(ex.body, "title");
  if (!title.ok()) return title.status();
  auto issued = ex.svc.identity.CreateAppToken(ex.actor(), ex.UserName(), *title);
  if (!issued.ok()) return issued.status();
  Json j;
  j.Object().Key("token");
  WriteAppToken(j, issued->token, issued->secret);
  j.End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

// The secret is stored only as a hash: an individual GET cannot show it
// again (Quay can; docs/api.md).
Status HandleGetAppToken(ApiExchange& ex) {
  auto tokens = ex.svc.identity.ListAppTokens(ex.UserName());
  if (!tokens.ok()) return tokens.status();
  for (const quay::AppToken& t : *tokens) {
    if (t.id == ex.Param("token_uuid")) {
      Json j;
      j.Object().Key("token");
      WriteAppToken(j, t, {});
      j.End();
      Reply(ex.res, 200, j);
      return Status::Ok();
    }
  }
  return Status::NotFound(quay::Subject::kNone, "Not Found");
}

Status HandleRevokeAppToken(ApiExchange& ex) {
  Status revoked =
      ex.svc.identity.RevokeAppToken(ex.actor(), ex.UserName(), ex.Param("token_uuid"));
  if (!revoked.ok()) return revoked;
  ReplyEmpty(ex.res, 204);
  return Status::Ok();
}

}  // namespace quayd
