// SigningKeyStore (quay/signing_keys.h) over the signing_key table.
// Internal to lib/api.
//
// Private keys are sealed (auth/field_cipher.h) under the database secret
// (api/database_secret.h) before they reach the table, bound to their kid, and
// opened on the way out; callers only ever see PEM. The secret is resolved on
// the first call that needs it, so a service that never touches signing keys
// (the quayd admin commands) creates no secret file. That first call also
// seals any plaintext private keys an older version stored (best effort:
// they stay readable as they are if it fails).
#pragma once

#include <memory>
#include <mutex>

#include "api/service_state.h"
#include "auth/field_cipher.h"
#include "quay/signing_keys.h"

namespace quay::api {

class SigningKeyStoreImpl final : public SigningKeyStore {
 public:
  explicit SigningKeyStoreImpl(std::shared_ptr<ServiceState> state) : state_(std::move(state)) {}

  Status Insert(const Actor& actor, const SigningKey& key) override;
  Result<std::optional<SigningKey>> Find(std::string_view kid) override;
  Result<std::vector<SigningKey>> List(std::string_view service, bool include_expired) override;
  Result<std::optional<SigningKey>> Current(std::string_view service) override;
  Status Retire(const Actor& actor, std::string_view kid,
                std::optional<Clock::TimePoint> expires_at) override;
  Result<uint64_t> DeleteExpired(const Actor& actor) override;

 private:
  // The cipher, resolving the secret on first use (errors are not
  // remembered: a secret file that could not be read is tried again).
  Result<std::shared_ptr<const auth::FieldCipher>> Cipher();
  // Seals every private key still stored in plain text; how many it sealed.
  Result<uint64_t> SealPlaintextKeys(const auth::FieldCipher& cipher);
  Result<SigningKey> FromRow(const db::SigningKeyRow& row);

  std::shared_ptr<ServiceState> state_;
  std::mutex cipher_mu_;
  std::shared_ptr<const auth::FieldCipher> cipher_;  // guarded by cipher_mu_
};

}  // namespace quay::api
