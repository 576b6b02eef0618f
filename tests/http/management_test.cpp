// Content management over HTTP: DELETE of manifests (by digest and by tag)
// and blobs, and cross-repository blob mount (POST ?mount=&from=) with its
// fall-back to a normal upload session.
#include <doctest/doctest.h>

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "http_test_support.h"

using namespace quayd::testing;

namespace {

httplib::Result PutManifest(httplib::Client& client, const std::string& repo,
                            const std::string& ref, const std::string& body) {
  return client.Put("/v2/" + repo + "/manifests/" + ref, body, std::string(kOciManifest));
}

int GetStatus(httplib::Client& client, const std::string& path, std::string* code = nullptr) {
  auto res = client.Get(path);
  REQUIRE(res);
  if (code) *code = ErrorCode(res->body);
  return res->status;
}

}  // namespace

TEST_CASE("DELETE manifest by digest: 202, then every tag and the digest are 404") {
  TestServer server;
  auto client = server.Client();
  std::string manifest = PushImageBlobs(*client, "org/app");
  const std::string digest = DigestOf(manifest);
  REQUIRE(PutManifest(*client, "org/app", "v1", manifest)->status == 201);
  REQUIRE(PutManifest(*client, "org/app", "v2", manifest)->status == 201);
  std::string other = PushImageBlobs(*client, "org/app", "other");
  REQUIRE(PutManifest(*client, "org/app", "keep", other)->status == 201);

  auto del = client->Delete("/v2/org/app/manifests/" + digest);
  REQUIRE(del);
  CHECK(del->status == 202);
  CHECK(del->body.empty());

  for (const std::string& ref : {std::string("v1"), std::string("v2"), digest}) {
    CAPTURE(ref);
    std::string code;
    CHECK(GetStatus(*client, "/v2/org/app/manifests/" + ref, &code) == 404);
    // The tags are restorable from the time machine: Quay's TAG_EXPIRED.
    CHECK(code == (ref == digest ? "MANIFEST_UNKNOWN" : "TAG_EXPIRED"));
    auto head = client->Head("/v2/org/app/manifests/" + ref);
    REQUIRE(head);
    CHECK(head->status == 404);
  }
  // The other manifest and its tag are untouched.
  CHECK(GetStatus(*client, "/v2/org/app/manifests/keep") == 200);
  auto tags = client->Get("/v2/org/app/tags/list");
  REQUIRE(tags);
  CHECK(tags->status == 200);
  CHECK(tags->body == "{\"name\":\"org/app\",\"tags\":[\"keep\"]}");

  // Deleting it again: 404 MANIFEST_UNKNOWN.
  auto again = client->Delete("/v2/org/app/manifests/" + digest);
  REQUIRE(again);
  CHECK(again->status == 404);
  CHECK(ErrorCode(again->body) == "MANIFEST_UNKNOWN");
}

TEST_CASE("DELETE manifest by tag: only that tag goes") {
  TestServer server;
  auto client = server.Client();
  std::string manifest = PushImageBlobs(*client, "repo");
  const std::string digest = DigestOf(manifest);
  REQUIRE(PutManifest(*client, "repo", "v1", manifest)->status == 201);
  REQUIRE(PutManifest(*client, "repo", "v2", manifest)->status == 201);

  auto del = client->Delete("/v2/repo/manifests/v1");
  REQUIRE(del);
  CHECK(del->status == 202);

  std::string code;
  CHECK(GetStatus(*client, "/v2/repo/manifests/v1", &code) == 404);
  CHECK(code == "TAG_EXPIRED");
  CHECK(GetStatus(*client, "/v2/repo/manifests/never-was", &code) == 404);
  CHECK(code == "MANIFEST_UNKNOWN");
  CHECK(GetStatus(*client, "/v2/repo/manifests/v2") == 200);
  CHECK(GetStatus(*client, "/v2/repo/manifests/" + digest) == 200);
  auto tags = client->Get("/v2/repo/tags/list");
  REQUIRE(tags);
  CHECK(tags->body == "{\"name\":\"repo\",\"tags\":[\"v2\"]}");

  for (const char* tag : {"v1", "never-was"}) {
    CAPTURE(tag);
    auto again = client->Delete(std::string("/v2/repo/manifests/") + tag);
    REQUIRE(again);
    CHECK(again->status == 404);
    CHECK(ErrorCode(again->body) == "MANIFEST_UNKNOWN");
  }
}

TEST_CASE("DELETE manifest: unknown digest, unknown repository, malformed digest") {
  TestServer server;
  auto client = server.Client();
  std::string manifest = PushImageBlobs(*client, "repo");
  REQUIRE(PutManifest(*client, "repo", "v1", manifest)->status == 201);

  auto unknown = client->Delete("/v2/repo/manifests/" + DigestOf("not a manifest"));
  REQUIRE(unknown);
  CHECK(unknown->status == 404);
  CHECK(ErrorCode(unknown->body) == "MANIFEST_UNKNOWN");

  auto no_repo = client->Delete("/v2/never/pushed/manifests/" + DigestOf("x"));
  REQUIRE(no_repo);
  CHECK(no_repo->status == 404);
  CHECK((ErrorCode(no_repo->body) == "NAME_UNKNOWN" ||
         ErrorCode(no_repo->body) == "MANIFEST_UNKNOWN"));

  auto malformed = client->Delete("/v2/repo/manifests/sha256:abc");
  REQUIRE(malformed);
  CHECK(malformed->status == 400);
  CHECK(ErrorCode(malformed->body) == "DIGEST_INVALID");

  // Nothing was deleted along the way.
  CHECK(GetStatus(*client, "/v2/repo/manifests/v1") == 200);
}

TEST_CASE("DELETE blob: 202, then HEAD and GET 404 BLOB_UNKNOWN; other repositories keep it") {
  TestServer server;
  auto client = server.Client();
  const std::string data = "a blob to delete";
  const std::string digest = DigestOf(data);
  REQUIRE(PushBlob(*client, "repo", data) == 201);
  REQUIRE(PushBlob(*client, "other", data) == 201);

  auto del = client->Delete("/v2/repo/blobs/" + digest);
  REQUIRE(del);
  CHECK(del->status == 202);
  CHECK(del->body.empty());

  auto head = client->Head("/v2/repo/blobs/" + digest);
  REQUIRE(head);
  CHECK(head->status == 404);
  std::string code;
  CHECK(GetStatus(*client, "/v2/repo/blobs/" + digest, &code) == 404);
  CHECK(code == "BLOB_UNKNOWN");

  auto other = client->Get("/v2/other/blobs/" + digest);
  REQUIRE(other);
  CHECK(other->status == 200);
  CHECK(other->body == data);

  auto again = client->Delete("/v2/repo/blobs/" + digest);
  REQUIRE(again);
  CHECK(again->status == 404);
  CHECK(ErrorCode(again->body) == "BLOB_UNKNOWN");

  auto malformed = client->Delete("/v2/repo/blobs/sha256:xyz");
  REQUIRE(malformed);
  CHECK(malformed->status == 400);
  CHECK(ErrorCode(malformed->body) == "DIGEST_INVALID");

  // Pushed again, it is back.
  REQUIRE(PushBlob(*client, "repo", data) == 201);
  auto back = client->Head("/v2/repo/blobs/" + digest);
  REQUIRE(back);
  CHECK(back->status == 200);
}

namespace {

// Records every question; denies kPull on `private_repo`.
class PullDenyingAuthorizer final : public quay::Authorizer {
 public:
  explicit PullDenyingAuthorizer(std::string private_repo)
      : private_repo_(std::move(private_repo)) {}

  quay::Status Check(const quay::Principal&, std::string_view repository,
                     quay::Action action) const override {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.emplace_back(std::string(repository), action);
    if (action == quay::Action::kPull && repository == private_repo_) {
      return quay::Status::Denied("private");
    }
    return quay::Status::Ok();
  }

  std::vector<std::pair<std::string, quay::Action>> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  std::string private_repo_;
  mutable std::mutex mu_;
  mutable std::vector<std::pair<std::string, quay::Action>> calls_;
};

// A 202 upload session (not a mount): Location, Docker-Upload-UUID, Range.
void CheckSessionStarted(const httplib::Result& res, const std::string& repo) {
  REQUIRE(res);
  CHECK(res->status == 202);
  CHECK_FALSE(res->get_header_value("Docker-Upload-UUID").empty());
  CHECK(res->get_header_value("Location").rfind("/v2/" + repo + "/blobs/uploads/", 0) == 0);
  CHECK_FALSE(res->has_header("Docker-Content-Digest"));
}

}  // namespace

TEST_CASE("mount: 201 with Location and Docker-Content-Digest; the blob is in the target") {
  auto authorizer = std::make_shared<PullDenyingAuthorizer>("private");
  ServerOptions options;
  options.authorizer = authorizer;
  TestServer server(options);
  auto client = server.Client();
  const std::string data = "mounted blob bytes";
  const std::string digest = DigestOf(data);
  REQUIRE(PushBlob(*client, "team/source", data) == 201);

  const size_t before = authorizer->calls().size();
  auto mount = client->Post("/v2/team/target/blobs/uploads/?mount=" + digest + "&from=team/source",
                            "", "application/octet-stream");
  REQUIRE(mount);
  CHECK(mount->status == 201);
  CHECK(mount->get_header_value("Location") == "/v2/team/target/blobs/" + digest);
  CHECK(mount->get_header_value("Docker-Content-Digest") == digest);
  CHECK_FALSE(mount->has_header("Docker-Upload-UUID"));

  // Push on the target (the route's action), pull on the source (the mount's).
  auto calls = authorizer->calls();
  REQUIRE(calls.size() == before + 2);
  CHECK(calls[before] == std::make_pair(std::string("team/target"), quay::Action::kPush));
  CHECK(calls[before + 1] == std::make_pair(std::string("team/source"), quay::Action::kPull));

  auto head = client->Head("/v2/team/target/blobs/" + digest);
  REQUIRE(head);
  CHECK(head->status == 200);
  CHECK(head->get_header_value("Content-Length") == std::to_string(data.size()));
  auto get = client->Get("/v2/team/target/blobs/" + digest);
  REQUIRE(get);
  CHECK(get->body == data);

  // A manifest in the target may now reference the mounted blob.
  const std::string config = "{\"mounted\":true}";
  REQUIRE(PushBlob(*client, "team/target", config) == 201);
  std::string manifest = ImageManifest({DigestOf(config), config.size()}, {{digest, data.size()}});
  CHECK(PutManifest(*client, "team/target", "v1", manifest)->status == 201);
}

TEST_CASE("mount falls back to a normal upload session when it cannot be done") {
  auto authorizer = std::make_shared<PullDenyingAuthorizer>("private");
  ServerOptions options;
  options.authorizer = authorizer;
  TestServer server(options);
  auto client = server.Client();
  const std::string data = "blob for mount fallbacks";
  const std::string digest = DigestOf(data);
  REQUIRE(PushBlob(*client, "source", data) == 201);
  REQUIRE(PushBlob(*client, "private", data) == 201);

  struct Case {
    const char* what;
    std::string query;
  };
  for (const Case& c : {
           Case{"blob absent from the source", "mount=" + DigestOf("absent") + "&from=source"},
           Case{"source repository unknown", "mount=" + digest + "&from=no/such/repo"},
           Case{"source name invalid", "mount=" + digest + "&from=Not_Valid"},
           Case{"source empty", "mount=" + digest + "&from="},
           Case{"source may not be pulled", "mount=" + digest + "&from=private"},
           Case{"mount without from", "mount=" + digest},
           Case{"from without mount", "from=source"},
       }) {
    CAPTURE(c.what);
    auto res = client->Post("/v2/target/blobs/uploads/?" + c.query, "", "application/octet-stream");
    CheckSessionStarted(res, "target");
  }
  // None of them linked the blob into the target.
  auto head = client->Head("/v2/target/blobs/" + digest);
  REQUIRE(head);
  CHECK(head->status == 404);

  // The session a fallback started is a real one: finish it with the bytes.
  auto session = client->Post("/v2/target/blobs/uploads/?mount=" + digest + "&from=private", "",
                              "application/octet-stream");
  REQUIRE(session);
  REQUIRE(session->status == 202);
  auto put = client->Put(session->get_header_value("Location") + "?digest=" + digest, data,
                         "application/octet-stream");
  REQUIRE(put);
  CHECK(put->status == 201);

  // A malformed mount digest is the client's error.
  auto malformed = client->Post("/v2/target/blobs/uploads/?mount=sha256:nothex&from=source", "",
                                "application/octet-stream");
  REQUIRE(malformed);
  CHECK(malformed->status == 400);
  CHECK(ErrorCode(malformed->body) == "DIGEST_INVALID");
}
