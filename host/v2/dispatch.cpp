#include "host/v2/dispatch.h"

#include <httplib.h>

#include <exception>

#include "host/auth/auth_parsing.h"
#include "host/auth/registry_auth.h"
#include "host/net/http_parse.h"
#include "host/net/request_body.h"
#include "host/obs/access_log.h"
#include "host/route/errors.h"
#include "host/v2/router.h"
#include "host/v2/routes.h"
#include "quay/reference.h"

namespace quayd {
namespace {

// With token auth: the request's verified bearer token (null when it has
// none: anonymous). Only a Bearer header counts on /v2 routes (Quay ignores
// Basic there); a malformed or invalid one is Unauthenticated.
quay::Result<std::shared_ptr<const VerifiedToken>> BearerOf(const httplib::Request& req,
                                                            RegistryAuth& auth) {
  quay::Result<Credentials> credentials = ParseAuthorization(FindHeader(req, "Authorization"));
  if (!credentials.ok()) return quay::Status::Unauthenticated("malformed Authorization header");
  if (credentials->kind != Credentials::Kind::kBearer) {
    return std::shared_ptr<const VerifiedToken>();
  }
  return auth.VerifyBearer(credentials->secret, auth.Service(FindHeader(req, "Host")));
}

}  // namespace

void Dispatcher::Serve(const httplib::Request& req, httplib::Response& res,
                       const httplib::ContentReader* reader) {
  // cpp-httplib parsed the Range header into req.ranges and would apply it a
  // second time to whatever body we produce (slicing manifests, re-slicing a
  // blob range, answering 206 on its own). The blob handler parses Range
  // itself, so the parsed copy is dropped here. The Request is only const in
  // the handler signature; cpp-httplib owns it for the whole exchange.
  const_cast<httplib::Request&>(req).ranges.clear();

  RequestContext& ctx = CurrentRequest();
  RequestBody body(req, reader);
  const Method method = ParseMethod(req.method);
  const PathMatch match = MatchPath(req.path);
  const Route* route = nullptr;

  quay::Status status = [&]() -> quay::Status {
    if (!body.framing().ok()) return body.framing();
    if (reader == nullptr && !body.empty()) {
      return quay::Status::InvalidArgument(quay::Subject::kNone,
                                           "a request body is not allowed on this method");
    }
    if (quay::Status tricks = CheckPathTricks(req.target, req.path); !tricks.ok()) return tricks;
    if (match.kind == PathKind::kUnknown) {
      return quay::Status::NotFound(quay::Subject::kNone, "unknown API route");
    }
    if (HasRepository(match.kind)) {
      if (quay::Status name = quay::ValidateRepositoryName(match.name); !name.ok()) return name;
    }
    route = FindRoute(method, match.kind);
    if (route == nullptr) {
      res.set_header("Allow", AllowedMethods(match.kind));
      return quay::Status::Unsupported(quay::Subject::kNone, "the operation is unsupported");
    }
    ctx.route = route->id;

    // Who is asking. Without token auth everyone is anonymous.
    std::shared_ptr<const VerifiedToken> token;
    if (auth_ != nullptr && route->gate != Gate::kOpen) {
      quay::Result<std::shared_ptr<const VerifiedToken>> bearer = BearerOf(req, *auth_);
      if (!bearer.ok()) return bearer.status();
      token = std::move(bearer).value();
    }
    const quay::Principal principal = token ? token->principal : quay::Principal{};
    // With token auth, every check goes through the token's grants.
    const TokenAuthorizer scoped(authorizer_, token.get());
    const quay::Authorizer& authorizer =
        auth_ != nullptr ? static_cast<const quay::Authorizer&>(scoped) : authorizer_;

    switch (route->gate) {
      case Gate::kOpen:
        break;
      case Gate::kSignedIn:
        if (auth_ != nullptr) {
          if (!token) return quay::Status::Unauthenticated("authentication required");
          break;
        }
        [[fallthrough]];
      case Gate::kAction:
        if (quay::Status allowed = authorizer.Check(principal, match.name, route->action);
            !allowed.ok()) {
          return allowed;
        }
        break;
    }
    Exchange ex{req, res, body, match, registry_, limits_, logger_, principal, authorizer, auth_};
    try {
      return route->handler(ex);
    } catch (const std::exception& e) {
      return quay::Status::Internal(std::string("handler threw: ") + e.what());
    } catch (...) {
      return quay::Status::Internal("handler threw a non-standard exception");
    }
  }();

  if (!status.ok()) {
    if (IsPrivate(status)) {
      logger_.Log(quay::LogLevel::kError, "http", "failed to handle request",
                  {{"route", std::string(route ? route->id : "-")}, {"error", status.ToString()}});
    } else {
      logger_.Log(quay::LogLevel::kDebug, "http", "request rejected",
                  {{"route", std::string(route ? route->id : "-")}, {"error", status.ToString()}});
    }
    WriteError(res, status);
    // The challenge that sends Docker clients to the token endpoint.
    if (auth_ != nullptr && status.code() == quay::Code::kUnauthenticated && route != nullptr &&
        route->gate != Gate::kOpen) {
      res.set_header(
          "WWW-Authenticate",
          auth_->Challenge(req.get_header_value("Host"),
                           route->gate == Gate::kSignedIn ? std::string_view() : match.name,
                           route->action));
    }
  }

  ctx.bytes_in = body.bytes_read();
  body.Finish(res);
}

}  // namespace quayd
