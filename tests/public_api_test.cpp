// Compiled with only include/ on the include path: proves the public headers
// are self-contained and expose no third-party type.
#include <doctest/doctest.h>

#include "quay/quay.h"

TEST_CASE("an embedder pushes and pulls through the public API alone") {
  auto registry = quay::Registry::Open(quay::Options{});
  REQUIRE(registry.ok());
  auto& r = **registry;

  const std::string layer = "public api layer bytes";
  auto upload = r.StartUpload("example/app");
  REQUIRE(upload.ok());
  REQUIRE((*upload)->Write(layer.data(), layer.size()).ok());
  auto blob = (*upload)->Commit(quay::Digest::Of(layer));
  REQUIRE(blob.ok());
  CHECK(blob->size == layer.size());

  auto stat = r.StatBlob("example/app", quay::Digest::Of(layer));
  REQUIRE(stat.ok());
  CHECK(stat->size == layer.size());
  CHECK(r.StatBlob("other/app", quay::Digest::Of(layer)).status().IsNotFound());
}

TEST_CASE("an embedder adds users and permissions through the public API alone") {
  quay::Options options;
  options.identity.password_hash_cost = quay::PasswordHashCost::kMinimum;
  auto registry = quay::Registry::Open(options);
  REQUIRE(registry.ok());
  auto identity = quay::IdentityService::Open(options, **registry);
  REQUIRE(identity.ok());
  auto& id = **identity;

  quay::Actor admin;
  admin.principal = quay::Principal::User("admin");
  REQUIRE(id.CreateUser(admin, "alice", "alice@example.com", "pw").ok());
  REQUIRE(id.CreateRepository(admin, "alice/app", quay::Visibility::kPrivate, "").ok());
  auto alice = id.AuthenticateBasic("alice", "pw");
  REQUIRE(alice.ok());
  auto authz = id.authorizer();
  CHECK(authz->Check(*alice, "alice/app", quay::Action::kPush).ok());
  CHECK(authz->Check(quay::Principal::Anonymous(), "alice/app", quay::Action::kPull).code() ==
        quay::Code::kUnauthenticated);

  quay::AuditQuery q;
  q.namespace_name = "alice";
  auto page = id.audit().Query(q);
  REQUIRE(page.ok());
  CHECK(page->events.size() == 2);  // user_create, create_repo
}
