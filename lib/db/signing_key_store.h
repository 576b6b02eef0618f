// The SQL of JWT signing keys (table signing_key, schema v3). Internal to
// lib/db; lib/api's SigningKeyStore implementation is its caller. Mutations
// write their audit row in the same transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "db/audit_store.h"
#include "quay/status.h"

namespace quay::db {

class ConnectionPool;

struct SigningKeyRow {
  std::string kid;
  std::string service;
  std::string algorithm;
  // As stored: sealed by lib/api (auth/field_cipher.h), plain PEM in rows an
  // older version wrote, or empty for a verify-only key. The column keeps its
  // old name (private_key_pem); only lib/api reads its content.
  std::string private_key_pem;
  std::string public_key_pem;
  int64_t created_at = 0;
  std::optional<int64_t> expires_at;
  std::optional<int64_t> rotated_at;
};

class SigningKeyRows {
 public:
  explicit SigningKeyRows(ConnectionPool& pool) : pool_(pool) {}

  // Conflict if the kid exists.
  Status Insert(const SigningKeyRow& row, const AuditRow& audit);
  Result<std::optional<SigningKeyRow>> Find(std::string_view kid);
  // Newest first; of `service` unless empty; only those not expired at `now`
  // unless include_expired.
  Result<std::vector<SigningKeyRow>> List(std::string_view service, bool include_expired,
                                          int64_t now);
  // The newest key of `service` with a private key, not rotated, not expired at `now`.
  Result<std::optional<SigningKeyRow>> Current(std::string_view service, int64_t now);
  // Sets rotated_at (and expires_at when given). NotFound if unknown.
  Status Retire(std::string_view kid, int64_t now, std::optional<int64_t> expires_at,
                const AuditRow& audit);
  // Deletes keys that expired before `now`, writing one audit row per key:
  // `audit_template` with metadata {"kid": ..., "service": ...}.
  Result<uint64_t> DeleteExpired(int64_t now, const AuditRow& audit_template);

  // (kid, stored private key) of every key that has a private key.
  Result<std::vector<std::pair<std::string, std::string>>> ListPrivateKeys();
  // Replaces the stored private key of `kid` if it is still `expected`;
  // false if it is not (changed or deleted meanwhile). A change of storage
  // form, not of the key: no audit row.
  Result<bool> ReplacePrivateKey(std::string_view kid, std::string_view expected,
                                 std::string_view replacement);

 private:
  ConnectionPool& pool_;
};

}  // namespace quay::db
