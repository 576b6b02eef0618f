// Helpers for the identity, permission and audit tests: services opened
// cheaply (minimum argon2id cost, no fsync) and an actor for mutations.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "../registry/registry_test_support.h"
#include "quay/quay.h"

namespace quay::testing {

inline Options FastIdentityOptions(std::string data_dir = {}) {
  Options o;
  o.data_dir = std::move(data_dir);
  o.durable = false;
  o.identity.password_hash_cost = PasswordHashCost::kMinimum;
  return o;
}

inline std::unique_ptr<IdentityService> OpenIdentity(const Options& options) {
  auto s = IdentityService::Open(options);
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
