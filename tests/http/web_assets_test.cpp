// The embedded web UI: content types, gzip negotiation, ETag/Cache-Control,
// the client-side routes answered with index.html, the protocols' paths
// never shadowed, and the security headers on every UI answer.
#include <doctest/doctest.h>
#include <httplib.h>

#include <string>

#include "host/web/asset_server.h"
#include "host/web/embedded_assets.h"
#include "http_test_support.h"

using namespace quayd::testing;

namespace {

const quayd::EmbeddedAsset& Asset(std::string_view name) {
  for (const auto& a : quayd::EmbeddedAssets()) {
    if (a.name == name) return a;
  }
  FAIL("no asset " << name);
  throw 0;
}

bool IsGzip(const std::string& body) {
  return body.size() > 2 && static_cast<unsigned char>(body[0]) == 0x1f &&
         static_cast<unsigned char>(body[1]) == 0x8b;
}

std::unique_ptr<TestServer> UiServer() {
  ServerOptions options;
  options.token_auth = true;  // /api/v1 and /oauth are served only then
  return std::make_unique<TestServer>(options);
}

// A client that hands over the bytes as sent (httplib would gunzip them).
std::unique_ptr<httplib::Client> RawClient(TestServer& server) {
  auto client = server.Client();
  client->set_decompress(false);
  return client;
}

}  // namespace

TEST_CASE("AcceptsGzip reads Accept-Encoding as RFC 9110 says") {
  CHECK(quayd::AcceptsGzip("gzip"));
  CHECK(quayd::AcceptsGzip("gzip, deflate, br"));
  CHECK(quayd::AcceptsGzip("br;q=1.0, GZIP;q=0.5"));
  CHECK(quayd::AcceptsGzip("*"));
  CHECK_FALSE(quayd::AcceptsGzip(""));
  CHECK_FALSE(quayd::AcceptsGzip("identity"));
  CHECK_FALSE(quayd::AcceptsGzip("br, deflate"));
  CHECK_FALSE(quayd::AcceptsGzip("gzip;q=0"));
  CHECK_FALSE(quayd::AcceptsGzip("gzip;q=0.000, *"));
  CHECK_FALSE(quayd::AcceptsGzip("*;q=0"));
}

TEST_CASE("Owns: the UI's paths, GET and HEAD only, never a protocol's") {
  using quayd::AssetServer;
  for (const char* path : {"/", "/static/app.css", "/signin", "/repository/alice/app",
                           "/organization/acme", "/organization/acme/teams/ci", "/settings",
                           "/superuser", "/user/alice", "/new", "/setup", "/signup"}) {
    CAPTURE(path);
    CHECK(AssetServer::Owns("GET", path));
    CHECK(AssetServer::Owns("HEAD", path));
    CHECK_FALSE(AssetServer::Owns("POST", path));
  }
  for (const char* path :
       {"/v2/", "/v2", "/v2/alice/app/manifests/v1", "/api/v1/user/", "/api", "/oauth/authorize",
        "/csrf_token", "/favicon.ico", "/signinx", "/users/alice", "/repositoryx/a", "/metrics"}) {
    CAPTURE(path);
    CHECK_FALSE(AssetServer::Owns("GET", path));
  }
}

TEST_CASE("the assets: index.html, hashed names, sizes under the budget") {
  size_t total = 0;
  bool has_index = false;
  for (const auto& a : quayd::EmbeddedAssets()) {
    total += a.gzip.size();
    CHECK(IsGzip(std::string(a.gzip)));
    if (a.name == "index.html") {
      has_index = true;
      CHECK(a.hashed_name == "index.html");
      // The page names its script and stylesheet by their hashed names.
      CHECK(a.identity.find(std::string("/static/") + std::string(Asset("main.js").hashed_name)) !=
            std::string_view::npos);
      CHECK(a.identity.find(std::string("/static/") + std::string(Asset("app.css").hashed_name)) !=
            std::string_view::npos);
      // No inline script: every <script> has a src.
      CHECK(a.identity.find("<script>") == std::string_view::npos);
    } else {
      CHECK(a.hashed_name != a.name);
    }
  }
  CHECK(has_index);
  CHECK(total < 300 * 1024);
}

TEST_CASE("GET / and UI routes answer index.html with the CSP; gzip when accepted") {
  auto server = UiServer();
  auto client = RawClient(*server);
  const auto& index = Asset("index.html");
  for (const char* path :
       {"/", "/signin", "/repository/alice/app", "/organization/acme", "/superuser"}) {
    CAPTURE(path);
    auto plain = client->Get(path, {{"Accept-Encoding", "identity"}});
    REQUIRE(plain);
    CHECK(plain->status == 200);
    CHECK(plain->get_header_value("Content-Type") == "text/html; charset=utf-8");
    CHECK_FALSE(plain->has_header("Content-Encoding"));
    CHECK(plain->body == index.identity);
    CHECK(plain->get_header_value("Cache-Control") == "no-cache");
    CHECK(plain->get_header_value("X-Content-Type-Options") == "nosniff");
    const std::string csp = plain->get_header_value("Content-Security-Policy");
    CHECK(csp == quayd::AssetServer::ContentSecurityPolicy());
    CHECK(csp.find("script-src 'self'") != std::string::npos);
    CHECK(csp.find("unsafe-inline") == std::string::npos);
    CHECK(csp.find("default-src 'none'") != std::string::npos);

    auto gz = client->Get(path, {{"Accept-Encoding", "gzip, deflate"}});
    REQUIRE(gz);
    CHECK(gz->status == 200);
    CHECK(gz->get_header_value("Content-Encoding") == "gzip");
    CHECK(gz->get_header_value("Vary") == "Accept-Encoding");
    CHECK(IsGzip(gz->body));
    CHECK(gz->body == index.gzip);
    CHECK(gz->get_header_value("ETag") != plain->get_header_value("ETag"));
  }
}

TEST_CASE("static assets: content types, immutable hashed names, ETag revalidation") {
  auto server = UiServer();
  auto client = RawClient(*server);
  struct Want {
    const char* name;
    const char* type;
  };
  for (Want w :
       {Want{"main.js", "text/javascript; charset=utf-8"},
        Want{"app.css", "text/css; charset=utf-8"}, Want{"favicon.svg", "image/svg+xml"}}) {
    CAPTURE(w.name);
    const auto& a = Asset(w.name);
    auto hashed = client->Get("/static/" + std::string(a.hashed_name));
    REQUIRE(hashed);
    CHECK(hashed->status == 200);
    CHECK(hashed->get_header_value("Content-Type") == w.type);
    CHECK(hashed->get_header_value("Cache-Control") == "public, max-age=31536000, immutable");
    CHECK(hashed->body == a.identity);
    CHECK(hashed->get_header_value("X-Content-Type-Options") == "nosniff");

    auto plain = client->Get("/static/" + std::string(a.name), {{"Accept-Encoding", "gzip"}});
    REQUIRE(plain);
    CHECK(plain->status == 200);
    CHECK(plain->get_header_value("Cache-Control") == "no-cache");
    CHECK(plain->body == a.gzip);
    const std::string etag = plain->get_header_value("ETag");
    CHECK(etag.size() > 10);

    auto again = client->Get("/static/" + std::string(a.name),
                             {{"Accept-Encoding", "gzip"}, {"If-None-Match", etag}});
    REQUIRE(again);
    CHECK(again->status == 304);
    CHECK(again->body.empty());
    // The other representation's ETag does not match.
    auto other = client->Get("/static/" + std::string(a.name), {{"If-None-Match", etag}});
    REQUIRE(other);
    CHECK(other->status == 200);
  }
  auto head = client->Head("/static/" + std::string(Asset("main.js").hashed_name));
  REQUIRE(head);
  CHECK(head->status == 200);
  CHECK(head->body.empty());

  auto missing = client->Get("/static/nope.js");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  CHECK(missing->get_header_value("Content-Type").starts_with("text/plain"));
  CHECK(missing->get_header_value("X-Content-Type-Options") == "nosniff");
}

TEST_CASE("the protocols' paths are not shadowed by the UI") {
  auto server = UiServer();
  auto client = RawClient(*server);
  const auto& index = Asset("index.html");

  auto v2 = client->Get("/v2/");
  REQUIRE(v2);
  CHECK(v2->get_header_value("Docker-Distribution-API-Version") == "registry/2.0");
  CHECK(v2->body != index.identity);

  auto user = client->Get("/api/v1/user/");
  REQUIRE(user);
  CHECK(user->status == 200);
  CHECK(user->get_header_value("Content-Type").starts_with("application/json"));

  auto unknown_api = client->Get("/api/v1/no/such/route");
  REQUIRE(unknown_api);
  CHECK(unknown_api->status == 404);
  CHECK(unknown_api->body != index.identity);

  auto csrf = client->Get("/csrf_token");
  REQUIRE(csrf);
  CHECK(csrf->status == 200);
  CHECK(csrf->body.find("csrf_token") != std::string::npos);

  auto oauth = client->Get("/oauth/authorize?client_id=x&redirect_uri=y&response_type=code");
  REQUIRE(oauth);
  CHECK(oauth->status == 400);
  CHECK(oauth->body.find("Authorization failed") != std::string::npos);

  // A write to a UI path is not the UI's (and not a page).
  auto post = client->Post("/signin", "{}", "application/json");
  REQUIRE(post);
  CHECK(post->status != 200);
  CHECK(post->body != index.identity);

  // An unknown path outside the UI's prefixes stays the registry's 404.
  auto favicon = client->Get("/favicon.ico");
  REQUIRE(favicon);
  CHECK(favicon->status == 404);
}
