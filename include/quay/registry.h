// Registry: the facade embedders and hosts call for everything the OCI
// distribution API does: upload sessions, blobs, manifests and tags.
//
// Open() gives a registry on a data folder (SQLite + filesystem blobs) or in
// memory. All methods validate names, digests and references before touching
// storage, and return errors as Status values (see status.h for codes).
//
// Durability contract: a blob is visible only after its bytes are complete,
// digest-verified, durable and atomically in place, and its row is committed;
// a manifest is visible only after everything it references is.
//
// Thread safety: a Registry is safe to use from many threads. A BlobUpload is
// used by one thread at a time; one upload session can be open at once
// (a second ResumeUpload of a busy session returns Conflict(kUpload)).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quay/clock.h"
#include "quay/digest.h"
#include "quay/export.h"
#include "quay/manifest.h"
#include "quay/options.h"
#include "quay/status.h"
#include "quay/storage.h"

namespace quay {

struct BlobInfo {
  Digest digest;
  uint64_t size = 0;
};

// An open upload session. Write() appends and hashes (once) as bytes arrive.
// Destroying it without Save() or Commit() forgets every byte written through
// it: the session stays at its previous offset (a truncated request body loses
// nothing already acknowledged and adds nothing partial).
class QUAY_EXPORT BlobUpload {
 public:
  virtual ~BlobUpload() = default;
  virtual const std::string& id() const = 0;
  virtual const std::string& repository() const = 0;
  // Bytes in the session, including those written through this object.
  virtual uint64_t offset() const = 0;

  // Errors: TooLarge(kUpload) past Options::max_blob_bytes; Unavailable on I/O.
  virtual Status Write(const char* data, size_t n) = 0;
  // Acknowledges the bytes written so far: they survive a restart.
  virtual Status Save() = 0;
  // Finishes the session: verifies `expected` (DigestMismatch, session kept at
  // its previous offset) and, when given, the total size (SizeMismatch), makes
  // the blob visible in the repository and ends the session.
  virtual Result<BlobInfo> Commit(const Digest& expected,
                                  std::optional<uint64_t> expected_size = std::nullopt) = 0;
};

struct UploadState {
  std::string id;
  uint64_t offset = 0;
};

struct ManifestRecord {
  Digest digest;
  std::string media_type;
  std::string bytes;
};

struct PutManifestResult {
  Digest digest;
  std::optional<Digest> subject;  // set when the manifest has a subject
};

// One page of a lexically ordered listing (tags, repositories).
struct NamePage {
  std::vector<std::string> names;
  bool more = false;  // true when names after the last one exist
};

// One row of a tag's history: the tag pointed at `manifest` from `start` until
// `end` (open while the tag still points there).
struct TagEvent {
  std::string tag;
  Digest manifest;
  Clock::TimePoint start;
  std::optional<Clock::TimePoint> end;
};

struct GcOptions {
  bool dry_run = false;  // report what would be freed, change nothing
  // Rows deleted per write transaction: concurrent writes wait at most one
  // batch for the database. At least 1. Default: 200.
  size_t batch_size = 200;
};

// What a collection removed (or, for a dry run, would remove).
struct GcReport {
  uint64_t manifests_deleted = 0;
  uint64_t tags_expired = 0;     // history rows past the recovery window
  uint64_t blobs_unlinked = 0;   // repository links removed
  uint64_t blobs_deleted = 0;    // blob files removed from storage (also
                                 // files left without a row by a crash)
  uint64_t bytes_freed = 0;      // their sizes
  uint64_t uploads_expired = 0;  // abandoned upload sessions removed
};

class QUAY_EXPORT Registry {
 public:
  // Errors: InvalidArgument for unusable options, Unavailable/Internal when the
  // data folder or database cannot be opened or migrated.
  static Result<std::unique_ptr<Registry>> Open(const Options& options);
  virtual ~Registry() = default;

  // ---- uploads ----
  // A new session in `repository` (InvalidArgument(kName) for a bad name).
  virtual Result<std::unique_ptr<BlobUpload>> StartUpload(std::string_view repository) = 0;
  // Reopens a session. NotFound(kUpload) if unknown (or of another repository);
  // Conflict(kUpload) if another request holds it.
  virtual Result<std::unique_ptr<BlobUpload>> ResumeUpload(std::string_view repository,
                                                           std::string_view id) = 0;
  virtual Result<UploadState> GetUpload(std::string_view repository, std::string_view id) = 0;
  // NotFound(kUpload) if unknown.
  virtual Status CancelUpload(std::string_view repository, std::string_view id) = 0;

  // ---- blobs ----
  // NotFound(kBlob) unless the blob is linked to the repository.
  virtual Result<BlobInfo> StatBlob(std::string_view repository, const Digest& digest) = 0;
  virtual Result<std::unique_ptr<BlobReader>> OpenBlob(std::string_view repository,
                                                       const Digest& digest) = 0;

  // ---- manifests ----
  // Stores `bytes` under `reference` (a tag, or the digest of the bytes).
  // Creates the repository on first push. Errors: InvalidArgument(kName/kTag/
  // kManifest/kDigest), DigestMismatch when a digest reference does not match,
  // TooLarge(kManifest), Unsupported(kMediaType), NotFound(kReference) when a
  // referenced blob or child manifest is absent from the repository.
  virtual Result<PutManifestResult> PutManifest(std::string_view repository,
                                                std::string_view reference,
                                                std::string_view content_type,
                                                std::string_view bytes) = 0;
  // The stored bytes and media type. NotFound(kRepository) for an unknown
  // repository, NotFound(kManifest) for an unknown tag or digest.
  virtual Result<ManifestRecord> GetManifest(std::string_view repository,
                                             std::string_view reference) = 0;

  virtual Result<bool> RepositoryExists(std::string_view repository) = 0;

  // ---- discovery ----
  // Live tags of a repository in lexical (byte) order, at most `limit`, those
  // after `after` (exclusive; empty = from the start). NotFound(kRepository).
  virtual Result<NamePage> ListTags(std::string_view repository, size_t limit,
                                    std::string_view after) = 0;
  // Repositories in lexical order, paged like ListTags.
  virtual Result<NamePage> ListRepositories(size_t limit, std::string_view after) = 0;
  // Descriptors (mediaType, digest, size, artifactType, annotations) of the
  // live manifests in `repository` whose subject is `subject`; only those of
  // `artifact_type` when it is non-empty. An unknown subject gives an empty list.
  virtual Result<std::vector<Descriptor>> ListReferrers(std::string_view repository,
                                                        const Digest& subject,
                                                        std::string_view artifact_type) = 0;

  // ---- management ----
  // Removes a manifest and every tag pointing at it from the API (the tags'
  // history rows end now, so they stay restorable inside the recovery window).
  // NotFound(kManifest) if it is not in the repository.
  virtual Status DeleteManifest(std::string_view repository, const Digest& digest) = 0;
  // Removes a tag (its history row ends now). NotFound(kTag) if it is not live.
  virtual Status DeleteTag(std::string_view repository, std::string_view tag) = 0;
  // Unlinks a blob from one repository. NotFound(kBlob) if not linked.
  virtual Status DeleteBlob(std::string_view repository, const Digest& digest) = 0;
  // Links a blob of repository `from` into `repository` without moving bytes.
  // NotFound(kBlob) if `from` has no such blob (callers fall back to an upload).
  virtual Result<BlobInfo> MountBlob(std::string_view repository, const Digest& digest,
                                     std::string_view from) = 0;
  // Removes a repository: its tags, manifests and blob links. NotFound(kRepository).
  virtual Status DeleteRepository(std::string_view repository) = 0;

  // ---- tag history (Quay's time machine) ----
  // Every row of `tag`'s history, newest first. NotFound(kRepository).
  virtual Result<std::vector<TagEvent>> TagHistory(std::string_view repository,
                                                   std::string_view tag) = 0;
  // The repository's most recent tag changes (any tag), newest first.
  virtual Result<std::vector<TagEvent>> RecentTagChanges(std::string_view repository,
                                                         size_t limit) = 0;
  // Points `tag` at `manifest` again, provided the tag pointed there at some
  // time inside the recovery window (Options::tag_recovery_window).
  // NotFound(kTag) when no such history row is inside the window.
  virtual Status RestoreTag(std::string_view repository, std::string_view tag,
                            const Digest& manifest) = 0;

  // ---- garbage collection ----
  // Removes what nothing live reaches, from the database first and then from
  // storage, in small transactions while other calls proceed: anything a
  // concurrent push makes live again before its batch is deleted is kept.
  // Windows come from Options (gc_protection_window, tag_recovery_window,
  // upload_expiry); docs/architecture.md has the liveness rules. One
  // collection runs at a time per Registry (a second call waits). Safe to
  // run in another process on the same data folder (open it with
  // Options::reconcile_uploads = false). Errors: InvalidArgument for a zero
  // batch_size; Unavailable/Internal from the database or storage (what was
  // removed before the error stays removed; the next run continues).
  virtual Result<GcReport> CollectGarbage(const GcOptions& options) = 0;
};

}  // namespace quay
