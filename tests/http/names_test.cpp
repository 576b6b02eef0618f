// Repository-name validation and path tricks: 400 NAME_INVALID before
// anything else happens.
#include <doctest/doctest.h>

#include <string>

#include "http_test_support.h"

using namespace quayd::testing;

TEST_CASE("bad names: 400 NAME_INVALID on every route kind") {
  TestServer server;
  auto client = server.Client();
  const std::string digest = DigestOf("x");
  for (const char* name : {"UPPER", "a/../b", "a/./b", "a%2Fb", "a%2fb", "a//b", "-lead", "trail-",
                           "a__-b", "a/", "%2e%2e/x", "sp%20ace", "a/b%00"}) {
    CAPTURE(name);
    const std::string base = std::string("/v2/") + name;
    for (const std::string& path :
         {base + "/manifests/latest", base + "/blobs/" + digest, base + "/blobs/uploads/",
          base + "/tags/list", base + "/referrers/" + digest}) {
      CAPTURE(path);
      auto get = client->Get(path);
      REQUIRE(get);
      CHECK(get->status == 400);
      CHECK(ErrorCode(get->body) == "NAME_INVALID");
    }
    auto post = client->Post(base + "/blobs/uploads/", "", "application/octet-stream");
    REQUIRE(post);
    CHECK(post->status == 400);
    CHECK(ErrorCode(post->body) == "NAME_INVALID");
    auto put = client->Put(base + "/manifests/latest", "{}", std::string(kOciManifest));
    REQUIRE(put);
    CHECK(put->status == 400);
    CHECK(ErrorCode(put->body) == "NAME_INVALID");
    for (const std::string& path : {base + "/manifests/" + digest, base + "/blobs/" + digest}) {
      CAPTURE(path);
      auto del = client->Delete(path);
      REQUIRE(del);
      CHECK(del->status == 400);
      CHECK(ErrorCode(del->body) == "NAME_INVALID");
    }
  }
  // A name longer than 255 characters.
  std::string long_name(256, 'a');
  auto too_long = client->Get("/v2/" + long_name + "/manifests/latest");
  REQUIRE(too_long);
  CHECK(too_long->status == 400);
  CHECK(ErrorCode(too_long->body) == "NAME_INVALID");

  // Name validation comes before route-specific checks (bad digest here).
  auto both = client->Get("/v2/BAD/blobs/not-a-digest");
  REQUIRE(both);
  CHECK(ErrorCode(both->body) == "NAME_INVALID");

  // Nothing was created, and the server still serves.
  CHECK(StillServes(server.port()));
  auto ok = client->Post("/v2/good/name/blobs/uploads/", "", "application/octet-stream");
  REQUIRE(ok);
  CHECK(ok->status == 202);
}

TEST_CASE("path tricks seen on the raw request line") {
  TestServer server;
  // Raw requests: httplib::Client would leave these alone too, but this shows
  // exactly what reaches the server.
  for (const char* target : {"/v2/a/%2e%2e/b/manifests/x", "/v2/a%2F..%2Fb/manifests/x",
                             "/v2/a/b/manifests/%2e%2e", "/v2//manifests/x"}) {
    CAPTURE(target);
    RawConnection conn(server.port());
    REQUIRE(conn.ok());
    REQUIRE(conn.Send(std::string("GET ") + target + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    RawResponse res = conn.Read();
    CHECK(res.status == 400);
    CHECK(ErrorCode(res.body) == "NAME_INVALID");
  }
  CHECK(StillServes(server.port()));
}
