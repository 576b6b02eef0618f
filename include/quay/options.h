// Options for opening a Registry. A plain struct: every field documents its
// default. The library never reads files or environment variables for these.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "quay/clock.h"
#include "quay/logger.h"
#include "quay/storage.h"

namespace quay {

struct Options {
  // Folder holding quay.db and the blob store; created if missing. Empty means
  // "in memory": a memory blob store and an in-memory SQLite database.
  // Default: "" (in memory).
  std::string data_dir;

  // SQLite file. Empty derives it: "<data_dir>/quay.db", or in-memory when
  // data_dir is empty. Default: "".
  std::string database_path;

  // Blob store to use instead of the one derived from data_dir (e.g. a
  // FaultInjectingBlobStore in tests). Default: null (derived).
  std::shared_ptr<BlobStore> blob_store;

  // fsync blobs and the database before acknowledging writes. Default: true.
  bool durable = true;

  // Largest manifest body accepted by PutManifest. Default: 4 MiB.
  uint64_t max_manifest_bytes = 4ull << 20;

  // Largest blob accepted by an upload. Default: 20 GiB (Quay's MAXIMUM_LAYER_SIZE).
  uint64_t max_blob_bytes = 20ull << 30;

  // Time source. Default: null (the system clock).
  std::shared_ptr<Clock> clock;

  // Log sink. Default: null (discard).
  std::shared_ptr<Logger> logger;
};

}  // namespace quay
