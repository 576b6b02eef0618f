// The metadata database: the only code in libquay that speaks SQL.
//
// Callers see plain C++ rows and Status values; SQLite and SQLiteCpp stay in
// lib/db. Every write method is one short transaction, so a crash leaves either
// all of a change or none of it. Times are microseconds since the Unix epoch.
//
// Thread safety: a Database is safe to use from many threads. Writes are
// serialized on one connection; reads use a pool of connections (WAL mode lets
// them run beside the writer).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quay/digest.h"
#include "quay/status.h"

namespace quay::db {

struct UploadRow {
  std::string id;
  std::string repository;
  uint64_t offset = 0;
  int64_t created_at = 0;
};

struct ManifestRow {
  int64_t id = 0;
  Digest digest;
  std::string media_type;
  std::string content;
};

// Everything PutManifest needs to record a manifest and its references.
struct NewManifest {
  Digest digest;
  std::string media_type;
  std::string artifact_type;       // empty if none
  std::optional<Digest> subject;   // OCI 1.1 subject
  std::string_view content;
  std::vector<Digest> blobs;       // config + layers; must be linked to the repository
  std::vector<Digest> children;    // index entries; must exist in the repository
  std::string tag;                 // empty when pushed by digest
};

class Database {
 public:
  // Opens (creating if needed) and migrates the schema to the latest version.
  // `path` may be ":memory:". With `durable`, commits are fsync'd (synchronous=FULL).
  static Result<std::unique_ptr<Database>> Open(const std::string& path, bool durable);
  virtual ~Database() = default;

  virtual Result<int> SchemaVersion() = 0;

  // ---- repositories ----
  virtual Result<std::optional<int64_t>> FindRepository(std::string_view name) = 0;

  // ---- upload sessions ----
  virtual Status InsertUpload(std::string_view id, std::string_view repository, int64_t now) = 0;
  virtual Result<std::optional<UploadRow>> FindUpload(std::string_view id) = 0;
  // NotFound(kUpload) if the session is gone (cancelled concurrently).
  virtual Status SaveUploadOffset(std::string_view id, uint64_t offset, int64_t now) = 0;
  virtual Status DeleteUpload(std::string_view id) = 0;
  virtual Result<std::vector<std::string>> ListUploadIds() = 0;

  // ---- blobs ----
  // In one transaction: creates the repository if needed, records the blob,
  // links it to the repository and ends the upload session `upload_id`.
  virtual Status CommitBlob(std::string_view upload_id, std::string_view repository,
                            const Digest& digest, uint64_t size, int64_t now) = 0;
  // The blob's size if it is linked to the repository.
  virtual Result<std::optional<uint64_t>> FindRepositoryBlob(std::string_view repository,
                                                             const Digest& digest) = 0;

  // ---- manifests and tags ----
  // In one transaction: creates the repository if needed, verifies that every
  // blob and child is present (NotFound(kReference) naming the first missing
  // one), stores the manifest and its references, and points the tag at it
  // (closing the tag's previous history row).
  virtual Status PutManifest(std::string_view repository, const NewManifest& manifest,
                             int64_t now) = 0;
  virtual Result<std::optional<ManifestRow>> FindManifestByDigest(std::string_view repository,
                                                                  const Digest& digest) = 0;
  virtual Result<std::optional<ManifestRow>> FindManifestByTag(std::string_view repository,
                                                               std::string_view tag) = 0;
};

}  // namespace quay::db
