// Quay's OAuth 2 server (/oauth): the authorization-code and implicit grants
// (RFC 6749 4.1 and 4.2) for organization-owned applications.
//
// GET /oauth/authorize needs a signed-in browser session. The redirect URI
// must equal the application's registered one exactly; when it does not (or
// the client is unknown) the error is shown here and nothing is redirected
// (RFC 6749 4.1.2.1). When the user's live tokens for the application
// already carry every requested scope the grant goes straight through;
// otherwise a consent page posts to /oauth/authorizeapp or /oauth/denyapp
// with the session's CSRF token. Codes are single-use, bound to client and
// redirect URI and expire after 10 minutes (the library's rules).
#include <httplib.h>

#include "host/api/handlers.h"
#include "host/api/json.h"
#include "host/route/errors.h"

namespace quayd {
namespace {

using quay::Status;

std::string UrlEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Standard base64 (RFC 4648 section 4), as in Basic credentials; stops at
// the first character outside the alphabet.
std::string Base64Decode(std::string_view in) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const size_t v = kAlphabet.find(c);
    if (v == std::string::npos) break;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::string Html(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// The request's grant parameters: the query of GET /oauth/authorize, the
// form of the POSTs.
struct GrantRequest {
  std::string client_id, redirect_uri, scope, response_type, state;
};

GrantRequest ReadGrant(const ApiExchange& ex, bool form) {
  auto get = [&](const char* k) { return form ? ex.Form(k) : ex.Query(k); };
  return {get("client_id"), get("redirect_uri"), get("scope"), get("response_type"), get("state")};
}

// What a scope lets the application do, in words, for the consent page.
std::string_view ScopeMeaning(std::string_view scope) {
  if (scope == "repo:read") return "read the repositories you can read";
  if (scope == "repo:write") return "push to the repositories you can push to";
  if (scope == "repo:admin") return "administer the repositories you administer";
  if (scope == "repo:create") return "create repositories in your namespaces";
  if (scope == "user:read") return "read your user information";
  if (scope == "user:admin") return "change your account";
  if (scope == "org:admin") return "administer the organizations you administer";
  if (scope == "super:user") return "act as you with superuser rights";
  return "";
}

void Page(httplib::Response& res, int status, const std::string& title, const std::string& body) {
  res.status = status;
  res.headers.erase("Content-Length");
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Frame-Options", "DENY");
  // Styled by the web UI's stylesheet (host/web, its unhashed name); no
  // script. form-action stays open: the consent form's answer redirects to
  // the client's redirect URI, which CSP checks as a form target.
  res.set_header("Content-Security-Policy",
                 "default-src 'none'; style-src 'self'; img-src 'self'; form-action *; "
                 "frame-ancestors 'none'; base-uri 'none'");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_content(
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
      "content=\"width=device-width, initial-scale=1\"><title>" +
          Html(title) +
          " · quayd</title><link rel=\"icon\" href=\"/static/favicon.svg\" "
          "type=\"image/svg+xml\"><link rel=\"stylesheet\" href=\"/static/app.css\"></head>"
          "<body class=\"consent\"><header class=\"top\"><a class=\"brand\" "
          "href=\"/\">quayd</a></header>" +
          body + "</body></html>",
      "text/html; charset=utf-8");
}

void Redirect(httplib::Response& res, const std::string& location) {
  res.status = 302;
  res.set_header("Location", location);
  res.set_header("Cache-Control", "no-store");
}

// redirect_uri + ("?" or "#") + params (+ state).
std::string Back(const GrantRequest& g, bool fragment,
                 std::initializer_list<std::pair<std::string_view, std::string>> params) {
  std::string out = g.redirect_uri;
  out += fragment ? '#' : (g.redirect_uri.find('?') == std::string::npos ? '?' : '&');
  bool first = true;
  for (const auto& [k, v] : params) {
    if (!first) out += '&';
    first = false;
    out += std::string(k) + "=" + UrlEncode(v);
  }
  if (!g.state.empty()) out += "&state=" + UrlEncode(g.state);
  return out;
}

// Client, redirect URI and response type checks shared by the three
// browser endpoints. Errors here are shown, never redirected.
quay::Result<quay::OAuthApplication> CheckClient(ApiExchange& ex, const GrantRequest& g) {
  auto app = ex.svc.identity.applications().GetApplication(g.client_id);
  if (!app.ok()) return Status::InvalidArgument(quay::Subject::kNone, "Invalid client_id");
  if (g.redirect_uri.empty() || g.redirect_uri != app->redirect_uri) {
    return Status::InvalidArgument(quay::Subject::kNone,
                                   "The redirect_uri does not match the application's");
  }
  if (g.response_type != "code" && g.response_type != "token") {
    return Status::InvalidArgument(quay::Subject::kNone, "response_type must be code or token");
  }
  return app;
}

// Issues the code or token and redirects back to the client.
Status Approve(ApiExchange& ex, const GrantRequest& g, quay::ScopeSet scopes) {
  const std::string user(ex.UserName());
  if (g.response_type == "code") {
    auto code = ex.svc.identity.applications().IssueAuthorizationCode(ex.actor(), g.client_id, user,
                                                                      scopes, g.redirect_uri);
    if (!code.ok()) return code.status();
    Redirect(ex.res, Back(g, false, {{"code", *code}}));
    return Status::Ok();
  }
  auto token =
      ex.svc.identity.IssueOAuthToken(ex.actor(), user, quay::OAuthClientId{g.client_id}, scopes);
  if (!token.ok()) return token.status();
  int64_t expires_in = 0;
  if (token->token.expires_at) {
    expires_in = Seconds(*token->token.expires_at) - ex.Now();
  }
  Redirect(ex.res, Back(g, true,
                        {{"access_token", token->secret},
                         {"token_type", "Bearer"},
                         {"expires_in", std::to_string(expires_in)},
                         {"scope", scopes.ToString()}}));
  return Status::Ok();
}

Status ShowError(ApiExchange& ex, int status, const std::string& message) {
  Page(ex.res, status, "Authorization failed",
       "<main><h1>Authorization failed</h1><p role=\"alert\">" + Html(message) + "</p></main>");
  return Status::Ok();
}

}  // namespace

Status HandleOAuthAuthorize(ApiExchange& ex) {
  const GrantRequest g = ReadGrant(ex, false);
  auto app = CheckClient(ex, g);
  if (!app.ok()) return ShowError(ex, 400, app.status().message());
  auto scopes = quay::ScopeSet::Parse(g.scope);
  if (!scopes.ok() || scopes->empty()) {
    Redirect(ex.res, Back(g, g.response_type == "token", {{"error", "invalid_scope"}}));
    return Status::Ok();
  }
  if (ex.UserName().empty() || !ex.session) {
    Page(ex.res, 401, "Sign in to authorize",
         "<main><h1>Sign in first</h1><p role=\"alert\">Sign in to quayd first, then open this "
         "link again.</p><p><a href=\"/signin?next=" +
             Html(UrlEncode(ex.req.target)) + "\">Sign in and come back here</a></p></main>");
    return Status::Ok();
  }
  auto granted =
      ex.svc.identity.applications().HasGrantedScopes(ex.UserName(), g.client_id, *scopes);
  if (granted.ok() && *granted) return Approve(ex, g, *scopes);

  auto hidden = [](const char* name, const std::string& value) {
    return std::string("<input type=\"hidden\" name=\"") + name + "\" value=\"" + Html(value) +
           "\">";
  };
  std::string fields = hidden("client_id", g.client_id) + hidden("redirect_uri", g.redirect_uri) +
                       hidden("scope", scopes->ToString()) +
                       hidden("response_type", g.response_type) + hidden("state", g.state) +
                       hidden("_csrf_token", ex.session->csrf_token);
  std::string list;
  const std::string scope_text = scopes->ToString();
  for (std::string_view rest = scope_text; !rest.empty();) {
    size_t sp = rest.find(' ');
    const std::string scope(rest.substr(0, sp));
    list += "<li><code>" + Html(scope) + "</code> " + std::string(ScopeMeaning(scope)) + "</li>";
    rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
  }
  Page(ex.res, 200, "Authorize " + app->name,
       "<main><h1>Authorize " + Html(app->name) + "</h1><div class=\"card\"><p>" + Html(app->name) +
           " (organization " + Html(app->organization) + ") asks to act as <strong>" +
           Html(std::string(ex.UserName())) +
           "</strong> with these scopes:</p><ul class=\"scopes\">" + list +
           "</ul><p class=\"muted\">It will be sent back to " + Html(g.redirect_uri) +
           "</p><div class=\"actions\"><form method=\"post\" action=\"/oauth/denyapp\">" + fields +
           "<button type=\"submit\">Cancel</button></form><form method=\"post\" "
           "action=\"/oauth/authorizeapp\">" +
           fields +
           "<button type=\"submit\" class=\"primary\">Authorize application</button></form>"
           "</div></div></main>");
  return Status::Ok();
}

Status HandleOAuthAuthorizeApp(ApiExchange& ex) {
  const GrantRequest g = ReadGrant(ex, true);
  auto app = CheckClient(ex, g);
  if (!app.ok()) return ShowError(ex, 400, app.status().message());
  auto scopes = quay::ScopeSet::Parse(g.scope);
  if (!scopes.ok() || scopes->empty()) {
    Redirect(ex.res, Back(g, g.response_type == "token", {{"error", "invalid_scope"}}));
    return Status::Ok();
  }
  if (!ex.session || ex.UserName().empty()) return ShowError(ex, 401, "Sign in first.");
  return Approve(ex, g, *scopes);
}

Status HandleOAuthDenyApp(ApiExchange& ex) {
  const GrantRequest g = ReadGrant(ex, true);
  auto app = CheckClient(ex, g);
  if (!app.ok()) return ShowError(ex, 400, app.status().message());
  Redirect(ex.res, Back(g, g.response_type == "token", {{"error", "access_denied"}}));
  return Status::Ok();
}

// RFC 6749 4.1.3: grant_type=authorization_code, code, redirect_uri, and the
// client's credentials in the form or in Basic.
Status HandleOAuthAccessToken(ApiExchange& ex) {
  std::string client_id = ex.Form("client_id");
  std::string client_secret = ex.Form("client_secret");
  const std::string authorization = ex.req.get_header_value("Authorization");
  if (authorization.starts_with("Basic ")) {
    const std::string decoded = Base64Decode(authorization.substr(6));
    const size_t colon = decoded.find(':');
    if (colon != std::string::npos) {
      client_id = httplib::detail::decode_url(decoded.substr(0, colon), true);
      client_secret = httplib::detail::decode_url(decoded.substr(colon + 1), true);
    }
  }
  const std::string grant_type = ex.Form("grant_type");
  if (grant_type.empty() || ex.Form("code").empty()) {
    WriteOAuthError(ex.res, 400, "invalid_request", "grant_type and code are required");
    return Status::Ok();
  }
  if (grant_type != "authorization_code") {
    WriteOAuthError(ex.res, 400, "unsupported_grant_type", "only authorization_code is supported");
    return Status::Ok();
  }
  auto token = ex.svc.identity.applications().ExchangeAuthorizationCode(
      client_id, client_secret, ex.Form("code"), ex.Form("redirect_uri"));
  if (!token.ok()) {
    const Status& s = token.status();
    if (s.code() == quay::Code::kUnauthenticated) {
      ex.res.set_header("WWW-Authenticate", "Basic realm=\"oauth\"");
      WriteOAuthError(ex.res, 401, "invalid_client", "Client authentication failed");
    } else if (s.code() == quay::Code::kInvalidArgument) {
      WriteOAuthError(ex.res, 400, "invalid_grant", "The code is invalid, used or expired");
    } else {
      return s;
    }
    return Status::Ok();
  }
  Json j;
  j.Object().Field("access_token", token->secret).Field("token_type", "Bearer");
  if (token->token.expires_at) j.Field("expires_in", Seconds(*token->token.expires_at) - ex.Now());
  j.Field("scope", token->token.scopes.ToString()).End();
  ex.res.set_header("Cache-Control", "no-store");
  Reply(ex.res, 200, j);
  return Status::Ok();
}

}  // namespace quayd
