// GET /v2/, request ids, the access log, unknown routes and unsupported methods.
#include <doctest/doctest.h>

#include "http_test_support.h"

using namespace quayd::testing;

TEST_CASE("GET /v2/ answers 200 {} with the API version header") {
  TestServer server;
  auto client = server.Client();
  for (const char* path : {"/v2/", "/v2"}) {
    CAPTURE(path);
    auto res = client->Get(path);
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->body == "{}");
    CHECK(res->get_header_value("Content-Type") == "application/json");
    CHECK(res->get_header_value("Docker-Distribution-API-Version") == "registry/2.0");
  }
  auto head = client->Head("/v2/");
  REQUIRE(head);
  CHECK(head->status == 200);
  CHECK(head->body.empty());
  CHECK(head->get_header_value("Docker-Distribution-API-Version") == "registry/2.0");
}

TEST_CASE("X-Request-Id: generated, echoed, and on every log line of the request") {
  TestServer server;
  auto client = server.Client();

  auto generated = client->Get("/v2/");
  REQUIRE(generated);
  std::string id = generated->get_header_value("X-Request-Id");
  CHECK(id.size() == 16);

  auto again = client->Get("/v2/");
  REQUIRE(again);
  CHECK(again->get_header_value("X-Request-Id") != id);

  auto echoed = client->Get("/v2/", {{"X-Request-Id", "trace-abc.123_X"}});
  REQUIRE(echoed);
  CHECK(echoed->get_header_value("X-Request-Id") == "trace-abc.123_X");

  // An unsafe client id is replaced rather than logged.
  auto replaced = client->Get("/v2/", {{"X-Request-Id", "bad id \"with\" spaces"}});
  REQUIRE(replaced);
  CHECK(replaced->get_header_value("X-Request-Id").size() == 16);

  // Errors carry it too, and the access line names it.
  auto missing = client->Get("/v2/repo/manifests/nope", {{"X-Request-Id", "req-404"}});
  REQUIRE(missing);
  CHECK(missing->status == 404);
  CHECK(missing->get_header_value("X-Request-Id") == "req-404");
  auto lines = server.logs().Find({"request_id=req-404"});
  REQUIRE_FALSE(lines.empty());
  auto access = server.logs().WaitFind(
      {"request_id=req-404", "msg=request", "status=404", "route=manifest.get", "method=GET"});
  CHECK(access.size() == 1);
}

TEST_CASE("access log: query values and Authorization never reach the log") {
  TestServer server;
  auto client = server.Client();
  auto res = client->Get(
      "/v2/?token=s3cr3t-value&n=1",
      {{"Authorization", "Bearer very-secret-token"}, {"X-Request-Id", "redaction-check"}});
  REQUIRE(res);
  CHECK(res->status == 200);
  auto access = server.logs().WaitFind({"request_id=redaction-check", "msg=request"});
  REQUIRE(access.size() == 1);
  std::string all = server.logs().all();
  CHECK(all.find("s3cr3t-value") == std::string::npos);
  CHECK(all.find("very-secret-token") == std::string::npos);
  CHECK(all.find("Bearer") == std::string::npos);
  CHECK(access[0].find("query=n,token") != std::string::npos);
  CHECK(access[0].find("path=/v2/") != std::string::npos);
  CHECK(access[0].find("duration_ms=") != std::string::npos);
  CHECK(access[0].find("bytes_out=2") != std::string::npos);
}

TEST_CASE("unknown routes: 404 with an OCI body") {
  TestServer server;
  auto client = server.Client();
  // "/" is the web UI's page since issue 12 (tests/http/web_assets_test.cpp).
  for (const char* path : {"/v1/", "/v2/foo", "/v2/foo/tags/other", "/v2/foo/bar/baz",
                           "/favicon.ico", "/v2/_catalog/x"}) {
    CAPTURE(path);
    auto res = client->Get(path);
    REQUIRE(res);
    CHECK(res->status == 404);
    CHECK(res->get_header_value("Content-Type") == "application/json");
    CHECK(ErrorCode(res->body) == "NAME_UNKNOWN");
  }
  CHECK(StillServes(server.port()));
}

TEST_CASE("unsupported methods on known paths: 405 UNSUPPORTED with Allow") {
  TestServer server;
  auto client = server.Client();
  std::string digest = DigestOf("x");

  auto patch_blob = client->Patch("/v2/repo/blobs/" + digest, "x", "application/octet-stream");
  REQUIRE(patch_blob);
  CHECK(patch_blob->status == 405);
  CHECK(ErrorCode(patch_blob->body) == "UNSUPPORTED");
  CHECK(patch_blob->get_header_value("Allow") == "GET, HEAD, DELETE");

  auto post_manifest = client->Post("/v2/repo/manifests/latest", "{}", "application/json");
  REQUIRE(post_manifest);
  CHECK(post_manifest->status == 405);
  CHECK(ErrorCode(post_manifest->body) == "UNSUPPORTED");
  CHECK(post_manifest->get_header_value("Allow") == "GET, HEAD, PUT, DELETE");

  auto del_tags = client->Delete("/v2/repo/tags/list");
  REQUIRE(del_tags);
  CHECK(del_tags->status == 405);
  CHECK(del_tags->get_header_value("Allow") == "GET");

  auto del_referrers = client->Delete("/v2/repo/referrers/" + digest);
  REQUIRE(del_referrers);
  CHECK(del_referrers->status == 405);
  CHECK(del_referrers->get_header_value("Allow") == "GET");

  auto put_catalog = client->Put("/v2/_catalog", "", "application/json");
  REQUIRE(put_catalog);
  CHECK(put_catalog->status == 405);
  CHECK(put_catalog->get_header_value("Allow") == "GET");

  auto post_root = client->Post("/v2/", "", "application/json");
  REQUIRE(post_root);
  CHECK(post_root->status == 405);

  auto put_blob = client->Put("/v2/repo/blobs/" + digest, "x", "application/octet-stream");
  REQUIRE(put_blob);
  CHECK(put_blob->status == 405);

  httplib::Request options;
  options.method = "OPTIONS";
  options.path = "/v2/repo/manifests/latest";
  auto opt = client->send(options);
  REQUIRE(opt);
  CHECK(opt->status == 405);
  CHECK(StillServes(server.port()));
}
