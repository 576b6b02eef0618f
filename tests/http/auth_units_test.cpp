// Host-side auth units: Authorization header and scope parsing, the
// challenge, GrantCovers (the failed-login throttle is tests/api/login_throttle_test.cpp).
#include <doctest/doctest.h>

#include <chrono>
#include <memory>

#include "host/auth/auth_parsing.h"
#include "host/net/client_address.h"
#include "quay/clock.h"

using namespace quayd;
using std::chrono::seconds;

TEST_CASE("ParseAuthorization: Basic, Bearer, none, other, malformed") {
  auto none = ParseAuthorization("");
  REQUIRE(none.ok());
  CHECK(none->kind == Credentials::Kind::kNone);

  auto basic = ParseAuthorization("Basic YWxpY2U6cDphc3M=");  // alice:p:ass
  REQUIRE(basic.ok());
  CHECK(basic->kind == Credentials::Kind::kBasic);
  CHECK(basic->username == "alice");
  CHECK(basic->secret == "p:ass");
  auto lower = ParseAuthorization("basic   YWxpY2U6cDphc3M");  // scheme case, no padding
  REQUIRE(lower.ok());
  CHECK(lower->username == "alice");
  auto empty_password = ParseAuthorization("Basic YWxpY2U6");  // "alice:"
  REQUIRE(empty_password.ok());
  CHECK(empty_password->secret.empty());

  auto bearer = ParseAuthorization("Bearer abc.def-_.ghi");
  REQUIRE(bearer.ok());
  CHECK(bearer->kind == Credentials::Kind::kBearer);
  CHECK(bearer->secret == "abc.def-_.ghi");

  auto other = ParseAuthorization("Digest username=x");
  REQUIRE(other.ok());
  CHECK(other->kind == Credentials::Kind::kOther);

  for (const char* bad : {"Basic", "Basic ", "Bearer", "Bearer ", "Basic !!!!", "Basic YWxpY2U",
                          "Basic YQ", "Bearer a b", "Bearer \"quoted\"", "Basic YWxpY2UAOng="}) {
    CAPTURE(bad);
    auto r = ParseAuthorization(bad);
    CHECK_FALSE(r.ok());
    if (!r.ok()) CHECK(r.status().code() == quay::Code::kInvalidArgument);
  }
  CHECK_FALSE(ParseAuthorization("Bearer " + std::string(10000, 'a')).ok());
}

TEST_CASE("ParseScopes: Docker scope grammar") {
  auto one = ParseScopes({"repository:ns/app:pull,push"}, "reg.example");
  REQUIRE(one.ok());
  REQUIRE(one->size() == 1);
  CHECK((*one)[0].repository == "ns/app");
  CHECK((*one)[0].actions == std::vector<uint8_t>{kScopePull, kScopePush});

  auto several = ParseScopes({"repository:a/b:pull repository:c/d/e:*",
                              "repository:f:push,pull,push", "registry:catalog:*"},
                             "");
  REQUIRE(several.ok());
  REQUIRE(several->size() == 4);
  CHECK((*several)[1].repository == "c/d/e");
  CHECK((*several)[1].actions == std::vector<uint8_t>{kScopeAll});
  CHECK((*several)[2].actions == std::vector<uint8_t>{kScopePush, kScopePull});  // deduplicated
  CHECK((*several)[3].type == RequestedScope::Type::kRegistry);

  auto prefixed = ParseScopes({"repository:reg.example:5000/ns/app:pull"}, "reg.example:5000");
  REQUIRE(prefixed.ok());
  CHECK((*prefixed)[0].name == "reg.example:5000/ns/app");
  CHECK((*prefixed)[0].repository == "ns/app");

  CHECK(ParseScopes({}, "")->empty());
  CHECK(ParseScopes({"", " "}, "")->empty());

  for (const char* bad :
       {"repository:ns/app", "repository:ns/app:", "repository::pull", "repository:NS/app:pull",
        "repository:ns/app:pull,", "repository:ns/app:admin", "repo:ns/app:pull",
        "registry:catalog:pull", "registry:other:*", "repository:a//b:pull", "nonsense"}) {
    CAPTURE(bad);
    auto r = ParseScopes({bad}, "reg.example");
    CHECK_FALSE(r.ok());
  }
  std::vector<std::string> many(65, "repository:a/b:pull");
  CHECK_FALSE(ParseScopes(many, "").ok());
}

TEST_CASE("GrantCovers maps scope actions onto route Actions") {
  using quay::Action;
  CHECK(GrantCovers(kScopePull, Action::kPull));
  CHECK_FALSE(GrantCovers(kScopePull, Action::kPush));
  CHECK_FALSE(GrantCovers(kScopePull, Action::kDelete));
  CHECK(GrantCovers(kScopePush, Action::kPush));
  CHECK_FALSE(GrantCovers(kScopePush, Action::kPull));  // Docker clients ask pull,push
  CHECK(GrantCovers(kScopePush, Action::kDelete));
  CHECK(GrantCovers(kScopeDelete, Action::kDelete));
  CHECK_FALSE(GrantCovers(kScopeDelete, Action::kPush));
  CHECK(GrantCovers(kScopeAll, Action::kAdmin));
  CHECK(GrantCovers(kScopeAll, Action::kPull));
  CHECK_FALSE(GrantCovers(kScopePull | kScopePush | kScopeDelete, Action::kAdmin));
  CHECK_FALSE(GrantCovers(kScopeAll, Action::kCatalog));
  CHECK_FALSE(GrantCovers(0, Action::kPull));
}

TEST_CASE("challenge values") {
  CHECK(BearerChallenge("https://r.example/v2/auth", "r.example", "") ==
        "Bearer realm=\"https://r.example/v2/auth\",service=\"r.example\"");
  CHECK(BearerChallenge("http://h/v2/auth", "h", "repository:a/b:pull", "insufficient_scope") ==
        "Bearer realm=\"http://h/v2/auth\",service=\"h\",scope=\"repository:a/b:pull\","
        "error=\"insufficient_scope\"");
  CHECK(ChallengeScope("a/b", quay::Action::kPull) == "repository:a/b:pull");
  CHECK(ChallengeScope("a/b", quay::Action::kPush) == "repository:a/b:pull,push");
  CHECK(ChallengeScope("a/b", quay::Action::kDelete) == "repository:a/b:delete");
  CHECK(ChallengeScope("", quay::Action::kCatalog) == "registry:catalog:*");
  CHECK(ChallengeScope("", quay::Action::kPull).empty());
  CHECK(IsSaneHost("127.0.0.1:5000"));
  CHECK(IsSaneHost("[::1]:5000"));
  CHECK(IsSaneHost("registry.example"));
  CHECK_FALSE(IsSaneHost(""));
  CHECK_FALSE(IsSaneHost("evil\"host"));
  CHECK_FALSE(IsSaneHost("a b"));
  CHECK_FALSE(IsSaneHost(std::string(256, 'a')));
}

TEST_CASE("client address: X-Forwarded-For only from trusted proxies") {
  using quayd::ClientAddress;
  const std::vector<std::string> proxies = {"10.0.0.1", "10.0.0.2"};
  // Untrusted peer: its header is ignored.
  CHECK(ClientAddress("192.0.2.9", {"203.0.113.5"}, proxies) == "192.0.2.9");
  CHECK(ClientAddress("192.0.2.9", {"203.0.113.5"}, {}) == "192.0.2.9");
  // Trusted peer without a header: the peer.
  CHECK(ClientAddress("10.0.0.1", {}, proxies) == "10.0.0.1");
  // One proxy: the entry it appended.
  CHECK(ClientAddress("10.0.0.1", {"203.0.113.5"}, proxies) == "203.0.113.5");
  // Entries left of the first untrusted one were written by the client.
  CHECK(ClientAddress("10.0.0.1", {"198.51.100.7, 203.0.113.5"}, proxies) == "203.0.113.5");
  // A chain of trusted proxies, also split over several headers.
  CHECK(ClientAddress("10.0.0.1", {"203.0.113.5, 10.0.0.2"}, proxies) == "203.0.113.5");
  CHECK(ClientAddress("10.0.0.1", {"203.0.113.5", "10.0.0.2"}, proxies) == "203.0.113.5");
  CHECK(ClientAddress("10.0.0.1", {"2001:db8::1"}, proxies) == "2001:db8::1");
  // Garbage ends the walk at the last trusted hop.
  CHECK(ClientAddress("10.0.0.1", {"not-an-ip"}, proxies) == "10.0.0.1");
  CHECK(ClientAddress("10.0.0.1", {"203.0.113.5, unknown, 10.0.0.2"}, proxies) == "10.0.0.2");
  CHECK(ClientAddress("10.0.0.1", {"1.2.3.4:80"}, proxies) == "10.0.0.1");
  // Addresses compare by value: an IPv4 proxy seen on a dual-stack socket.
  CHECK(ClientAddress("::ffff:10.0.0.1", {"203.0.113.5"}, proxies) == "203.0.113.5");
  CHECK(ClientAddress("10.0.0.1", {"203.0.113.5"}, {"::ffff:10.0.0.1"}) == "203.0.113.5");
  CHECK(ClientAddress("2001:db8::0:1", {"203.0.113.5"}, {"2001:db8::1"}) == "203.0.113.5");
  CHECK(quayd::IsIpAddress("::1"));
  CHECK_FALSE(quayd::IsIpAddress(""));
  CHECK_FALSE(quayd::IsIpAddress("[::1]"));
}
