// What the registry's parts share: options, the database, the blob store and
// the in-process upload bookkeeping. Owned by RegistryImpl; everything else
// borrows it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "db/database.h"
#include "quay/clock.h"
#include "quay/logger.h"
#include "quay/options.h"
#include "quay/storage.h"
#include "registry/upload_sessions.h"

namespace quay::registry {

struct Context {
  Options options;
  std::shared_ptr<Clock> clock;
  std::shared_ptr<Logger> logger;
  std::shared_ptr<BlobStore> store;
  std::unique_ptr<db::Database> db;
  UploadSessions sessions;

  int64_t NowMicros() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(clock->Now().time_since_epoch())
        .count();
  }
};

}  // namespace quay::registry
