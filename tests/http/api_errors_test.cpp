// RFC 7807 error bodies of /api/v1 (reference/quay-api.md 1.4) and the
// Swagger discovery document generated from the route table (1.5), with
// feature flags hiding routes.
#include <doctest/doctest.h>

#include "api_fixture.h"

using namespace quayd::apitest;

namespace {

// type/title/detail/status/error_message/error_type, problem+json, and the
// type URL ending in /api/v1/error/<error_type>.
void Problem(const Reply& r, int status, std::string_view error_type) {
  INFO(r);
  REQUIRE(r.status == status);
  CHECK(r.Header("Content-Type").starts_with("application/problem+json"));
  REQUIRE(r.json.IsObject());
  for (const char* f : {"type", "title", "detail", "error_message", "error_type"}) {
    CHECK_MESSAGE(r.Has(f), "missing " << f);
    if (r.Has(f)) CHECK_MESSAGE(r.json[f].IsString(), f << " is not a string");
  }
  REQUIRE(r.Has("status"));
  CHECK(r.json["status"].IsInt());
  if (r.json["status"].IsInt()) CHECK(r.json["status"].GetInt() == status);
  CHECK(r.Str("error_type") == error_type);
  CHECK(r.Str("title") == error_type);
  CHECK(r.Str("detail") == r.Str("error_message"));
  const std::string type = r.Str("type");
  CHECK(type.starts_with("http"));
  CHECK(type.ends_with("/api/v1/error/" + std::string(error_type)));
}

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

TEST_CASE("api errors: 404, 401, 403 and 400 are RFC 7807 problem documents") {
  ApiServer s;
  Problem(s.As("", "GET", "/api/v1/no/such/route"), 404, "not_found");
  Problem(s.As("", "GET", "/api/v1/user/robots"), 401, "invalid_token");
  Problem(s.As(s.Token("eve"), "GET", "/api/v1/repository/acme/app/permissions/user/"), 403,
          "insufficient_scope");
  // A body that is not JSON, and one that is JSON but not an object.
  const std::string alice = s.Token("alice");
  Problem(s.As(alice, "PUT", "/api/v1/repository/acme/app", "{\"description\": "), 400,
          "invalid_request");
  Problem(s.As(alice, "PUT", "/api/v1/repository/acme/app", "[1,2]"), 400, "invalid_request");
  // A missing field.
  Problem(s.As(alice, "PUT", "/api/v1/repository/acme/app", "{}"), 400, "invalid_request");
  // An unknown OAuth token is 401, not anonymous.
  Problem(s.As("not-a-token", "GET", "/api/v1/user/"), 401, "invalid_token");
  // A known path with a method it does not serve.
  const Reply patch = s.As(alice, "PATCH", "/api/v1/repository/acme/app", "{}");
  CHECK(patch.status == 405);
  CHECK(patch.Header("Content-Type").starts_with("application/problem+json"));
}

TEST_CASE("api errors: GET /api/v1/error/<type> describes each type a problem names") {
  ApiServer s;
  for (const char* type : {"not_found", "invalid_token", "insufficient_scope", "invalid_request",
                           "fresh_login_required"}) {
    const Reply r = s.As("", "GET", std::string("/api/v1/error/") + type);
    INFO(type << ": " << r);
    REQUIRE(r.status == 200);
    CHECK(r.Str("title") == type);
    CHECK(r.Str("type").ends_with(std::string("/api/v1/error/") + type));
    CHECK(!r.Str("description").empty());
  }
  Problem(s.As("", "GET", "/api/v1/error/no_such_type"), 404, "not_found");
}

TEST_CASE("api discovery: every visible non-internal route, internal ones on ?internal=true") {
  ApiServer s;
  const Reply plain = s.As("", "GET", "/api/v1/discovery");
  const Reply internal = s.As("", "GET", "/api/v1/discovery?internal=true");
  REQUIRE(plain.status == 200);
  REQUIRE(internal.status == 200);
  REQUIRE(plain.Has("paths"));
  CHECK(plain.Str("swagger") == "2.0");
  const auto& paths = plain.json["paths"];
  const auto& all = internal.json["paths"];
  size_t listed = 0;
  for (const quayd::ApiRoute& r : quayd::ApiRoutes()) {
    if (!r.path.starts_with("/api/v1/")) continue;
    const std::string path = SwaggerPath(r.path);
    const std::string method = Lower(quayd::HttpMethodName(r.method));
    INFO(method << " " << path << " (" << r.nickname << ")");
    const bool in_plain =
        paths.HasMember(path.c_str()) && paths[path.c_str()].HasMember(method.c_str());
    const bool in_all = all.HasMember(path.c_str()) && all[path.c_str()].HasMember(method.c_str());
    CHECK(in_plain == !r.internal);
    CHECK(in_all);
    if (in_all) {
      const auto& op = all[path.c_str()][method.c_str()];
      REQUIRE(op.HasMember("operationId"));
      CHECK(std::string(op["operationId"].GetString()) == r.nickname);
      if (!r.scope.empty()) {
        REQUIRE(op.HasMember("security"));
        CHECK(std::string(op["security"][0]["oauth2_implicit"][0].GetString()) == r.scope);
      }
    }
    listed += in_plain ? 1 : 0;
  }
  // Nothing that is not a route: count the operations.
  size_t operations = 0;
  for (const auto& p : paths.GetObject()) {
    CHECK_MESSAGE(std::string(p.name.GetString()).find("+}") == std::string::npos,
                  p.name.GetString());
    operations += p.value.MemberCount();
  }
  CHECK(operations == listed);
}

TEST_CASE(
    "api discovery: a feature flag off hides its routes (404) and drops them from discovery") {
  ServerSpec spec;
  spec.api.features[static_cast<size_t>(quayd::Feature::kAppSpecificTokens)] = false;
  ApiServer s(spec);
  const std::string bob = s.Token("bob");
  const Reply discovery = s.As("", "GET", "/api/v1/discovery?internal=true");
  REQUIRE(discovery.status == 200);
  size_t hidden = 0;
  for (const quayd::ApiRoute& r : quayd::ApiRoutes()) {
    if (r.feature != quayd::Feature::kAppSpecificTokens) continue;
    ++hidden;
    std::optional<std::string> path = FillPath(r.path, s);
    REQUIRE(path);
    const Reply reply = s.As(bob, quayd::HttpMethodName(r.method), *path,
                             quayd::IsMutation(r.method) ? R"({"title":"x"})" : "");
    INFO(r.nickname << ": " << reply);
    CHECK(reply.status == 404);
    const std::string swagger = SwaggerPath(r.path);
    CHECK(!(discovery.json["paths"].HasMember(swagger.c_str()) &&
            discovery.json["paths"][swagger.c_str()].HasMember(
                Lower(quayd::HttpMethodName(r.method)).c_str())));
  }
  CHECK(hidden > 0);
  // Other routes are unaffected.
  CHECK(s.As(bob, "GET", "/api/v1/user/robots").status == 200);
}
