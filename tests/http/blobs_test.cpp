// Blob HEAD/GET: headers, byte ranges, unknown and malformed digests, and a
// multi-MiB blob streamed from a filesystem store.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "http_test_support.h"
#include "quay/storage.h"

using namespace quayd::testing;

namespace {

std::string Bytes(size_t n) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>((i * 7 + 3) & 0xff);
  return out;
}

}  // namespace

TEST_CASE("HEAD and GET a blob: headers and exact bytes") {
  TestServer server;
  auto client = server.Client();
  std::string data = Bytes(1000);
  std::string digest = DigestOf(data);
  REQUIRE(PushBlob(*client, "repo", data) == 201);

  auto head = client->Head("/v2/repo/blobs/" + digest);
  REQUIRE(head);
  CHECK(head->status == 200);
  CHECK(head->body.empty());
  CHECK(head->get_header_value("Content-Length") == "1000");
  CHECK(head->get_header_value("Docker-Content-Digest") == digest);
  CHECK(head->get_header_value("Content-Type") == "application/octet-stream");
  CHECK(head->get_header_value("Accept-Ranges") == "bytes");
  CHECK(head->get_header_value("ETag") == "\"" + digest + "\"");

  auto get = client->Get("/v2/repo/blobs/" + digest);
  REQUIRE(get);
  CHECK(get->status == 200);
  CHECK(get->body == data);
  CHECK(get->get_header_value("Content-Length") == "1000");
  CHECK(get->get_header_value("Docker-Content-Digest") == digest);
  CHECK(get->get_header_value("Content-Type") == "application/octet-stream");
  CHECK(get->get_header_value("ETag") == "\"" + digest + "\"");
  CHECK_FALSE(get->has_header("Content-Range"));
}

TEST_CASE("blob ranges: 206 for a-b, a-, -n; 416 when unsatisfiable; multi-range served whole") {
  TestServer server;
  auto client = server.Client();
  std::string data = Bytes(100);
  std::string path = "/v2/repo/blobs/" + DigestOf(data);
  REQUIRE(PushBlob(*client, "repo", data) == 201);

  struct Case {
    const char* range;
    size_t first;
    size_t last;
  };
  for (const Case& c :
       {Case{"bytes=0-9", 0, 9}, Case{"bytes=10-", 10, 99}, Case{"bytes=-5", 95, 99},
        Case{"bytes=50-1000", 50, 99}, Case{"bytes=99-99", 99, 99}}) {
    CAPTURE(c.range);
    auto res = client->Get(path, {{"Range", c.range}});
    REQUIRE(res);
    CHECK(res->status == 206);
    CHECK(res->body == data.substr(c.first, c.last - c.first + 1));
    CHECK(res->get_header_value("Content-Range") ==
          "bytes " + std::to_string(c.first) + "-" + std::to_string(c.last) + "/100");
    CHECK(res->get_header_value("Content-Length") == std::to_string(c.last - c.first + 1));
  }

  for (const char* unsatisfiable : {"bytes=100-", "bytes=200-300", "bytes=-0"}) {
    CAPTURE(unsatisfiable);
    auto res = client->Get(path, {{"Range", unsatisfiable}});
    REQUIRE(res);
    CHECK(res->status == 416);
    CHECK(res->get_header_value("Content-Range") == "bytes */100");
    CHECK(ErrorCode(res->body) == "RANGE_INVALID");
  }

  auto multi = client->Get(path, {{"Range", "bytes=0-1,5-6"}});
  REQUIRE(multi);
  CHECK(multi->status == 200);
  CHECK(multi->body == data);

  // HEAD ignores Range.
  auto head = client->Head(path, {{"Range", "bytes=0-9"}});
  REQUIRE(head);
  CHECK(head->status == 200);
  CHECK(head->get_header_value("Content-Length") == "100");

  // Malformed Range headers are answered by cpp-httplib before any handler;
  // whatever it says, it is not a 5xx and the server lives on.
  auto junk = client->Get(path, {{"Range", "bytes=zzz"}});
  REQUIRE(junk);
  CHECK(junk->status < 500);
  CHECK(StillServes(server.port()));
}

TEST_CASE("unknown blob: 404 BLOB_UNKNOWN; malformed digest: 400 DIGEST_INVALID") {
  TestServer server;
  auto client = server.Client();
  REQUIRE(PushBlob(*client, "has", "blob") == 201);
  std::string absent = DigestOf("absent");
  for (const std::string& path :
       {"/v2/repo/blobs/" + absent, "/v2/other/blobs/" + DigestOf("blob")}) {
    CAPTURE(path);
    auto get = client->Get(path);
    REQUIRE(get);
    CHECK(get->status == 404);
    CHECK(ErrorCode(get->body) == "BLOB_UNKNOWN");
    auto head = client->Head(path);
    REQUIRE(head);
    CHECK(head->status == 404);
  }
  for (const char* bad : {"latest", "sha256:short",
                          "sha256:"
                          "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ",
                          "md5:d41d8cd98f00b204e9800998ecf8427e", "sha256"}) {
    CAPTURE(bad);
    auto get = client->Get(std::string("/v2/repo/blobs/") + bad);
    REQUIRE(get);
    CHECK(get->status == 400);
    CHECK(ErrorCode(get->body) == "DIGEST_INVALID");
  }
  CHECK(StillServes(server.port()));
}

TEST_CASE("on-disk registry: a multi-MiB blob streams both ways, ranges across buffer edges") {
  ServerOptions options;
  options.on_disk = true;
  TestServer server(options);
  auto client = server.Client();
  std::string data = Bytes((5u << 20) + 777);
  std::string digest = DigestOf(data);
  REQUIRE(PushBlob(*client, "disk/repo", data) == 201);

  auto get = client->Get("/v2/disk/repo/blobs/" + digest);
  REQUIRE(get);
  CHECK(get->status == 200);
  CHECK(get->body.size() == data.size());
  CHECK(get->body == data);

  const size_t mib = 1u << 20;
  std::string range = "bytes=" + std::to_string(mib - 10) + "-" + std::to_string(3 * mib + 10);
  auto part = client->Get("/v2/disk/repo/blobs/" + digest, {{"Range", range}});
  REQUIRE(part);
  CHECK(part->status == 206);
  CHECK(part->body == data.substr(mib - 10, 2 * mib + 21));
}

namespace {

// The memory store, plus direct URLs (as the S3 driver's presigned ones).
class DirectUrlStore final : public quay::BlobStore {
 public:
  using Writer = quay::Result<std::unique_ptr<quay::UploadWriter>>;
  using Reader = quay::Result<std::unique_ptr<quay::BlobReader>>;
  Writer CreateUpload(std::string_view id) override { return inner_->CreateUpload(id); }
  Writer OpenUpload(std::string_view id, uint64_t keep) override {
    return inner_->OpenUpload(id, keep);
  }
  Reader ReadUpload(std::string_view id) override { return inner_->ReadUpload(id); }
  quay::Status DeleteUpload(std::string_view id) override { return inner_->DeleteUpload(id); }
  quay::Result<std::vector<std::string>> ListUploads() override { return inner_->ListUploads(); }
  Reader OpenBlob(const quay::Digest& d) override { return inner_->OpenBlob(d); }
  quay::Result<uint64_t> BlobSize(const quay::Digest& d) override { return inner_->BlobSize(d); }
  quay::Status DeleteBlob(const quay::Digest& d) override { return inner_->DeleteBlob(d); }
  quay::Result<std::vector<quay::Digest>> ListBlobs() override { return inner_->ListBlobs(); }
  quay::Result<std::string> PresignBlobGet(const quay::Digest& d,
                                           std::chrono::seconds lifetime) override {
    return "http://store.example/" + std::string(d.hex()) +
           "?expires=" + std::to_string(lifetime.count());
  }

 private:
  std::shared_ptr<quay::BlobStore> inner_ = quay::NewMemoryBlobStore();
};

}  // namespace

TEST_CASE("blob_redirects: 307 to the store's direct URL, only for linked blobs") {
  ServerOptions options;
  options.blob_store = std::make_shared<DirectUrlStore>();
  options.limits.blob_redirects = true;
  TestServer server(options);
  auto client = server.Client();
  const std::string data = Bytes(300);
  const std::string digest = DigestOf(data);
  REQUIRE(PushBlob(*client, "repo", data) == 201);

  auto get = client->Get("/v2/repo/blobs/" + digest);
  REQUIRE(get);
  CHECK(get->status == 307);
  CHECK(get->get_header_value("Location") ==
        "http://store.example/" + digest.substr(7) + "?expires=600");
  CHECK(get->get_header_value("Docker-Content-Digest") == digest);
  CHECK(get->body.empty());
  // HEAD still answers itself; a blob of another repository is no redirect.
  auto head = client->Head("/v2/repo/blobs/" + digest);
  REQUIRE(head);
  CHECK(head->status == 200);
  auto other = client->Get("/v2/other/blobs/" + digest);
  REQUIRE(other);
  CHECK(other->status == 404);
  CHECK(other->body.find("BLOB_UNKNOWN") != std::string::npos);
}

TEST_CASE("blob_redirects: streamed when off, or when the store has no direct URLs") {
  for (const bool redirects : {false, true}) {
    ServerOptions options;
    if (!redirects) options.blob_store = std::make_shared<DirectUrlStore>();
    options.limits.blob_redirects = redirects;  // on: the memory store, no direct URLs
    TestServer server(options);
    auto client = server.Client();
    const std::string data = Bytes(300);
    REQUIRE(PushBlob(*client, "repo", data) == 201);
    auto get = client->Get("/v2/repo/blobs/" + DigestOf(data));
    REQUIRE(get);
    CHECK(get->status == 200);
    CHECK(get->body == data);
  }
}
