// The blob storage driver interface: content-addressed bytes only. The store
// never knows repositories or tags; the database does.
//
// Upload areas hold in-progress bytes under an upload id. Commit makes an
// upload's bytes the blob of a digest: durably (when the driver is durable) and
// atomically, so a reader sees either no blob or the complete blob. Callers
// verify the digest before committing; the store trusts it.
//
// Layout of the filesystem driver (root = <data-dir>):
//   blobs/sha256/<first 2 hex>/<hex>    one file per committed blob
//   uploads/<upload id>                 in-progress upload bytes
//
// Thread safety: a BlobStore is safe to use from many threads. Readers and
// writers it returns are used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "quay/digest.h"
#include "quay/export.h"
#include "quay/status.h"

namespace quay {

class QUAY_EXPORT BlobReader {
 public:
  virtual ~BlobReader() = default;
  virtual uint64_t size() const = 0;
  // Reads up to `n` bytes at `offset` into `buf`; returns the count, 0 at or
  // past the end. Errors: Internal/Unavailable on I/O failure.
  virtual Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) = 0;
};

class QUAY_EXPORT UploadWriter {
 public:
  // Destroying a writer without Commit() keeps the bytes appended so far in the
  // upload area (they may not be durable).
  virtual ~UploadWriter() = default;
  virtual uint64_t size() const = 0;  // bytes in the upload area
  virtual Status Append(const char* data, size_t n) = 0;
  // Makes the bytes appended so far durable (fdatasync for a durable
  // filesystem store), so that an acknowledged chunk survives a power loss.
  // Stores without durability need not override it.
  virtual Status Sync() { return Status::Ok(); }
  // Moves the upload's bytes to the blob `digest` (fsync'd first when the store
  // is durable) and removes the upload. If the blob already exists, the upload
  // is dropped and the existing blob kept. The writer is spent afterwards.
  virtual Status Commit(const Digest& digest) = 0;
  // Like Commit, but the upload area stays where it is until the caller
  // removes it (DeleteUpload), so that the caller can record the blob first:
  // a crash between the two then leaves a session that still has its bytes
  // (filesystem: the blob is a second hard link to the area's file). Returns
  // true when this call created the blob, false when it existed already; a
  // caller that fails to record a blob it created deletes it again. A writer
  // that has published is spent. The default commits (the area goes at once).
  virtual Result<bool> Publish(const Digest& digest) {
    if (Status s = Commit(digest); !s.ok()) return s;
    return false;
  }
};

class QUAY_EXPORT BlobStore {
 public:
  virtual ~BlobStore() = default;

  // A new, empty upload area. Conflict(kUpload) if `id` exists.
  virtual Result<std::unique_ptr<UploadWriter>> CreateUpload(std::string_view id) = 0;
  // Reopens an upload for appending after its first `keep` bytes; bytes past
  // `keep` (from an append that was never acknowledged) are discarded. An
  // area that still shares its bytes with a published blob (a crash after
  // Publish, before DeleteUpload) is first copied, so appending never
  // changes the blob.
  // NotFound(kUpload) if absent; RangeInvalid(kUpload) if it holds fewer than `keep` bytes.
  virtual Result<std::unique_ptr<UploadWriter>> OpenUpload(std::string_view id, uint64_t keep) = 0;
  // Reads an upload's current bytes (used to rebuild hash state after a restart).
  virtual Result<std::unique_ptr<BlobReader>> ReadUpload(std::string_view id) = 0;
  // Removes an upload area; OK if it did not exist.
  virtual Status DeleteUpload(std::string_view id) = 0;
  virtual Result<std::vector<std::string>> ListUploads() = 0;

  // NotFound(kBlob) if the blob is absent.
  virtual Result<std::unique_ptr<BlobReader>> OpenBlob(const Digest& digest) = 0;
  virtual Result<uint64_t> BlobSize(const Digest& digest) = 0;
  // OK if it did not exist.
  virtual Status DeleteBlob(const Digest& digest) = 0;
  virtual Result<std::vector<Digest>> ListBlobs() = 0;
};

// Volatile, in-process storage (tests, embedders with no disk).
QUAY_EXPORT std::shared_ptr<BlobStore> NewMemoryBlobStore();

// Files under `root` (created if missing). With `durable`, commits fsync the
// data and the directories before and after the atomic rename.
QUAY_EXPORT Result<std::shared_ptr<BlobStore>> OpenFilesystemBlobStore(const std::string& root,
                                                                       bool durable = true);

}  // namespace quay
