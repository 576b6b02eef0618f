// SigningKeyStore (quay/signing_keys.h) over the signing_key table.
// Internal to lib/api.
#pragma once

#include <memory>

#include "api/service_state.h"
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
  std::shared_ptr<ServiceState> state_;
};

}  // namespace quay::api
