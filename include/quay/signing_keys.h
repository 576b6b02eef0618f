// Persistence of the keys that sign registry tokens (JWTs), shared through
// the database so that every quayd instance on it verifies the tokens any
// other instance issued (Quay's ServiceKey table). The library only stores
// keys; generating them and encoding/verifying JWTs is the host's (OpenSSL).
//
// Lifecycle: Insert a new key; Current() is the newest key that is neither
// rotated nor expired (what an instance signs with); Retire() stops a key
// signing while it keeps verifying until its expiry; DeleteExpired() removes
// keys past their expiry. Verifiers look keys up by kid with Find() or List().
//
// Private keys are stored encrypted (AES-256-GCM, bound to their kid) under
// IdentityOptions::database_secret_key (Quay's DATABASE_SECRET_KEY; by default
// a random secret kept in "<data_dir>/database_secret_key"); callers always
// see PEM. Rows an older version stored in plain text stay readable and are
// encrypted by the first call in a process that needs the secret. Every
// process on one database must use the same secret: a private key sealed
// under another one (or altered in the database) makes Find, List and Current
// fail with Internal naming DATABASE_SECRET_KEY, never return a wrong key.
// Unavailable if the secret file cannot be read or created.
//
// Thread safety: safe to use from many threads and processes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quay/audit.h"
#include "quay/clock.h"
#include "quay/export.h"
#include "quay/status.h"

namespace quay {

struct SigningKey {
  std::string kid;              // unique key id (the JWT header's "kid")
  std::string service;          // whose key: "quay" (Quay's INSTANCE_SERVICE_KEY_SERVICE)
  std::string algorithm;        // JWS algorithm, e.g. "RS256"
  std::string private_key_pem;  // empty for a verify-only key
  std::string public_key_pem;
  Clock::TimePoint created_at{};               // set by Insert() when left at the epoch
  std::optional<Clock::TimePoint> expires_at;  // verifiers reject it from then on
  std::optional<Clock::TimePoint> rotated_at;  // no longer signs from then on
};

class QUAY_EXPORT SigningKeyStore {
 public:
  virtual ~SigningKeyStore() = default;
  // Stores a key (audit: service_key_create). InvalidArgument for an empty
  // kid, service, algorithm or public key; Conflict if the kid exists.
  virtual Status Insert(const Actor& actor, const SigningKey& key) = 0;
  // The key with that kid, expired or not; empty if unknown.
  virtual Result<std::optional<SigningKey>> Find(std::string_view kid) = 0;
  // Keys of `service` (every service when empty) that still verify (not
  // expired at the clock's now), newest first; with include_expired, all.
  virtual Result<std::vector<SigningKey>> List(std::string_view service, bool include_expired) = 0;
  // The newest key of `service` with a private key that is neither rotated
  // nor expired; empty if there is none (the host then generates one).
  virtual Result<std::optional<SigningKey>> Current(std::string_view service) = 0;
  // Stops the key signing now and, when given, sets its expiry (audit:
  // service_key_rotate). NotFound if the kid is unknown.
  virtual Status Retire(const Actor& actor, std::string_view kid,
                        std::optional<Clock::TimePoint> expires_at) = 0;
  // Deletes keys whose expiry is before now (audit: service_key_delete per
  // key); how many went.
  virtual Result<uint64_t> DeleteExpired(const Actor& actor) = 0;
};

}  // namespace quay
