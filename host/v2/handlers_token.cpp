// GET /v2/auth: Docker's token endpoint (reference/quay-api.md 2.6).
//
//   GET /v2/auth?service=<service>&scope=repository:ns/app:pull,push&scope=...
//   Authorization: Basic <user:password | user:app-token | ns+robot:token |
//                         $app:app-token | $oauthtoken:oauth-token>   (optional)
//
// 200 {"token","access_token","expires_in","issued_at"} with the actions the
// principal may do (others dropped silently); 401 for wrong credentials, for
// no credentials and no scope (Quay), and for anonymous requests when
// FEATURE_ANONYMOUS_ACCESS is off; 400 for a malformed scope; 429 with
// Retry-After while the failed-login back-off holds.

#include <httplib.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "host/auth/auth_parsing.h"
#include "host/auth/registry_auth.h"
#include "host/obs/access_log.h"
#include "host/route/errors.h"
#include "host/v2/handlers.h"

namespace quayd {
namespace {

std::vector<std::string> ScopeParams(const httplib::Request& req) {
  std::vector<std::string> values;
  auto range = req.params.equal_range("scope");
  for (auto it = range.first; it != range.second; ++it) values.push_back(it->second);
  return values;
}

std::string TokenJson(const IssuedToken& issued) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("token");
  w.String(issued.token.data(), static_cast<rapidjson::SizeType>(issued.token.size()));
  // Docker's OAuth2-flavoured clients read access_token.
  w.Key("access_token");
  w.String(issued.token.data(), static_cast<rapidjson::SizeType>(issued.token.size()));
  w.Key("expires_in");
  w.Int64(issued.expires_in);
  w.Key("issued_at");
  w.String(issued.issued_at.data(), static_cast<rapidjson::SizeType>(issued.issued_at.size()));
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

quay::Status BadCredentials() {
  return quay::Status::Unauthenticated("invalid username or password");
}

}  // namespace

quay::Status HandleToken(Exchange& ex) {
  if (ex.auth == nullptr) {
    return quay::Status::NotFound(quay::Subject::kNone, "token authentication is not enabled");
  }
  RegistryAuth& auth = *ex.auth;
  const std::string host = ex.req.get_header_value("Host");

  quay::Result<std::vector<RequestedScope>> scopes =
      ParseScopes(ScopeParams(ex.req), auth.Service(host));
  if (!scopes.ok()) return scopes.status();

  quay::Result<Credentials> credentials =
      ParseAuthorization(ex.req.get_header_value("Authorization"));
  if (!credentials.ok()) return BadCredentials();

  quay::Actor actor;
  actor.ip = ClientAddressOf(ex);
  actor.request_id = CurrentRequest().id;

  if (credentials->kind == Credentials::Kind::kBasic ||
      credentials->kind == Credentials::Kind::kBearer) {
    // A Bearer here is an OAuth access token (Quay's process_oauth).
    const bool basic = credentials->kind == Credentials::Kind::kBasic;
    const std::string username = basic ? credentials->username : std::string("$oauthtoken");
    quay::LoginAttempt attempt;
    attempt.method =
        basic ? quay::LoginAttempt::Method::kBasic : quay::LoginAttempt::Method::kOAuthToken;
    attempt.username = username;
    attempt.secret = credentials->secret;
    attempt.address = actor.ip;
    quay::LoginResult login = auth.identity().Login(attempt, &auth.throttle());
    if (login.throttled()) {
      ex.logger.Log(
          quay::LogLevel::kWarn, "auth", "login throttled",
          {{"remote", actor.ip}, {"retry_after_s", std::to_string(login.retry_after.count())}});
      WriteTooManyRequests(ex.res, login.retry_after);
      return quay::Status::Ok();
    }
    if (!login.principal.ok()) {
      if (login.principal.status().code() != quay::Code::kUnauthenticated) {
        return login.principal.status();
      }
      auth.RecordLogin(actor, false, username, ex.req.get_header_value("User-Agent"));
      ex.logger.Log(quay::LogLevel::kInfo, "auth", "login failed", {{"remote", actor.ip}});
      return BadCredentials();
    }
    actor.principal = std::move(login.principal).value();
    auth.RecordLogin(actor, true, username, ex.req.get_header_value("User-Agent"));
  } else {
    if (scopes->empty()) return quay::Status::Unauthenticated("authentication required");
    if (!auth.options().anonymous_access) {
      return quay::Status::Unauthenticated("anonymous access is disabled");
    }
  }

  quay::Result<IssuedToken> issued = auth.Issue(actor, *scopes, auth.Service(host));
  if (!issued.ok()) return issued.status();
  ex.res.status = 200;
  ex.res.set_header("Cache-Control", "no-store");
  ex.res.set_content(TokenJson(*issued), "application/json");
  return quay::Status::Ok();
}

}  // namespace quayd
