#include "host/api/api_dispatch.h"

#include <httplib.h>

#include <chrono>
#include <exception>
#include <string_view>

#include "host/auth/auth_parsing.h"
#include "host/net/body_budget.h"
#include "host/net/client_address.h"
#include "host/net/http_parse.h"
#include "host/net/request_body.h"
#include "host/obs/access_log.h"
#include "host/route/errors.h"

namespace quayd {
namespace {

using quay::Status;

// Who a principal is for superuser routes: the library's answer, capped by
// an OAuth token's super:user scope (Quay grants the superuser need only with
// super:user or a direct login).
quay::SuperuserKind SuperuserOf(const ApiExchange& ex) {
  std::string_view user = ex.UserName();
  if (user.empty()) return quay::SuperuserKind::kNone;
  if (!ex.principal.scopes.Has(quay::Scope::kSuperUser)) return quay::SuperuserKind::kNone;
  return ex.svc.identity.SuperuserOf(user);
}

Status Refuse(const ApiExchange& ex) {
  if (ex.principal.anonymous()) return Status::Unauthenticated("Requires authentication");
  return Status::Denied("Unauthorized");
}

bool ScopeAllows(const ApiExchange& ex, quay::Scope scope) {
  return ex.principal.scopes.Has(scope);
}

}  // namespace

ApiDispatcher::ApiDispatcher(ApiServices services)
    : services_(std::move(services)), trie_(ApiRoutes()) {}

bool ApiDispatcher::Owns(std::string_view path) {
  return path.starts_with("/api/") || path == "/api" || path.starts_with("/oauth/") ||
         path == "/csrf_token";
}

Status ApiDispatcher::Authenticate(ApiExchange& ex) {
  const std::string_view authorization = FindHeader(ex.req, "Authorization");
  if (!authorization.empty()) {
    quay::Result<Credentials> credentials = ParseAuthorization(authorization);
    if (credentials.ok() && credentials->kind == Credentials::Kind::kBearer) {
      quay::Result<quay::Principal> who =
          ex.svc.identity.AuthenticateOAuthToken(credentials->secret);
      if (!who.ok()) return Status::Unauthenticated("Invalid or expired OAuth token");
      ex.principal = std::move(who).value();
      return Status::Ok();
    }
    // Basic and anything else: Quay's REST API does not read them.
  }
  const std::string_view cookie = FindCookie(FindHeader(ex.req, "Cookie"), kSessionCookie);
  if (cookie.empty()) return Status::Ok();
  std::optional<Session> session = ex.svc.sessions.Decode(cookie, ex.Now());
  if (!session) return Status::Ok();  // a stale or forged cookie counts for nothing
  if (!session->user.empty()) {
    // The session speaks for the account it was started for: a deleted or
    // disabled user's cookie, or one whose name now belongs to a re-created
    // account, counts for nothing (answered from the identity caches).
    quay::Principal who = quay::Principal::User(session->user);
    who.account_uuid = session->account_uuid;
    if (Status current = ex.svc.identity.CheckCurrent(who); !current.ok()) {
      return current.code() == quay::Code::kUnauthenticated ? Status::Ok() : current;
    }
    who.superuser = ex.svc.identity.SuperuserOf(session->user);
    ex.principal = std::move(who);
  }
  // Quay's CSRF rule: a write authenticated by the cookie carries the
  // session's token in X-CSRF-Token (or the _csrf_token form field).
  if (IsMutation(ex.route.method) && !session->user.empty()) {
    std::string_view sent = FindHeader(ex.req, "X-CSRF-Token");
    std::string form;
    if (sent.empty()) {
      form = ex.Form("_csrf_token");
      if (form.empty()) form = ex.Query("_csrf_token");
      sent = form;
    }
    if (sent.empty() || !SecretEquals(sent, session->csrf_token)) {
      return Status::Denied("CSRF token was invalid or missing.");
    }
  }
  ex.session = std::move(session);
  return Status::Ok();
}

Status ApiDispatcher::Authorize(ApiExchange& ex) {
  const ApiRoute& route = ex.route;
  const quay::Authorizer& authorizer = *ex.svc.identity.authorizer();
  const bool reading = !IsMutation(route.method);
  const quay::SuperuserKind su = SuperuserOf(ex);
  const bool read_only_su_passes = reading && (route.superusers & kReadOnlySuperuser) &&
                                   su == quay::SuperuserKind::kGlobalReadOnly;
  const bool any_su_passes = (route.superusers & kAnySuperuser) &&
                             su != quay::SuperuserKind::kNone &&
                             (reading || su != quay::SuperuserKind::kGlobalReadOnly);

  if (!route.anonymous && route.need != Need::kNone && ex.principal.anonymous()) {
    return Status::Unauthenticated("Requires authentication");
  }
  Status allowed = Status::Ok();
  switch (route.need) {
    case Need::kNone:
      return Status::Ok();
    case Need::kSignedIn:
      return ex.principal.anonymous() ? Refuse(ex) : Status::Ok();
    case Need::kRepoRead:
    case Need::kRepoWrite:
    case Need::kRepoAdmin: {
      const quay::Action action = route.need == Need::kRepoRead    ? quay::Action::kPull
                                  : route.need == Need::kRepoWrite ? quay::Action::kPush
                                                                   : quay::Action::kAdmin;
      allowed = authorizer.Check(ex.principal, ex.Param("repository"), action);
      break;
    }
    case Need::kUserRead:
    case Need::kUserAdmin: {
      if (ex.UserName().empty()) return Refuse(ex);
      const quay::Scope scope =
          route.need == Need::kUserRead ? quay::Scope::kUserRead : quay::Scope::kUserAdmin;
      // user:admin implies user:read.
      if (!ScopeAllows(ex, scope) && !ScopeAllows(ex, quay::Scope::kUserAdmin)) return Refuse(ex);
      return Status::Ok();
    }
    case Need::kOrgMember:
      // Quay clamps team roles by the token's scopes: only org:admin (admin)
      // and repo:create (creator) leave a team role; a repo:read token is
      // no member. The library's kMember check does not clamp.
      if (!ScopeAllows(ex, quay::Scope::kOrgAdmin) && !ScopeAllows(ex, quay::Scope::kRepoCreate)) {
        allowed = Refuse(ex);
      } else {
        allowed = authorizer.CheckNamespace(ex.principal, ex.Param("orgname"),
                                            quay::NamespaceAction::kMember);
      }
      break;
    case Need::kOrgAdmin:
      allowed = authorizer.CheckNamespace(ex.principal, ex.Param("orgname"),
                                          reading && (route.superusers & kReadOnlySuperuser)
                                              ? quay::NamespaceAction::kViewAdmin
                                              : quay::NamespaceAction::kAdmin);
      break;
    case Need::kSuperuser:
      if (su == quay::SuperuserKind::kNone) return Refuse(ex);
      if (!reading && su == quay::SuperuserKind::kGlobalReadOnly) return Refuse(ex);
      if (reading && su == quay::SuperuserKind::kGlobalReadOnly &&
          !(route.superusers & kReadOnlySuperuser)) {
        return Refuse(ex);
      }
      return Status::Ok();
    case Need::kAuditingSuperuser:
      if (su == quay::SuperuserKind::kFullAccess) return Status::Ok();
      if (reading && su == quay::SuperuserKind::kGlobalReadOnly) return Status::Ok();
      return Refuse(ex);
  }
  if (allowed.ok() || read_only_su_passes || any_su_passes) return Status::Ok();
  return allowed;
}

void ApiDispatcher::Serve(const httplib::Request& req, httplib::Response& res, RequestBody& body) {
  const_cast<httplib::Request&>(req).ranges.clear();
  const TrieMatch match = trie_.Match(req.path);
  const HttpMethod method = ParseHttpMethod(req.method);
  const ApiRoute* route = nullptr;
  if (match.routes != nullptr) {
    route = (*match.routes)[static_cast<size_t>(method)];
    if (route == nullptr && method == HttpMethod::kHead) {
      route = (*match.routes)[static_cast<size_t>(HttpMethod::kGet)];
    }
    if (route != nullptr && !services_.options.features[static_cast<size_t>(route->feature)]) {
      route = nullptr;
    }
  }
  const std::string base = [&] {
    std::string host = services_.options.server_hostname;
    if (host.empty()) host = std::string(FindHeader(req, "Host"));
    return services_.options.url_scheme + "://" + host;
  }();
  const bool oauth = route != nullptr && route->surface == Surface::kOAuth;
  if (route == nullptr) {
    bool any = false;
    if (match.routes != nullptr) {
      for (const ApiRoute* r : *match.routes) {
        any = any || (r != nullptr && services_.options.features[static_cast<size_t>(r->feature)]);
      }
    }
    WriteApiError(res,
                  any ? Status::Unsupported(quay::Subject::kNone, "method not allowed")
                      : Status::NotFound(quay::Subject::kNone, "not found"),
                  base);
    body.Finish(res);
    return;
  }
  CurrentRequest().route = route->nickname;

  ApiExchange ex{req, res, *route, match.params, services_, {}, {}, {}, {}, {}};
  ex.ip = ClientAddress(req.remote_addr, {}, services_.options.trusted_proxies);
  if (!services_.options.trusted_proxies.empty()) {
    std::vector<std::string> forwarded;
    const size_t n = req.get_header_value_count("X-Forwarded-For");
    for (size_t i = 0; i < n; ++i) forwarded.push_back(req.get_header_value("X-Forwarded-For", i));
    ex.ip = ClientAddress(req.remote_addr, forwarded, services_.options.trusted_proxies);
  }

  // Read-only mode has its own answer shape (Quay's {"message",
  // "is_readonly"}), decided before anything is read or authenticated.
  if (services_.options.read_only && IsMutation(route->method) && !route->readonly_ok) {
    WriteReadOnly(res);
    body.Finish(res);
    return;
  }

  BodyBudget::Lease body_lease;  // released once the response is built
  bool over_budget = false;
  Status status = [&]() -> Status {
    if (!body.framing().ok()) return body.framing();
    // The body: JSON for /api/v1 (an empty body is no fields), a form for /oauth.
    if (!body.empty()) {
      if (body.content_length() && *body.content_length() > services_.options.max_body_bytes) {
        return Status::TooLarge(quay::Subject::kNone, "request body too large");
      }
      // Held in memory (and parsed) until the handler returns: the declared
      // size (the cap when chunked) comes out of the shared budget first.
      if (services_.options.body_budget) {
        body_lease = services_.options.body_budget->Reserve(
            ex.ip, body.content_length().value_or(services_.options.max_body_bytes));
        if (!body_lease) {
          over_budget = true;
          return Status::Ok();
        }
      }
      std::string text;
      bool too_large = false;
      RequestBody::Outcome outcome = body.Stream([&](const char* data, size_t size) {
        if (text.size() + size > services_.options.max_body_bytes) {
          too_large = true;
          return false;
        }
        text.append(data, size);
        return true;
      });
      if (too_large) return Status::TooLarge(quay::Subject::kNone, "request body too large");
      if (outcome == RequestBody::Outcome::kBroken) {
        return Status::InvalidArgument(quay::Subject::kNone, "the request body was cut short");
      }
      if (route->surface == Surface::kOAuth) {
        httplib::Params form;
        httplib::detail::parse_query_text(text, form);
        for (auto& [k, v] : form) ex.form.emplace_back(k, v);
      } else if (!text.empty()) {
        ex.body.Parse(text.data(), text.size());
        if (ex.body.HasParseError() || !ex.body.IsObject()) {
          return Status::InvalidArgument(quay::Subject::kNone, "the body is not a JSON object");
        }
      }
    }
    if (Status s = Authenticate(ex); !s.ok()) return s;
    if (Status s = Authorize(ex); !s.ok()) return s;
    if (route->fresh_login && ex.session &&
        ex.Now() - ex.session->login_time > services_.options.fresh_login_timeout.count()) {
      return Status::Unauthenticated("fresh login required");
    }
    try {
      return route->handler(ex);
    } catch (const std::exception& e) {
      return Status::Internal(std::string("handler threw: ") + e.what());
    }
  }();

  if (over_budget) {
    constexpr std::string_view kBusy = "too many request bodies in progress; retry later";
    if (oauth) {
      res.set_header("Retry-After", "1");
      WriteOAuthError(res, 429, "temporarily_unavailable", kBusy);
    } else {
      WriteApiTooManyRequests(res, base, std::chrono::seconds(1), kBusy);
    }
  } else if (!status.ok()) {
    if (IsPrivate(status)) {
      services_.logger.Log(quay::LogLevel::kError, "api", "failed to handle request",
                           {{"route", std::string(route->nickname)}, {"error", status.ToString()}});
    }
    if (oauth) {
      const bool unauth = status.code() == quay::Code::kUnauthenticated;
      WriteOAuthError(res, unauth ? 401 : MapApiStatus(status).http_status,
                      unauth                                          ? "invalid_client"
                      : status.code() == quay::Code::kInvalidArgument ? "invalid_request"
                      : status.code() == quay::Code::kDenied          ? "access_denied"
                                                                      : "server_error",
                      IsPrivate(status) ? "internal error" : status.message());
    } else {
      WriteApiError(res, status, base);
    }
  }
  body.Finish(res);
}

// ---- ApiExchange ----

quay::Actor ApiExchange::actor() const {
  quay::Actor a;
  a.principal = principal;
  a.ip = ip;
  a.request_id = CurrentRequest().id;
  return a;
}

std::string ApiExchange::Query(std::string_view name) const {
  std::string key(name);
  return req.has_param(key) ? req.get_param_value(key) : std::string();
}

std::string ApiExchange::Form(std::string_view name) const {
  for (const auto& [k, v] : form) {
    if (k == name) return v;
  }
  return {};
}

bool ApiExchange::HasQuery(std::string_view name) const { return req.has_param(std::string(name)); }

bool ApiExchange::QueryFlag(std::string_view name) const {
  const std::string v = Query(name);
  return v == "true" || v == "True" || v == "1";
}

std::string ApiExchange::Base() const {
  std::string host = svc.options.server_hostname;
  if (host.empty()) host = std::string(FindHeader(req, "Host"));
  return svc.options.url_scheme + "://" + host;
}

int64_t ApiExchange::Now() const {
  return std::chrono::duration_cast<std::chrono::seconds>(svc.clock->Now().time_since_epoch())
      .count();
}

std::string_view ApiExchange::UserName() const {
  if (principal.kind == quay::Principal::Kind::kUser ||
      principal.kind == quay::Principal::Kind::kToken) {
    return principal.name;
  }
  return {};
}

}  // namespace quayd
