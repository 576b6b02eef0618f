#include "host/dispatch.h"

#include <httplib.h>

#include <exception>

#include "host/access_log.h"
#include "host/errors.h"
#include "host/request_body.h"
#include "host/router.h"
#include "host/routes.h"
#include "quay/reference.h"

namespace quayd {
namespace {

// Until the token-auth issue, every caller is anonymous.
quay::Principal PrincipalOf(const httplib::Request&) { return quay::Principal{}; }

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
    const quay::Principal principal = PrincipalOf(req);
    if (quay::Status allowed = authorizer_.Check(principal, match.name, route->action);
        !allowed.ok()) {
      return allowed;
    }
    Exchange ex{req, res, body, match, registry_, limits_, logger_, principal, authorizer_};
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
  }

  ctx.bytes_in = body.bytes_read();
  body.Finish(res);
}

}  // namespace quayd
