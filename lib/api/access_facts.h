// Reads what the permission decision (auth/access_rules.h) needs about one
// principal and one repository or namespace, and resolves superusers from
// the options. Shared by the Authorizer and IdentityService::Access.
// Internal to lib/api.
#pragma once

#include <string_view>

#include "api/service_state.h"
#include "auth/access_rules.h"
#include "quay/access.h"

namespace quay::api {

// The flavour the configuration gives `username` (read-only wins).
SuperuserKind ConfiguredSuperuser(const IdentityOptions& options, std::string_view username);

auth::AccessPolicy PolicyOf(const IdentityOptions& options);

// `repository` may be empty (namespace-wide questions); `namespace_name` is
// the repository's namespace or the namespace asked about.
Result<auth::AccessFacts> GatherFacts(ServiceState& state, const Principal& who,
                                      std::string_view repository, std::string_view namespace_name);

}  // namespace quay::api
