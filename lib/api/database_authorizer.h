// The Authorizer backed by the identity tables (Quay's permission model):
// gathers the facts in one read snapshot, then applies auth/access_rules.h.
// Internal to lib/api; hosts get it from IdentityService::authorizer().
//
// Decisions are cached (db/read_cache.h): every /v2 request asks at least
// once, and gathering the facts is several indexed queries. A cached
// decision is dropped as soon as this process changes an identity,
// permission or repository row, and within ConnectionPool's epoch poll
// interval of another process doing so (the quayd CLI). Failures to decide
// (Unavailable, Internal) are never cached.
#pragma once

#include <memory>
#include <string>

#include "api/service_state.h"
#include "db/read_cache.h"
#include "quay/access.h"

namespace quay::api {

class DatabaseAuthorizer final : public Authorizer {
 public:
  explicit DatabaseAuthorizer(std::shared_ptr<ServiceState> state);

  Status Check(const Principal& who, std::string_view repository, Action action) const override;
  Status CheckNamespace(const Principal& who, std::string_view namespace_name,
                        NamespaceAction action) const override;

 private:
  // Decides with `decide` (gathering facts) unless a current decision for
  // `key` is cached.
  template <typename F>
  Status Cached(const std::string& key, F&& decide) const;

  std::shared_ptr<ServiceState> state_;
  mutable db::ReadCache<Status> decisions_;
};

}  // namespace quay::api
