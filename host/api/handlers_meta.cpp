// Discovery (a Swagger 2.0 document generated from the route table), error
// descriptions, registry capabilities and the session's CSRF token.
#include <httplib.h>

#include <map>
#include <vector>

#include "host/api/handlers.h"
#include "host/api/json.h"
#include "host/route/errors.h"

namespace quayd {
namespace {

constexpr std::pair<std::string_view, std::string_view> kScopes[] = {
    {"repo:read", "View all visible repositories"},
    {"repo:write", "Read/Write to any accessible repositories"},
    {"repo:admin", "Administer Repositories"},
    {"repo:create", "Create Repositories"},
    {"user:read", "Read User Information"},
    {"user:admin", "Administer User"},
    {"org:admin", "Administer Organization"},
    {"super:user", "Super User Access"},
};

// "/api/v1/repository/{repository+}" -> "/api/v1/repository/{repository}".
std::string SwaggerPath(std::string_view path) {
  std::string out(path);
  for (size_t pos; (pos = out.find("+}")) != std::string::npos;) out.erase(pos, 1);
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

quay::Status HandleDiscovery(ApiExchange& ex) {
  const bool internal = ex.QueryFlag("internal");
  std::map<std::string, std::vector<const ApiRoute*>> paths;
  for (const ApiRoute& route : ApiRoutes()) {
    if (!route.path.starts_with("/api/v1/")) continue;
    if (!ex.svc.options.features[static_cast<size_t>(route.feature)]) continue;
    if (route.internal && !internal) continue;
    paths[SwaggerPath(route.path)].push_back(&route);
  }
  Json j;
  j.Object().Field("swagger", "2.0").Field("host", ex.Base().substr(ex.Base().find("://") + 3));
  j.Field("basePath", "/").Key("schemes").Array().Str(ex.svc.options.url_scheme).EndArray();
  j.Key("info").Object().Field("title", "Quay Frontend").Field("version", "v1");
  j.Field("description",
          "This API allows you to perform many of the operations required to work "
          "with Quay repositories, users, and organizations.");
  j.End();
  j.Key("securityDefinitions").Object().Key("oauth2_implicit").Object();
  j.Field("type", "oauth2").Field("flow", "implicit");
  j.Field("authorizationUrl", ex.Base() + "/oauth/authorize");
  j.Key("scopes").Object();
  for (auto [scope, title] : kScopes) j.Field(scope, title);
  j.End().End().End();
  j.Key("paths").Object();
  for (const auto& [path, routes] : paths) {
    j.Key(path).Object();
    for (const ApiRoute* r : routes) {
      j.Key(Lower(HttpMethodName(r->method))).Object();
      j.Field("operationId", r->nickname).Field("x-name", r->nickname);
      j.Field("x-path", path).Field("description", r->summary).Field("summary", r->summary);
      j.Field("x-requires-fresh-login", r->fresh_login);
      j.Key("parameters").Array();
      for (size_t open = path.find('{'); open != std::string::npos;
           open = path.find('{', open + 1)) {
        const size_t close = path.find('}', open);
        j.Object().Field("name", std::string_view(path).substr(open + 1, close - open - 1));
        j.Field("in", "path").Field("required", true).Field("type", "string").End();
      }
      j.EndArray();
      if (!r->scope.empty()) {
        j.Key("security").Array().Object().Key("oauth2_implicit").Array().Str(r->scope);
        j.EndArray().End().EndArray();
      }
      j.Key("responses").Object().Key("200").Object().Field("description", "Successful invocation");
      j.End().End();
      j.End();
    }
    j.End();
  }
  j.End().End();
  Reply(ex.res, 200, j);
  return quay::Status::Ok();
}

quay::Status HandleErrorDescription(ApiExchange& ex) {
  for (const ApiErrorType& type : ApiErrorTypes()) {
    if (type.type == ex.Param("error_type")) {
      Json j;
      j.Object().Field("type", ex.Base() + "/api/v1/error/" + std::string(type.type));
      j.Field("title", type.type).Field("description", type.description).End();
      Reply(ex.res, 200, j);
      return quay::Status::Ok();
    }
  }
  return quay::Status::NotFound(quay::Subject::kNone, "Unknown error type");
}

quay::Status HandleCapabilities(ApiExchange& ex) {
  Json j;
  j.Object().Key("sparse_manifests").Object().Field("supported", false);
  j.Key("required_architectures").Array().EndArray();
  j.Key("optional_architectures").Array().EndArray().End().End();
  Reply(ex.res, 200, j);
  return quay::Status::Ok();
}

// The CSRF token of the caller's session; a caller without one gets a new
// anonymous session carrying it (a browser asks before signing in).
quay::Status HandleCsrfToken(ApiExchange& ex) {
  Session session;
  if (ex.session) {
    session = *ex.session;
  } else {
    session = ex.svc.sessions.Start({}, {}, ex.Now());
    ex.res.set_header("Set-Cookie",
                      ex.svc.sessions.SetCookie(session, ex.svc.options.url_scheme == "https"));
  }
  Json j;
  j.Object().Field("csrf_token", session.csrf_token).End();
  ex.res.set_header("Cache-Control", "no-store");
  Reply(ex.res, 200, j);
  return quay::Status::Ok();
}

}  // namespace quayd
