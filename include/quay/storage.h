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
// Layout of the S3 driver (key = <prefix>/..., see OpenS3BlobStore):
//   <algorithm>/<first 2 hex>/<hex>                 one object per committed blob
//   uploads/<upload id>                             an upload's marker (its session nonce)
//   upload-data/<upload id>/<nonce>/<offset:020>    its bytes, in objects of one part each
//
// Thread safety: a BlobStore is safe to use from many threads. Readers and
// writers it returns are used by one thread at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "quay/clock.h"
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
  // Puts bytes the writer still holds in memory into the upload area (not
  // durably), so that ReadUpload sees everything appended so far. Stores
  // that write through need not override it.
  virtual Status Flush() { return Status::Ok(); }
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
  // Reads an upload's current bytes (used to rebuild hash state after a restart):
  // what a live writer has flushed (UploadWriter::Flush, Sync, or its end).
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

  // A URL from which a client can GET the blob's bytes itself until
  // `lifetime` has passed (an S3 presigned URL), so that pulls need not
  // stream through this process. Unsupported for stores without one (the
  // default: the data folder, memory).
  virtual Result<std::string> PresignBlobGet(const Digest& digest, std::chrono::seconds lifetime) {
    (void)digest;
    (void)lifetime;
    return Status::Unsupported(Subject::kBlob, "this blob store has no direct URLs");
  }
};

// Volatile, in-process storage (tests, embedders with no disk).
QUAY_EXPORT std::shared_ptr<BlobStore> NewMemoryBlobStore();

// Files under `root` (created if missing). With `durable`, commits fsync the
// data and the directories before and after the atomic rename.
QUAY_EXPORT Result<std::shared_ptr<BlobStore>> OpenFilesystemBlobStore(const std::string& root,
                                                                       bool durable = true);

// Where and how the S3 driver stores blobs. Works with AWS S3 and with
// S3-compatible stores (Ceph RADOS Gateway, ...) through path-style URLs
// (endpoint/bucket/key) signed with Signature V4.
struct S3Options {
  // Scheme, host and optional port: "https://s3.eu-west-1.amazonaws.com",
  // "http://127.0.0.1:7480". https means TLS. Required.
  std::string endpoint;
  std::string region = "us-east-1";  // the SigV4 signing region; default "us-east-1"
  std::string bucket;                // required
  std::string access_key;            // required
  // Required. Used only as a signing key: never logged, never in a Status.
  std::string secret_key;
  // A key prefix ("registry/storage"), so that one bucket can hold other
  // data or several registries; leading and trailing "/" are ignored.
  // Default: "" (keys start at the bucket's root).
  std::string prefix;
  // Bytes an upload writer buffers before it writes them as one object; each
  // such object becomes one part of the blob's multipart upload, so it must
  // be between 5 MiB and 5 GiB. Memory per open writer is at most this.
  // Default 8 MiB.
  uint64_t part_size = 8u << 20;
  // Bytes a blob reader fetches per ranged GET (more when a caller reads
  // more at once). Default 1 MiB.
  uint64_t read_ahead = 1u << 20;
  std::chrono::milliseconds connect_timeout{5000};  // default 5 s
  // A request that moves no byte for this long fails as Unavailable.
  // Default 30 s.
  std::chrono::milliseconds stall_timeout{30000};
  bool verify_tls = true;  // default true
  std::string ca_file;     // PEM bundle to trust instead of the system's; default ""
  // Create the bucket when it does not exist (RADOS Gateway deployments
  // that start empty). Default false: a missing bucket is an error.
  bool create_bucket = false;
  // Signing time; default the system clock.
  std::shared_ptr<Clock> clock;
};

// A store over an S3 bucket. Checks the options and that the bucket can be
// reached (creating it with `create_bucket`). Errors: InvalidArgument for
// bad options, NotFound when the bucket is missing, Unavailable when the
// endpoint cannot be reached, Internal when the store refuses (credentials).
//
// Durability and visibility: Append buffers up to `part_size` bytes in the
// writer; Sync writes them to the store, so an upload continues on any
// instance that opens it with the same options. Commit assembles the
// upload's objects into the blob's key with server-side copies (one
// CopyObject, or a multipart upload of part copies), which S3 makes visible
// atomically. Bytes appended but not yet synced are visible to ReadUpload of
// the same store object only. A BlobReader fetches ranges lazily: after
// DeleteBlob it still reads what it has fetched, and further reads fail with
// NotFound.
QUAY_EXPORT Result<std::shared_ptr<BlobStore>> OpenS3BlobStore(const S3Options& options);

}  // namespace quay
