// Blob upload sessions over HTTP: monolithic, POST+PUT, chunked PATCH,
// streamed PATCH, status, cancel, and the error paths.
#include <doctest/doctest.h>

#include <string>

#include "http_test_support.h"

using namespace quayd::testing;

namespace {

struct Session {
  std::string location;  // /v2/<name>/blobs/uploads/<id>
  std::string uuid;
};

Session StartSession(httplib::Client& client, const std::string& repo) {
  auto res = client.Post("/v2/" + repo + "/blobs/uploads/", "", "application/octet-stream");
  REQUIRE(res);
  REQUIRE(res->status == 202);
  Session s{res->get_header_value("Location"), res->get_header_value("Docker-Upload-UUID")};
  CHECK(s.location == "/v2/" + repo + "/blobs/uploads/" + s.uuid);
  CHECK(res->get_header_value("Range") == "0-0");
  CHECK(res->get_header_value("Content-Length") == "0");
  return s;
}

httplib::Result Patch(httplib::Client& client, const std::string& location,
                      const std::string& chunk, const std::string& content_range = "") {
  httplib::Headers headers;
  if (!content_range.empty()) headers.emplace("Content-Range", content_range);
  return client.Patch(location, headers, chunk, "application/octet-stream");
}

int BlobStatus(httplib::Client& client, const std::string& repo, const std::string& digest) {
  auto res = client.Head("/v2/" + repo + "/blobs/" + digest);
  return res ? res->status : 0;
}

std::string Pattern(size_t n, char seed) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>(seed + (i * 31 % 97));
  return out;
}

}  // namespace

TEST_CASE("monolithic POST ?digest= creates the blob") {
  TestServer server;
  auto client = server.Client();
  std::string data = "monolithic blob";
  std::string digest = DigestOf(data);
  auto res =
      client->Post("/v2/lib/app/blobs/uploads/?digest=" + digest, data, "application/octet-stream");
  REQUIRE(res);
  CHECK(res->status == 201);
  CHECK(res->get_header_value("Location") == "/v2/lib/app/blobs/" + digest);
  CHECK(res->get_header_value("Docker-Content-Digest") == digest);
  CHECK(BlobStatus(*client, "lib/app", digest) == 200);

  // An empty blob is a blob too.
  std::string empty_digest = DigestOf("");
  auto empty = client->Post("/v2/lib/app/blobs/uploads/?digest=" + empty_digest, "",
                            "application/octet-stream");
  REQUIRE(empty);
  CHECK(empty->status == 201);
  auto get = client->Get("/v2/lib/app/blobs/" + empty_digest);
  REQUIRE(get);
  CHECK(get->status == 200);
  CHECK(get->body.empty());
}

TEST_CASE("monolithic POST with a wrong digest: 400 DIGEST_INVALID, nothing visible") {
  TestServer server;
  auto client = server.Client();
  std::string wrong = DigestOf("something else");
  auto res = client->Post("/v2/repo/blobs/uploads/?digest=" + wrong, "actual bytes",
                          "application/octet-stream");
  REQUIRE(res);
  CHECK(res->status == 400);
  CHECK(ErrorCode(res->body) == "DIGEST_INVALID");
  CHECK(BlobStatus(*client, "repo", wrong) == 404);
  CHECK(BlobStatus(*client, "repo", DigestOf("actual bytes")) == 404);

  for (const char* bad :
       {"nope", "sha256:xyz", "sha256:", "md5:d41d8cd98f00b204e9800998ecf8427e"}) {
    CAPTURE(bad);
    auto r = client->Post(std::string("/v2/repo/blobs/uploads/?digest=") + bad, "x",
                          "application/octet-stream");
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(ErrorCode(r->body) == "DIGEST_INVALID");
  }
  CHECK(StillServes(server.port()));
}

TEST_CASE("POST ?mount= of a blob the source lacks: a normal session starts") {
  TestServer server;
  auto client = server.Client();
  auto res = client->Post("/v2/repo/blobs/uploads/?mount=" + DigestOf("x") + "&from=other", "",
                          "application/octet-stream");
  REQUIRE(res);
  CHECK(res->status == 202);
  CHECK_FALSE(res->get_header_value("Docker-Upload-UUID").empty());
}

TEST_CASE("POST then PUT with the whole body") {
  TestServer server;
  auto client = server.Client();
  Session s = StartSession(*client, "repo");
  std::string data = Pattern(3000, 'a');
  std::string digest = DigestOf(data);
  auto put = client->Put(s.location + "?digest=" + digest, data, "application/octet-stream");
  REQUIRE(put);
  CHECK(put->status == 201);
  CHECK(put->get_header_value("Location") == "/v2/repo/blobs/" + digest);
  CHECK(put->get_header_value("Docker-Content-Digest") == digest);
  auto get = client->Get("/v2/repo/blobs/" + digest);
  REQUIRE(get);
  CHECK(get->body == data);
  // The session is over.
  auto status = client->Get(s.location);
  REQUIRE(status);
  CHECK(status->status == 404);
  CHECK(ErrorCode(status->body) == "BLOB_UPLOAD_UNKNOWN");
}

TEST_CASE("chunked PATCH with Content-Range, in order, then PUT without body") {
  TestServer server;
  auto client = server.Client();
  Session s = StartSession(*client, "chunks");
  std::string data = Pattern(10000, 'A');

  auto first = Patch(*client, s.location, data.substr(0, 4000), "0-3999");
  REQUIRE(first);
  CHECK(first->status == 202);
  CHECK(first->get_header_value("Range") == "0-3999");
  CHECK(first->get_header_value("Location") == s.location);
  CHECK(first->get_header_value("Docker-Upload-UUID") == s.uuid);
  CHECK(first->get_header_value("Content-Length") == "0");

  // "bytes=" prefix accepted too.
  auto second = Patch(*client, s.location, data.substr(4000, 5000), "bytes=4000-8999");
  REQUIRE(second);
  CHECK(second->status == 202);
  CHECK(second->get_header_value("Range") == "0-8999");

  auto status = client->Get(s.location);
  REQUIRE(status);
  CHECK(status->status == 204);
  CHECK(status->get_header_value("Range") == "0-8999");
  CHECK(status->get_header_value("Docker-Upload-UUID") == s.uuid);
  CHECK(status->get_header_value("Location") == s.location);

  // The last chunk rides on the PUT.
  std::string digest = DigestOf(data);
  httplib::Headers headers{{"Content-Range", "9000-9999"}};
  auto put = client->Put(s.location + "?digest=" + digest, headers, data.substr(9000),
                         "application/octet-stream");
  REQUIRE(put);
  CHECK(put->status == 201);
  auto get = client->Get("/v2/chunks/blobs/" + digest);
  REQUIRE(get);
  CHECK(get->status == 200);
  CHECK(get->body == data);
}

TEST_CASE("out-of-order chunk: 416 with the current Range, session still usable") {
  TestServer server;
  auto client = server.Client();
  Session s = StartSession(*client, "ooo");
  std::string data = Pattern(300, 'k');

  REQUIRE(Patch(*client, s.location, data.substr(0, 100), "0-99")->status == 202);

  // A gap.
  auto gap = Patch(*client, s.location, data.substr(200, 100), "200-299");
  REQUIRE(gap);
  CHECK(gap->status == 416);
  CHECK(gap->get_header_value("Range") == "0-99");
  CHECK(gap->get_header_value("Docker-Upload-UUID") == s.uuid);
  CHECK(ErrorCode(gap->body) == "BLOB_UPLOAD_INVALID");

  // A replay of an acknowledged chunk.
  auto replay = Patch(*client, s.location, data.substr(0, 100), "0-99");
  REQUIRE(replay);
  CHECK(replay->status == 416);
  CHECK(replay->get_header_value("Range") == "0-99");

  // The right chunk (same keep-alive client) still works.
  auto next = Patch(*client, s.location, data.substr(100, 200), "100-299");
  REQUIRE(next);
  CHECK(next->status == 202);
  CHECK(next->get_header_value("Range") == "0-299");

  auto put = client->Put(s.location + "?digest=" + DigestOf(data), "", "application/octet-stream");
  REQUIRE(put);
  CHECK(put->status == 201);
  auto get = client->Get("/v2/ooo/blobs/" + DigestOf(data));
  REQUIRE(get);
  CHECK(get->body == data);
}

TEST_CASE("Content-Range problems: junk, length mismatch") {
  TestServer server;
  auto client = server.Client();
  Session s = StartSession(*client, "ranges");

  for (const char* junk : {"abc", "5", "-5", "9-1", "1-2-3", "bytes=x-y"}) {
    CAPTURE(junk);
    auto res = Patch(*client, s.location, "0123456789", junk);
    REQUIRE(res);
    CHECK(res->status == 400);
    CHECK(ErrorCode(res->body) == "BLOB_UPLOAD_INVALID");
  }
  // Content-Range says 5 bytes, the body has 10.
  auto mismatch = Patch(*client, s.location, "0123456789", "0-4");
  REQUIRE(mismatch);
  CHECK(mismatch->status == 400);
  CHECK(ErrorCode(mismatch->body) == "BLOB_UPLOAD_INVALID");

  // Nothing was written by any of those.
  auto status = client->Get(s.location);
  REQUIRE(status);
  CHECK(status->get_header_value("Range") == "0-0");
  auto ok = Patch(*client, s.location, "0123456789", "0-9");
  REQUIRE(ok);
  CHECK(ok->status == 202);
  CHECK(ok->get_header_value("Range") == "0-9");
}

TEST_CASE("streamed PATCH without Content-Range appends (chunked and plain)") {
  TestServer server;
  auto client = server.Client();
  Session s = StartSession(*client, "stream");
  // 3 MiB + a bit, so it crosses the server's 1 MiB write buffer.
  std::string data = Pattern((3u << 20) + 12345, 'q');

  // Chunked transfer-encoding, in uneven pieces.
  size_t sent = 0;
  const size_t half = data.size() / 2;
  auto chunked = client->Patch(
      s.location, {},
      [&](size_t, httplib::DataSink& sink) {
        if (sent >= half) {
          sink.done();
          return true;
        }
        size_t n = std::min<size_t>(70000, half - sent);
        sink.write(data.data() + sent, n);
        sent += n;
        return true;
      },
      "application/octet-stream");
  REQUIRE(chunked);
  CHECK(chunked->status == 202);
  CHECK(chunked->get_header_value("Range") == "0-" + std::to_string(half - 1));

  // Plain Content-Length body, no Content-Range.
  auto plain = Patch(*client, s.location, data.substr(half));
  REQUIRE(plain);
  CHECK(plain->status == 202);
  CHECK(plain->get_header_value("Range") == "0-" + std::to_string(data.size() - 1));

  auto put = client->Put(s.location + "?digest=" + DigestOf(data), "", "application/octet-stream");
  REQUIRE(put);
  CHECK(put->status == 201);
  auto get = client->Get("/v2/stream/blobs/" + DigestOf(data));
  REQUIRE(get);
  CHECK(get->body.size() == data.size());
  CHECK(get->body == data);
}

TEST_CASE("PUT commit errors: missing/malformed digest, wrong digest keeps the session") {
  TestServer server;
  auto client = server.Client();
  Session s = StartSession(*client, "commit");
  REQUIRE(Patch(*client, s.location, "hello", "0-4")->status == 202);

  auto missing = client->Put(s.location, "", "application/octet-stream");
  REQUIRE(missing);
  CHECK(missing->status == 400);
  CHECK(ErrorCode(missing->body) == "DIGEST_INVALID");

  auto malformed = client->Put(s.location + "?digest=sha256:zz", "", "application/octet-stream");
  REQUIRE(malformed);
  CHECK(malformed->status == 400);
  CHECK(ErrorCode(malformed->body) == "DIGEST_INVALID");

  std::string wrong = DigestOf("goodbye");
  auto mismatch = client->Put(s.location + "?digest=" + wrong, "", "application/octet-stream");
  REQUIRE(mismatch);
  CHECK(mismatch->status == 400);
  CHECK(ErrorCode(mismatch->body) == "DIGEST_INVALID");
  CHECK(BlobStatus(*client, "commit", wrong) == 404);
  CHECK(BlobStatus(*client, "commit", DigestOf("hello")) == 404);

  // A final chunk on a failed PUT is not kept either.
  auto mismatch_with_body =
      client->Put(s.location + "?digest=" + wrong, " world", "application/octet-stream");
  REQUIRE(mismatch_with_body);
  CHECK(mismatch_with_body->status == 400);
  auto status = client->Get(s.location);
  REQUIRE(status);
  CHECK(status->status == 204);
  CHECK(status->get_header_value("Range") == "0-4");

  auto good =
      client->Put(s.location + "?digest=" + DigestOf("hello"), "", "application/octet-stream");
  REQUIRE(good);
  CHECK(good->status == 201);
}

TEST_CASE("DELETE cancels a session; then it is unknown") {
  TestServer server;
  auto client = server.Client();
  Session s = StartSession(*client, "cancel");
  REQUIRE(Patch(*client, s.location, "abc")->status == 202);

  auto del = client->Delete(s.location);
  REQUIRE(del);
  CHECK(del->status == 204);

  auto status = client->Get(s.location);
  REQUIRE(status);
  CHECK(status->status == 404);
  CHECK(ErrorCode(status->body) == "BLOB_UPLOAD_UNKNOWN");
  auto patch = Patch(*client, s.location, "more");
  REQUIRE(patch);
  CHECK(patch->status == 404);
  CHECK(ErrorCode(patch->body) == "BLOB_UPLOAD_UNKNOWN");
  auto again = client->Delete(s.location);
  REQUIRE(again);
  CHECK(again->status == 404);
  CHECK(ErrorCode(again->body) == "BLOB_UPLOAD_UNKNOWN");
}

TEST_CASE("unknown upload ids and another repository's session: 404 BLOB_UPLOAD_UNKNOWN") {
  TestServer server;
  auto client = server.Client();
  Session s = StartSession(*client, "owner");

  std::string foreign = "/v2/intruder/blobs/uploads/" + s.uuid;
  for (const std::string& location :
       {std::string("/v2/owner/blobs/uploads/00000000-0000-4000-8000-000000000000"),
        std::string("/v2/owner/blobs/uploads/not-a-uuid"), foreign}) {
    CAPTURE(location);
    auto get = client->Get(location);
    REQUIRE(get);
    CHECK(get->status == 404);
    CHECK(ErrorCode(get->body) == "BLOB_UPLOAD_UNKNOWN");
    auto patch = Patch(*client, location, "x");
    REQUIRE(patch);
    CHECK(patch->status == 404);
    auto put = client->Put(location + "?digest=" + DigestOf("x"), "x", "application/octet-stream");
    REQUIRE(put);
    CHECK(put->status == 404);
  }
  // The owner's session is untouched.
  auto status = client->Get(s.location);
  REQUIRE(status);
  CHECK(status->status == 204);
}
