// Read-only mode (REGISTRY_STATE: readonly; ApiOptions::read_only): every
// mutating /api/v1 row that is not readonly_ok answers 503
// {"is_readonly": true} before any credential is looked at, reads keep
// working, and /v2 writes answer 405 with is_readonly.
#include <doctest/doctest.h>

#include "api_fixture.h"

using namespace quayd::apitest;

TEST_CASE("api read-only: every mutating route that is not readonly_ok is 503 is_readonly") {
  ServerSpec spec;
  spec.api.read_only = true;
  spec.counts_for_coverage = false;  // a refusal does not exercise a handler
  ApiServer s(spec);
  const std::string alice = s.Token("alice");
  size_t refused = 0;
  for (const quayd::ApiRoute& r : quayd::ApiRoutes()) {
    if (!quayd::IsMutation(r.method) || r.readonly_ok) continue;
    std::optional<std::string> path = FillPath(r.path, s);
    REQUIRE(path);
    for (const std::string& token : {alice, std::string()}) {
      const Reply reply = s.As(token, quayd::HttpMethodName(r.method), *path, "{}");
      INFO(r.nickname << (token.empty() ? " anonymous" : " as alice") << ": " << reply);
      CHECK(reply.status == 503);
      REQUIRE(reply.json.IsObject());
      CHECK(reply.Has("is_readonly"));
      if (reply.Has("is_readonly")) CHECK(reply.json["is_readonly"].IsTrue());
    }
    ++refused;
  }
  CHECK(refused > 0);
  // Nothing changed.
  auto repo = s.id().GetRepository("acme/app");
  REQUIRE(repo.ok());
  CHECK(repo->description == "the app");
}

TEST_CASE("api read-only: reads and readonly_ok writes keep working; /v2 uploads are 405") {
  ServerSpec spec;
  spec.api.read_only = true;
  ApiServer s(spec);
  const std::string alice = s.Token("alice");
  const Reply repo = s.As(alice, "GET", "/api/v1/repository/acme/app");
  CHECK(repo.status == 200);
  CHECK(s.As(alice, "GET", "/api/v1/repository?namespace=acme").status == 200);
  CHECK(s.As(alice, "GET", "/api/v1/organization/acme/robots").status == 200);
  CHECK(s.As(alice, "GET", "/api/v1/repository/acme/app/logs").status == 200);
  // Signing in is allowed in read-only mode (readonly_ok).
  const Reply signin = s.Call("POST", "/api/v1/signin",
                              R"({"username":"bob","password":")" + std::string(kPassword) + "\"}");
  CHECK(signin.status == 200);

  // A /v2 blob upload: 405 with is_readonly (before authentication).
  const Reply upload = s.Call("POST", "/v2/acme/app/blobs/uploads/", "");
  INFO(upload);
  CHECK(upload.status == 405);
  REQUIRE(upload.json.IsObject());
  CHECK(upload.Has("is_readonly"));
  if (upload.Has("is_readonly")) CHECK(upload.json["is_readonly"].IsTrue());
  // Manifest and tag writes too.
  for (const char* method : {"PUT", "DELETE"}) {
    const Reply r = s.Call(method, "/v2/acme/app/manifests/latest", "{}");
    INFO(method << ": " << r);
    CHECK(r.status == 405);
    CHECK(r.Has("is_readonly"));
  }
}

TEST_CASE("api read-only: every GET row still answers (never 503)") {
  ServerSpec spec;
  spec.api.read_only = true;
  spec.counts_for_coverage = false;
  ApiServer s(spec);
  const std::string alice = s.Token("alice");
  const std::string sue = s.Token("sue");
  for (const quayd::ApiRoute& r : quayd::ApiRoutes()) {
    if (quayd::IsMutation(r.method)) continue;
    std::optional<std::string> path = FillPath(r.path, s);
    REQUIRE(path);
    // The superuser routes as the superuser, the rest as the org admin.
    const bool su = r.need == quayd::Need::kSuperuser;
    const Reply reply = s.As(su ? sue : alice, "GET", *path);
    INFO(r.nickname << ": " << reply);
    CHECK(reply.status != 503);
    CHECK(reply.status < 500);
    CHECK(!reply.Has("is_readonly"));
  }
}
