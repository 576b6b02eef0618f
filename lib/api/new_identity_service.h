// The IdentityService factory over an already open Database, for
// IdentityService::Open and for lib/registry's Open(options, registry)
// (which shares the registry's database). Internal to the library.
#pragma once

#include <memory>

#include "db/database.h"
#include "quay/identity.h"

namespace quay::api {

std::unique_ptr<IdentityService> NewIdentityService(const Options& options,
                                                    std::shared_ptr<db::Database> database);

}  // namespace quay::api
