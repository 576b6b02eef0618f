// The IdentityService factory over an already open Database, for
// IdentityService::Open and for lib/registry's Open(options, registry)
// (which shares the registry's database). Internal to the library.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "db/database.h"
#include "quay/identity.h"

namespace quay::api {

std::unique_ptr<IdentityService> NewIdentityService(const Options& options,
                                                    std::shared_ptr<db::Database> database);

// DeleteNamespace's database half: the rows, in one transaction; the
// deleted upload sessions' ids. InvalidArgument if `identity` did not come
// from NewIdentityService.
Result<std::vector<std::string>> DeleteNamespaceRows(IdentityService& identity, const Actor& actor,
                                                     std::string_view name, NamespaceDeletion what);

}  // namespace quay::api
