// What a store may offer beyond quay::BlobStore so that an acknowledged chunk
// costs one fsync instead of two (issue 15). Internal to the library: a store
// an embedder writes simply lacks it, and the registry then keeps the offset
// durable in the database as before.
//
// A PATCH is acknowledged once its bytes and its new offset are durable. The
// filesystem driver's Sync() records the synced size in the upload file
// itself (an extended attribute, user.quay.synced) before its fsync, so the
// one fsync makes bytes and offset durable together, and the session row's
// offset may then be committed without a sync of its own. After a power loss
// the row can be behind the file; the registry's Reconcile() moves it forward
// to the recorded size (SyncedUploadSize) before any session resumes.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "quay/status.h"

namespace quay::storage {

// An UploadWriter whose Sync() can record the synced size with the bytes.
class SizeRecordingWriter {
 public:
  virtual ~SizeRecordingWriter() = default;
  // Whether the last successful Sync() recorded the size it made durable
  // (false where the filesystem refused the attribute, or without durability).
  virtual bool last_sync_recorded_size() const = 0;
};

// A BlobStore whose writers may be SizeRecordingWriters.
class SyncedSizeStore {
 public:
  virtual ~SyncedSizeStore() = default;
  // The size the last recording Sync() of upload `id` made durable, if one is
  // recorded and the area still holds that many bytes; nullopt otherwise.
  // NotFound(kUpload) if the area is gone.
  virtual Result<std::optional<uint64_t>> SyncedUploadSize(std::string_view id) = 0;
};

}  // namespace quay::storage
