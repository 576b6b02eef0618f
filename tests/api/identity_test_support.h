// Helpers for the identity, permission and audit tests: services opened
// cheaply (minimum argon2id cost, no fsync) and an actor for mutations.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "../registry/registry_test_support.h"
#include "quay/quay.h"
#include "test_database.h"

namespace quay::testing {

// Undoes schema versions 11 (the notification state tables) and 10 (tag
// policies, quotas, the webhook queue), for the migration tests that roll a
// database back to an older version and open it again; run it before
// undoing any earlier version.
inline constexpr const char* kUndoSchemaV10 = R"sql(
  DROP TABLE tag_notification;
  DROP TABLE quota_notification_state;
  DROP INDEX repository_notification_event;
  DROP TRIGGER repository_blob_usage_i;
  DROP TRIGGER repository_blob_usage_d;
  DROP TRIGGER repository_usage_rename;
  DROP TABLE notification_delivery;
  DROP TABLE namespace_usage;
  DROP TABLE quota_limit;
  DROP TABLE namespace_quota;
  DROP TABLE tag_policy;
  DROP INDEX tag_expiring;
  ALTER TABLE tag DROP COLUMN expires_at;
  ALTER TABLE tag DROP COLUMN immutable;
)sql";

inline Options FastIdentityOptions(std::string data_dir = {}) {
  Options o;
  o.data_dir = std::move(data_dir);
  o.durable = false;
  o.identity.password_hash_cost = PasswordHashCost::kMinimum;
  return o;
}

inline std::unique_ptr<IdentityService> OpenIdentity(const Options& options) {
  auto s = IdentityService::Open(quay::testing::WithTestDatabase(options));
  REQUIRE_MESSAGE(s.ok(), s.status().ToString());
  return std::move(*s);
}

// An administrator acting through the library (an embedder's own code).
inline Actor AdminActor() {
  Actor a;
  a.principal = Principal::User("admin");
  a.ip = "10.0.0.1";
  a.request_id = "req-test";
  return a;
}

#define QUAY_REQUIRE_OK(expr)                  \
  do {                                         \
    auto quay_status_ = (expr);                \
    REQUIRE_MESSAGE(quay_status_.ok(), #expr); \
  } while (0)

}  // namespace quay::testing
