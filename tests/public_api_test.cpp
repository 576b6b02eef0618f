// Built with include/ as its only include directory and no dependency()
// objects (no doctest either): what an embedder's code sees of libquay. It
// proves the public headers are self-contained and that the public API alone
// is enough to push, pull and manage users. That third-party headers stay
// out of include/quay/ is proven by tests/public_headers_check.py: the
// system include path holds RapidJSON & co. whatever the flags here say.
#include <cstdio>
#include <string>

#include "quay/quay.h"

namespace {

int failures = 0;

bool Check(bool ok, const char* what, int line) {
  if (ok) return true;
  std::fprintf(stderr, "public_api_test.cpp:%d: check failed: %s\n", line, what);
  ++failures;
  return false;
}

// Each evaluates `expr` once (it may write to the registry).
#define CHECK(expr) Check(static_cast<bool>(expr), #expr, __LINE__)
#define REQUIRE(expr)                                             \
  do {                                                            \
    if (!Check(static_cast<bool>(expr), #expr, __LINE__)) return; \
  } while (false)

void PushesAndPulls() {
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

void AddsUsersAndPermissions() {
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

}  // namespace

int main() {
  PushesAndPulls();
  AddsUsersAndPermissions();
  if (failures == 0) std::printf("public API: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
