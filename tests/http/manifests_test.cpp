// Manifest PUT/GET/HEAD by tag and digest, and the manifest error paths.
#include <doctest/doctest.h>

#include <string>

#include "http_test_support.h"

using namespace quayd::testing;

namespace {

constexpr std::string_view kIndexType = "application/vnd.oci.image.index.v1+json";

httplib::Result PutManifest(httplib::Client& client, const std::string& repo,
                            const std::string& ref, const std::string& body,
                            std::string_view media_type = kOciManifest) {
  return client.Put("/v2/" + repo + "/manifests/" + ref, body, std::string(media_type));
}

}  // namespace

TEST_CASE("manifest PUT by tag, then GET/HEAD by tag and by digest") {
  TestServer server;
  auto client = server.Client();
  std::string manifest = PushImageBlobs(*client, "org/app");
  std::string digest = DigestOf(manifest);

  auto put = PutManifest(*client, "org/app", "v1", manifest);
  REQUIRE(put);
  CHECK(put->status == 201);
  CHECK(put->get_header_value("Location") == "/v2/org/app/manifests/" + digest);
  CHECK(put->get_header_value("Docker-Content-Digest") == digest);
  CHECK_FALSE(put->has_header("OCI-Subject"));

  for (const std::string& ref : {std::string("v1"), digest}) {
    CAPTURE(ref);
    auto get = client->Get("/v2/org/app/manifests/" + ref);
    REQUIRE(get);
    CHECK(get->status == 200);
    CHECK(get->body == manifest);
    CHECK(get->get_header_value("Content-Type") == kOciManifest);
    CHECK(get->get_header_value("Docker-Content-Digest") == digest);
    CHECK(get->get_header_value("Content-Length") == std::to_string(manifest.size()));
    CHECK(get->get_header_value("ETag") == "\"" + digest + "\"");

    auto head = client->Head("/v2/org/app/manifests/" + ref);
    REQUIRE(head);
    CHECK(head->status == 200);
    CHECK(head->body.empty());
    CHECK(head->get_header_value("Content-Type") == kOciManifest);
    CHECK(head->get_header_value("Docker-Content-Digest") == digest);
    CHECK(head->get_header_value("Content-Length") == std::to_string(manifest.size()));
  }

  // A Range header does not slice a manifest.
  auto ranged = client->Get("/v2/org/app/manifests/v1", {{"Range", "bytes=0-3"}});
  REQUIRE(ranged);
  CHECK(ranged->status == 200);
  CHECK(ranged->body == manifest);
}

TEST_CASE("manifest PUT by digest; Content-Type parameters are ignored") {
  TestServer server;
  auto client = server.Client();
  std::string manifest = PushImageBlobs(*client, "repo", "by-digest");
  std::string digest = DigestOf(manifest);
  auto put = PutManifest(*client, "repo", digest, manifest,
                         "application/vnd.oci.image.manifest.v1+json; charset=utf-8");
  REQUIRE(put);
  CHECK(put->status == 201);
  CHECK(put->get_header_value("Docker-Content-Digest") == digest);
  auto get = client->Get("/v2/repo/manifests/" + digest);
  REQUIRE(get);
  CHECK(get->status == 200);
  CHECK(get->body == manifest);

  // The digest in the URL must be the body's.
  std::string other = PushImageBlobs(*client, "repo", "other");
  auto mismatch = PutManifest(*client, "repo", digest, other);
  REQUIRE(mismatch);
  CHECK(mismatch->status == 400);
  CHECK(ErrorCode(mismatch->body) == "DIGEST_INVALID");
}

TEST_CASE("manifest with a subject answers OCI-Subject") {
  TestServer server;
  auto client = server.Client();
  std::string base = PushImageBlobs(*client, "repo", "base");
  REQUIRE(PutManifest(*client, "repo", "base", base)->status == 201);

  std::string config = "{\"sig\":true}";
  std::string layer = "signature";
  REQUIRE(PushBlob(*client, "repo", config) == 201);
  REQUIRE(PushBlob(*client, "repo", layer) == 201);
  std::string referrer =
      ImageManifest({DigestOf(config), config.size()}, {{DigestOf(layer), layer.size()}},
                    BlobRef{DigestOf(base), base.size()});
  auto put = PutManifest(*client, "repo", DigestOf(referrer), referrer);
  REQUIRE(put);
  CHECK(put->status == 201);
  CHECK(put->get_header_value("OCI-Subject") == DigestOf(base));
}

TEST_CASE("manifest referencing a missing blob: 400 MANIFEST_BLOB_UNKNOWN") {
  TestServer server;
  auto client = server.Client();
  std::string config = "{}";
  REQUIRE(PushBlob(*client, "repo", config) == 201);
  std::string manifest =
      ImageManifest({DigestOf(config), config.size()}, {{DigestOf("never pushed"), 12}});
  auto put = PutManifest(*client, "repo", "latest", manifest);
  REQUIRE(put);
  CHECK(put->status == 400);
  CHECK(ErrorCode(put->body) == "MANIFEST_BLOB_UNKNOWN");
  auto get = client->Get("/v2/repo/manifests/latest");
  REQUIRE(get);
  CHECK(get->status == 404);
}

TEST_CASE("invalid manifests: 400 MANIFEST_INVALID") {
  TestServer server;
  auto client = server.Client();
  for (const char* body : {"not json", "{", "[]", "{\"schemaVersion\":2}", ""}) {
    CAPTURE(body);
    auto put = PutManifest(*client, "repo", "latest", body);
    REQUIRE(put);
    CHECK(put->status == 400);
    CHECK(ErrorCode(put->body) == "MANIFEST_INVALID");
  }
  // A bad tag in the URL.
  auto bad_tag = PutManifest(*client, "repo", "-bad-tag", "{}");
  REQUIRE(bad_tag);
  CHECK(bad_tag->status == 400);
  CHECK(ErrorCode(bad_tag->body) == "MANIFEST_INVALID");
  CHECK(StillServes(server.port()));
}

TEST_CASE("manifest over 4 MiB: 413 before reading (Content-Length) and while reading (chunked)") {
  TestServer server;
  auto client = server.Client();
  std::string huge((4u << 20) + 1, ' ');

  auto put = PutManifest(*client, "repo", "big", huge);
  REQUIRE(put);
  CHECK(put->status == 413);
  CHECK(ErrorCode(put->body) == "SIZE_INVALID");

  size_t sent = 0;
  auto chunked = client->Put(
      "/v2/repo/manifests/big", {},
      [&](size_t, httplib::DataSink& sink) {
        if (sent >= huge.size()) {
          sink.done();
          return true;
        }
        size_t n = std::min<size_t>(65536, huge.size() - sent);
        sink.write(huge.data() + sent, n);
        sent += n;
        return true;
      },
      std::string(kOciManifest));
  // The server stops reading at the cap and closes; the client may see the
  // 413 or a reset, but never a stored manifest.
  if (chunked) CHECK(chunked->status == 413);
  auto get = client->Get("/v2/repo/manifests/big");
  REQUIRE(get);
  CHECK(get->status == 404);
  CHECK(StillServes(server.port()));
}

TEST_CASE("unknown manifest: 404 MANIFEST_UNKNOWN; unknown repository: 404 NAME_UNKNOWN") {
  TestServer server;
  auto client = server.Client();
  std::string manifest = PushImageBlobs(*client, "known");
  REQUIRE(PutManifest(*client, "known", "v1", manifest)->status == 201);

  for (const std::string& ref : {std::string("v2"), DigestOf("nothing")}) {
    CAPTURE(ref);
    auto get = client->Get("/v2/known/manifests/" + ref);
    REQUIRE(get);
    CHECK(get->status == 404);
    CHECK(ErrorCode(get->body) == "MANIFEST_UNKNOWN");
    auto head = client->Head("/v2/known/manifests/" + ref);
    REQUIRE(head);
    CHECK(head->status == 404);
  }
  auto unknown_repo = client->Get("/v2/never/pushed/manifests/latest");
  REQUIRE(unknown_repo);
  CHECK(unknown_repo->status == 404);
  CHECK(ErrorCode(unknown_repo->body) == "NAME_UNKNOWN");
}

TEST_CASE("a reference that is neither a tag nor a digest: GET/HEAD 404 MANIFEST_UNKNOWN") {
  TestServer server;
  auto client = server.Client();
  std::string manifest = PushImageBlobs(*client, "known");
  REQUIRE(PutManifest(*client, "known", "v1", manifest)->status == 201);
  for (const std::string& ref :
       {std::string("-bad-tag"), std::string("sha256:short"), std::string(200, 'a')}) {
    CAPTURE(ref);
    auto get = client->Get("/v2/known/manifests/" + ref);
    REQUIRE(get);
    CHECK(get->status == 404);
    CHECK(ErrorCode(get->body) == "MANIFEST_UNKNOWN");
    auto head = client->Head("/v2/known/manifests/" + ref);
    REQUIRE(head);
    CHECK(head->status == 404);
  }
}

// Go clients read these documents differently from quayd: refused.
TEST_CASE("a manifest with a byte-order mark or a duplicate key: 400 MANIFEST_INVALID") {
  TestServer server;
  auto client = server.Client();
  std::string manifest = PushImageBlobs(*client, "repo");
  std::string index = std::string(R"({"schemaVersion":2,"mediaType":")") + std::string(kIndexType) +
                      R"(","manifests":[]})";
  const std::vector<std::pair<std::string, std::string_view>> bodies = {
      {"\xEF\xBB\xBF" + manifest, kOciManifest},
      {"\xEF\xBB\xBF" + index, kIndexType},
      {manifest.substr(0, manifest.size() - 1) + R"(,"schemaVersion":2})", kOciManifest},
      {index.substr(0, index.size() - 1) + R"(,"annotations":{"a":"1","a":"2"}})", kIndexType},
  };
  for (const auto& [body, type] : bodies) {
    CAPTURE(body);
    auto put = PutManifest(*client, "repo", "latest", body, type);
    REQUIRE(put);
    CHECK(put->status == 400);
    CHECK(ErrorCode(put->body) == "MANIFEST_INVALID");
  }
  auto get = client->Get("/v2/repo/manifests/latest");
  REQUIRE(get);
  CHECK(get->status == 404);
}

TEST_CASE("a descriptor size that differs from the blob's: 400 MANIFEST_INVALID") {
  TestServer server;
  auto client = server.Client();
  std::string config = "{}";
  std::string layer = "layer";
  REQUIRE(PushBlob(*client, "repo", config) == 201);
  REQUIRE(PushBlob(*client, "repo", layer) == 201);
  auto put = PutManifest(
      *client, "repo", "latest",
      ImageManifest({DigestOf(config), config.size()}, {{DigestOf(layer), layer.size() + 1}}));
  REQUIRE(put);
  CHECK(put->status == 400);
  CHECK(ErrorCode(put->body) == "MANIFEST_INVALID");
  auto ok = PutManifest(
      *client, "repo", "latest",
      ImageManifest({DigestOf(config), config.size()}, {{DigestOf(layer), layer.size()}}));
  REQUIRE(ok);
  CHECK(ok->status == 201);
}

TEST_CASE("a foreign layer that was never pushed does not block the manifest: 201") {
  TestServer server;
  auto client = server.Client();
  std::string config = "{}";
  REQUIRE(PushBlob(*client, "repo", config) == 201);
  std::string manifest =
      std::string(R"({"schemaVersion":2,"mediaType":")") + std::string(kOciManifest) +
      R"(","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
      DigestOf(config) +
      R"(","size":2},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip","digest":")" +
      DigestOf("windows base layer") + R"(","size":1234,"urls":["https://example.com/base"]}]})";
  auto put = PutManifest(*client, "repo", "win", manifest);
  REQUIRE(put);
  CHECK(put->status == 201);
  auto get = client->Get("/v2/repo/manifests/win");
  REQUIRE(get);
  CHECK(get->status == 200);
  CHECK(get->body == manifest);
}
