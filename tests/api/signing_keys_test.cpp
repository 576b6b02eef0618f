// The signing-key store: what several quayd instances share to verify each
// other's registry tokens.
#include <doctest/doctest.h>

#include "identity_test_support.h"

using namespace quay;
using quay::testing::AdminActor;
using quay::testing::FastIdentityOptions;
using quay::testing::OpenIdentity;
using quay::testing::TempDir;

namespace {

SigningKey Key(std::string kid, std::optional<Clock::TimePoint> expires = std::nullopt) {
  SigningKey k;
  k.kid = std::move(kid);
  k.service = "quay";
  k.algorithm = "RS256";
  k.private_key_pem = "-----BEGIN PRIVATE KEY-----\n" + k.kid + "\n-----END PRIVATE KEY-----\n";
  k.public_key_pem = "-----BEGIN PUBLIC KEY-----\n" + k.kid + "\n-----END PUBLIC KEY-----\n";
  k.expires_at = expires;
  return k;
}

}  // namespace

TEST_CASE("signing keys: insert, find, current, retire, expire; shared between instances") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>();
  Options options = FastIdentityOptions(dir.path());
  options.clock = clock;
  auto one = OpenIdentity(options);
  auto two = OpenIdentity(options);  // another instance on the same database
  const Actor a = AdminActor();

  SigningKey bad = Key("");
  CHECK(one->signing_keys().Insert(a, bad).code() == Code::kInvalidArgument);
  CHECK(one->signing_keys().Current("quay")->has_value() == false);

  REQUIRE(one->signing_keys().Insert(a, Key("k1", clock->Now() + std::chrono::hours(2))).ok());
  CHECK(one->signing_keys().Insert(a, Key("k1")).code() == Code::kConflict);
  auto found = two->signing_keys().Find("k1");
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->algorithm == "RS256");
  CHECK((*found)->public_key_pem.find("k1") != std::string::npos);
  CHECK((*found)->created_at == clock->Now());
  CHECK((*two->signing_keys().Current("quay"))->kid == "k1");

  clock->Advance(std::chrono::minutes(55));
  REQUIRE(two->signing_keys().Insert(a, Key("k2", clock->Now() + std::chrono::hours(2))).ok());
  CHECK((*one->signing_keys().Current("quay"))->kid == "k2");  // newest signs
  REQUIRE(two->signing_keys().Retire(a, "k1", std::nullopt).ok());
  CHECK(two->signing_keys().Retire(a, "nope", std::nullopt).code() == Code::kNotFound);
  auto listed = one->signing_keys().List("quay", false);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 2);  // a retired key still verifies until it expires
  CHECK((*listed)[0].kid == "k2");
  CHECK((*listed)[1].rotated_at.has_value());

  clock->Advance(std::chrono::minutes(70));  // k1 expired, k2 not
  listed = one->signing_keys().List("", false);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK((*listed)[0].kid == "k2");
  CHECK(one->signing_keys().List("quay", true)->size() == 2);
  auto removed = one->signing_keys().DeleteExpired(a);
  REQUIRE(removed.ok());
  CHECK(*removed == 1);
  CHECK_FALSE(two->signing_keys().Find("k1")->has_value());

  // Retiring the current key leaves nothing to sign with: the host makes one.
  REQUIRE(one->signing_keys().Retire(a, "k2", clock->Now() + std::chrono::minutes(5)).ok());
  CHECK_FALSE(one->signing_keys().Current("quay")->has_value());

  AuditQuery q;
  q.kinds = {"service_key_create", "service_key_rotate", "service_key_delete"};
  auto page = one->audit().Query(q);
  REQUIRE(page.ok());
  CHECK(page->events.size() == 5);
}
