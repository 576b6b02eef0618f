// The Authorizer backed by the identity tables (Quay's permission model):
// gathers the facts in one read snapshot, then applies auth/access_rules.h.
// Internal to lib/api; hosts get it from IdentityService::authorizer().
#pragma once

#include <memory>

#include "api/service_state.h"
#include "quay/access.h"

namespace quay::api {

class DatabaseAuthorizer final : public Authorizer {
 public:
  explicit DatabaseAuthorizer(std::shared_ptr<ServiceState> state) : state_(std::move(state)) {}

  Status Check(const Principal& who, std::string_view repository, Action action) const override;
  Status CheckNamespace(const Principal& who, std::string_view namespace_name,
                        NamespaceAction action) const override;

 private:
  std::shared_ptr<ServiceState> state_;
};

}  // namespace quay::api
