// The keys quayd signs and verifies registry tokens with, kept in the
// library's SigningKeyStore so that every instance on one database verifies
// what any other issued (Quay's ServiceKey table).
//
// - Open() signs with the store's current key for the service, generating and
//   storing one when there is none.
// - Verification looks a token's kid up in a small in-memory cache, then in
//   the store (any instance's key, expired keys refused). Unknown kids are
//   remembered briefly so a flood of forged kids costs no database reads.
// - Maintain() (run periodically) rotates: once the current key is older than
//   `rotation`, a new key is stored and the old one retired, still verifying
//   until every token it signed has expired. It also picks up a key another
//   instance rotated to, drops the verification cache (so a key retired or
//   deleted elsewhere stops verifying within one period) and deletes expired
//   keys.
//
// Thread safety: every method may be called from many threads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "jwt.h"  // lib/auth/jwt.h
#include "quay/clock.h"
#include "quay/logger.h"
#include "quay/signing_keys.h"
#include "quay/status.h"

namespace quayd {

struct TokenKeysOptions {
  // The store's service name for quayd's keys, also the JWT issuer.
  // Default: "quay" (Quay's INSTANCE_SERVICE_KEY_SERVICE).
  std::string service = "quay";
  // Algorithm of generated keys. Default: ES256. Quay uses RS256, and
  // clients accept either; ES256 tokens are ~250 bytes shorter (every /v2
  // request carries one, and header parsing is a large share of a cached
  // manifest GET) and much cheaper to sign. Its slower verification does not
  // matter: RegistryAuth caches verified tokens.
  quay::auth::JwtAlgorithm algorithm = quay::auth::JwtAlgorithm::kES256;
  // A key signs this long before Maintain() replaces it. Default: 7 days.
  std::chrono::seconds rotation = std::chrono::hours(24 * 7);
  // Lifetime of the tokens issued; a retired key verifies this much longer
  // (plus `maintenance_interval` and a minute of slack). Default: 1 hour.
  std::chrono::seconds token_lifetime{3600};
  // How often Maintain() runs (StartMaintenance). Default: 60 s.
  std::chrono::seconds maintenance_interval{60};
};

class TokenKeys {
 public:
  // Loads or creates the current signing key. Unavailable/Internal when the
  // store or OpenSSL fails.
  static quay::Result<std::unique_ptr<TokenKeys>> Open(quay::SigningKeyStore& store,
                                                       TokenKeysOptions options,
                                                       std::shared_ptr<quay::Clock> clock,
                                                       std::shared_ptr<quay::Logger> logger);
  ~TokenKeys();
  TokenKeys(const TokenKeys&) = delete;
  TokenKeys& operator=(const TokenKeys&) = delete;

  const TokenKeysOptions& options() const { return options_; }

  // The key to sign with now.
  std::shared_ptr<const quay::auth::JwtSigner> signer() const;

  // The public key for `kid`, or null when it is unknown or expired.
  std::shared_ptr<const quay::auth::JwtPublicKey> Lookup(std::string_view kid);

  // One maintenance pass (see the header comment).
  quay::Status Maintain();

  // Runs Maintain() every options().maintenance_interval on a background
  // thread until destruction.
  void StartMaintenance();

 private:
  TokenKeys(quay::SigningKeyStore& store, TokenKeysOptions options,
            std::shared_ptr<quay::Clock> clock, std::shared_ptr<quay::Logger> logger);
  // Stores a new key and makes it the signer.
  quay::Status GenerateAndStore();
  quay::Status Install(const quay::SigningKey& key);

  struct Cached {
    std::shared_ptr<const quay::auth::JwtPublicKey> key;  // null: unknown kid
    quay::Clock::TimePoint valid_until;                   // cache entry (not key) expiry
    std::optional<quay::Clock::TimePoint> key_expires_at;
  };

  quay::SigningKeyStore& store_;
  const TokenKeysOptions options_;
  std::shared_ptr<quay::Clock> clock_;
  std::shared_ptr<quay::Logger> logger_;

  mutable std::mutex mu_;
  std::shared_ptr<const quay::auth::JwtSigner> signer_;
  std::unordered_map<std::string, Cached> cache_;

  std::mutex maintenance_mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace quayd
