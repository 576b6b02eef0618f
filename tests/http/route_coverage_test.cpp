// Walks the route table: every entry is reachable over HTTP, dispatches to
// its own route id, and asks the Authorizer for its Action on the right
// repository before the handler runs. The routes run in table order against
// one repository, so a DELETE removes what the routes before it used (the
// manifest DELETE removes the tag "latest", which the PUT just set).
#include <doctest/doctest.h>

#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "host/v2/routes.h"
#include "http_test_support.h"

using namespace quayd::testing;

namespace {

class RecordingAuthorizer final : public quay::Authorizer {
 public:
  explicit RecordingAuthorizer(quay::Status answer = quay::Status::Ok())
      : answer_(std::move(answer)) {}

  quay::Status Check(const quay::Principal& who, std::string_view repository,
                     quay::Action action) const override {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.emplace_back(std::string(repository), action);
    anonymous_ = anonymous_ && who.kind == quay::Principal::Kind::kAnonymous;
    return answer_;
  }

  std::vector<std::pair<std::string, quay::Action>> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  bool all_anonymous() const {
    std::lock_guard<std::mutex> lock(mu_);
    return anonymous_;
  }

 private:
  quay::Status answer_;
  mutable std::mutex mu_;
  mutable std::vector<std::pair<std::string, quay::Action>> calls_;
  mutable bool anonymous_ = true;
};

constexpr char kRepo[] = "coverage/repo";

// Sends the request a route serves, with arguments that exist.
httplib::Result Exercise(httplib::Client& client, const quayd::Route& route,
                         const std::string& upload_location, const std::string& blob_digest,
                         const std::string& manifest) {
  const std::string repo = kRepo;
  std::string path;
  switch (route.path) {
    case quayd::PathKind::kApiRoot:
      path = "/v2/";
      break;
    case quayd::PathKind::kUploadStart:
      path = "/v2/" + repo + "/blobs/uploads/";
      break;
    case quayd::PathKind::kUpload:
      path = upload_location;
      break;
    case quayd::PathKind::kBlob:
      path = "/v2/" + repo + "/blobs/" + blob_digest;
      break;
    case quayd::PathKind::kManifest:
      path = "/v2/" + repo + "/manifests/latest";
      break;
    case quayd::PathKind::kTagList:
      path = "/v2/" + repo + "/tags/list";
      break;
    case quayd::PathKind::kReferrers:
      path = "/v2/" + repo + "/referrers/" + DigestOf(manifest);
      break;
    case quayd::PathKind::kCatalog:
      path = "/v2/_catalog";
      break;
    case quayd::PathKind::kToken:
      path = "/v2/auth?service=x&scope=repository:" + repo + ":pull";
      break;
    case quayd::PathKind::kUnknown:
      FAIL("route with kUnknown path");
      break;
  }
  switch (route.method) {
    case quayd::Method::kGet:
      return client.Get(path);
    case quayd::Method::kHead:
      return client.Head(path);
    case quayd::Method::kPost:
      return client.Post(path, "", "application/octet-stream");
    case quayd::Method::kPatch:
      return client.Patch(path, "abc", "application/octet-stream");
    case quayd::Method::kPut:
      if (route.path == quayd::PathKind::kManifest) {
        return client.Put(path, manifest, std::string(kOciManifest));
      }
      return client.Put(path + "?digest=" + DigestOf(""), "", "application/octet-stream");
    case quayd::Method::kDelete:
      return client.Delete(path);
    case quayd::Method::kOther:
      break;
  }
  FAIL("route with an unroutable method");
  return httplib::Result(nullptr, httplib::Error::Unknown);
}

}  // namespace

TEST_CASE("route coverage: every route is routable and authorized with its action") {
  auto authorizer = std::make_shared<RecordingAuthorizer>();
  ServerOptions options;
  options.authorizer = authorizer;
  TestServer server(options);
  auto client = server.Client();

  // Fixtures the routes need: a blob, a manifest, a fresh session per route.
  std::string manifest = PushImageBlobs(*client, kRepo, "coverage");
  REQUIRE(client
              ->Put(std::string("/v2/") + kRepo + "/manifests/latest", manifest,
                    std::string(kOciManifest))
              ->status == 201);
  std::string blob = "coverage blob";
  REQUIRE(PushBlob(*client, kRepo, blob) == 201);

  std::set<std::string_view> seen;
  for (const quayd::Route& route : quayd::Routes()) {
    CAPTURE(route.id);
    auto session = client->Post(std::string("/v2/") + kRepo + "/blobs/uploads/", "",
                                "application/octet-stream");
    REQUIRE(session);
    const std::string location = session->get_header_value("Location");
    const size_t calls_before = authorizer->calls().size();
    const std::string request_id = "route-" + std::string(route.id);
    client->set_default_headers({{"X-Request-Id", request_id}});

    httplib::Result res = Exercise(*client, route, location, DigestOf(blob), manifest);
    client->set_default_headers({});
    REQUIRE(res);
    CHECK(res->get_header_value("X-Request-Id") == request_id);
    if (route.gate == quayd::Gate::kOpen) {
      // The token endpoint authenticates by itself (and without token auth
      // there is nothing to issue): the Authorizer is not asked first.
      CHECK(res->status == 404);
      CHECK(authorizer->calls().size() == calls_before);
      seen.insert(route.id);
      continue;
    }
    CHECK(res->status < 400);

    // The dispatcher picked this route...
    auto access = server.logs().WaitFind(
        {"msg=request", "request_id=" + request_id, "route=" + std::string(route.id)});
    CHECK(access.size() == 1);
    // ...and asked the Authorizer for its action on the repository.
    auto calls = authorizer->calls();
    REQUIRE(calls.size() == calls_before + 1);
    CHECK(calls.back().second == route.action);
    CHECK(calls.back().first ==
          (quayd::HasRepository(route.path) ? std::string(kRepo) : std::string()));
    seen.insert(route.id);
  }
  CHECK(seen.size() == quayd::Routes().size());
  CHECK(authorizer->all_anonymous());
}

TEST_CASE("the Authorizer's answer decides: 401 UNAUTHORIZED / 403 DENIED, handler not run") {
  struct Case {
    quay::Status answer;
    int http;
    const char* code;
  };
  for (const Case& c : {Case{quay::Status::Unauthenticated("login first"), 401, "UNAUTHORIZED"},
                        Case{quay::Status::Denied("not yours"), 403, "DENIED"}}) {
    CAPTURE(c.code);
    auto authorizer = std::make_shared<RecordingAuthorizer>(c.answer);
    ServerOptions options;
    options.authorizer = authorizer;
    TestServer server(options);
    auto client = server.Client();
    std::string data = "denied blob";
    auto post = client->Post("/v2/repo/blobs/uploads/?digest=" + DigestOf(data), data,
                             "application/octet-stream");
    REQUIRE(post);
    CHECK(post->status == c.http);
    CHECK(ErrorCode(post->body) == c.code);
    auto stat = server.registry().StatBlob("repo", quay::Digest::Of(data));
    CHECK_FALSE(stat.ok());
    auto get = client->Get("/v2/repo/manifests/latest");
    REQUIRE(get);
    CHECK(get->status == c.http);
  }
}
