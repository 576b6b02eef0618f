// Memory per request: bodies held whole in memory (manifest PUTs, /api/v1
// JSON) are refused before they are read when their declared size is over
// the route's cap (413) or the shared budget is spent (429), over real
// sockets, with slow clients holding their share until they go away.
#include "host/net/body_budget.h"

#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "http_test_support.h"

using namespace quayd::testing;

namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;

// A manifest PUT whose head claims `length` bytes, from `client` (as seen
// through the trusted proxy), and the first few bytes of its body.
std::string ManifestPutHead(const std::string& tag, uint64_t length, const std::string& client) {
  return "PUT /v2/org/app/manifests/" + tag +
         " HTTP/1.1\r\nHost: localhost\r\n"
         "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n"
         "X-Forwarded-For: " +
         client + "\r\nContent-Length: " + std::to_string(length) + "\r\n\r\n{\"schema";
}

bool WaitFor(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace

TEST_CASE(
    "trickled manifest PUTs past the body budget: 429 unread; others served; freed on close") {
  ServerOptions options;
  options.limits.trusted_proxies = {"127.0.0.1"};
  // 16 MiB per client, 22 MiB in all (the test's own budget, so that it can
  // watch what is held).
  auto budget = std::make_shared<quayd::BodyBudget>(22 * kMiB, 16 * kMiB);
  options.limits.body_budget = budget;
  TestServer server(options);
  auto client = server.Client();
  const std::string manifest = PushImageBlobs(*client, "org/app");

  // Client A holds its 16 MiB with four slow 4 MiB manifests.
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 4; ++i) {
    slow.push_back(std::make_unique<RawConnection>(server.port()));
    REQUIRE(slow.back()->ok());
    REQUIRE(slow.back()->Send(ManifestPutHead("a" + std::to_string(i), 4 * kMiB, "10.0.0.1")));
  }
  REQUIRE(WaitFor([&] { return budget->in_use("10.0.0.1") == 16 * kMiB; }));

  // A's fifth is over its share: 429 TOOMANYREQUESTS at once, body unread,
  // connection closed.
  RawConnection fifth(server.port());
  REQUIRE(fifth.Send(ManifestPutHead("a4", 4 * kMiB, "10.0.0.1")));
  RawResponse refused = fifth.Read(3000);
  CHECK(refused.status == 429);
  CHECK(ErrorCode(refused.body) == "TOOMANYREQUESTS");
  CHECK_FALSE(refused.Header("Retry-After").empty());
  CHECK(fifth.ClosedByPeer(3000));
  CHECK(budget->in_use("10.0.0.1") == 16 * kMiB);

  // Client B gets its first 4 MiB (20 of 22 MiB); its second is over the
  // total and refused, though B is well under its own share.
  RawConnection b1(server.port());
  REQUIRE(b1.Send(ManifestPutHead("b1", 4 * kMiB, "10.0.0.2")));
  REQUIRE(WaitFor([&] { return budget->in_use() == 20 * kMiB; }));
  RawConnection b2(server.port());
  REQUIRE(b2.Send(ManifestPutHead("b2", 4 * kMiB, "10.0.0.2")));
  CHECK(b2.Read(3000).status == 429);

  // Client C is still served: reads, and a manifest of ordinary size.
  httplib::Headers c = {{"X-Forwarded-For", "10.0.0.3"}};
  auto get = client->Get("/v2/", c);
  REQUIRE(get);
  CHECK(get->status == 200);
  auto put = client->Put("/v2/org/app/manifests/c", c, manifest, std::string(kOciManifest));
  REQUIRE(put);
  CHECK(put->status == 201);
  CHECK(budget->in_use() == 20 * kMiB);

  // The slow clients go away: everything they held is released.
  slow.clear();
  b1.ShutdownWrite();
  REQUIRE(WaitFor([&] { return budget->in_use() == 0; }));

  // A may now send a whole 4 MiB manifest (padded with JSON whitespace).
  std::string big = manifest.substr(0, manifest.size() - 1);
  big += std::string(4 * kMiB - manifest.size(), ' ');
  big += '}';
  REQUIRE(big.size() == 4 * kMiB);
  auto again = client->Put("/v2/org/app/manifests/a0", {{"X-Forwarded-For", "10.0.0.1"}}, big,
                           std::string(kOciManifest));
  REQUIRE(again);
  CHECK(again->status == 201);
  CHECK(budget->in_use() == 0);
  CHECK(StillServes(server.port()));
}

TEST_CASE("a manifest PUT claiming more than the cap: 413 before any body byte is sent") {
  TestServer server;
  RawConnection raw(server.port());
  REQUIRE(
      raw.Send("PUT /v2/org/app/manifests/big HTTP/1.1\r\nHost: localhost\r\n"
               "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n"
               "Content-Length: " +
               std::to_string(5 * kMiB) + "\r\n\r\n"));
  // Not one byte of the body follows: the answer must not wait for it.
  RawResponse res = raw.Read(3000);
  CHECK(res.status == 413);
  CHECK(ErrorCode(res.body) == "SIZE_INVALID");
  CHECK(raw.ClosedByPeer(3000));
}

TEST_CASE("/api/v1 bodies: 413 over 1 MiB before reading; 429 past the budget") {
  ServerOptions options;
  options.token_auth = true;
  auto budget = std::make_shared<quayd::BodyBudget>(64 * kMiB, 2 * kMiB);
  options.limits.body_budget = budget;
  TestServer server(options);
  const auto head = [](uint64_t length) {
    return "POST /api/v1/repository HTTP/1.1\r\nHost: localhost\r\n"
           "Content-Type: application/json\r\nContent-Length: " +
           std::to_string(length) + "\r\n\r\n{";
  };

  RawConnection too_big(server.port());
  REQUIRE(too_big.Send(head(2 * kMiB)));
  RawResponse big = too_big.Read(3000);
  CHECK(big.status == 413);
  CHECK(big.Header("Content-Type").starts_with("application/problem+json"));

  // Two slow 1 MiB bodies fill this client's 2 MiB; the third is refused.
  RawConnection s1(server.port()), s2(server.port());
  REQUIRE(s1.Send(head(kMiB)));
  REQUIRE(s2.Send(head(kMiB)));
  REQUIRE(WaitFor([&] { return budget->in_use() == 2 * kMiB; }));
  RawConnection third(server.port());
  REQUIRE(third.Send(head(kMiB)));
  RawResponse refused = third.Read(3000);
  CHECK(refused.status == 429);
  CHECK(refused.Header("Content-Type").starts_with("application/problem+json"));
  CHECK(refused.body.find("\"status\":429") != std::string::npos);
  CHECK(refused.body.find("too_many_requests") != std::string::npos);
  CHECK(third.ClosedByPeer(3000));

  s1.ShutdownWrite();
  s2.ShutdownWrite();
  REQUIRE(WaitFor([&] { return budget->in_use() == 0; }));
}
