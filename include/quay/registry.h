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

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quay/audit.h"
#include "quay/clock.h"
#include "quay/digest.h"
#include "quay/export.h"
#include "quay/manifest.h"
#include "quay/options.h"
#include "quay/status.h"
#include "quay/storage.h"
#include "quay/tag_policy.h"

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

// ---- views for Quay's REST API (/api/v1) ----

// Quay's filter_tag_name=like:x|eq:x.
struct TagNameFilter {
  enum class Kind : unsigned char { kLike, kEq };
  Kind kind = Kind::kLike;
  // kLike: a substring of the name, compared ASCII case-insensitively (Quay's
  // ILIKE '%x%'); kEq: the exact name.
  std::string text;
};

// What ListTagRows lists. Rows are tag history rows (one per time a tag
// pointed somewhere), newest start first.
struct TagListQuery {
  // Only live rows (Quay's onlyActiveTags). Default: the full history, live
  // and ended rows, as Quay's tag listing.
  bool only_active = false;
  // Only the rows of this exact tag name (Quay's specificTag).
  std::optional<std::string> specific_tag;
  std::optional<TagNameFilter> name_filter;
  // 1-based; 0 counts as 1.
  size_t page = 1;
  // Rows per page, clamped to 1..100 (Quay). Default: 50.
  size_t limit = 50;
};

// One tag history row as Quay's tag listing shows it.
struct TagListRow {
  std::string name;
  Digest manifest_digest;
  std::string manifest_media_type;
  bool is_manifest_list = false;  // an OCI index or a Docker manifest list
  // Sum of the manifest's declared layer sizes (Quay's layers_compressed_size;
  // the config is not counted). Empty for an index / manifest list.
  std::optional<uint64_t> size;
  Clock::TimePoint start;
  std::optional<Clock::TimePoint> end;  // empty while the row is live
  Clock::TimePoint last_modified;       // = start (Quay)
  // A live row's expiration (Quay shows it as end_ts / expiration).
  std::optional<Clock::TimePoint> expiration;
  bool immutable = false;
};

struct TagListPage {
  std::vector<TagListRow> rows;
  bool has_additional = false;  // a next page has rows
};

// What a manifest is, for Quay's GET .../manifest/{digest}.
struct ManifestInfo {
  Digest digest;
  std::string media_type;
  uint64_t size = 0;  // bytes of the manifest itself
  bool is_manifest_list = false;
  // When the manifest row was written (a push of the same bytes again
  // refreshes it).
  Clock::TimePoint created;
  std::string bytes;                               // the stored manifest
  std::string artifact_type;                       // empty if none
  std::map<std::string, std::string> annotations;  // top-level annotations
  std::optional<Descriptor> config;                // image manifests
  std::vector<Descriptor> layers;                  // image manifests, in order (index = position)
  std::vector<Descriptor> children;                // indexes: entries with their platform, in order
  std::optional<Digest> subject;
  // Sum of the layers' declared sizes (as TagListRow::size); empty for an index.
  std::optional<uint64_t> layers_size;
};

// Where a manifest label came from (Quay's LabelSourceType). Only kApi
// labels can be deleted.
enum class LabelSource : unsigned char { kManifest, kApi, kInternal };

// "manifest", "api", "internal": Quay's source_type names.
inline std::string_view LabelSourceName(LabelSource source) {
  switch (source) {
    case LabelSource::kManifest:
      return "manifest";
    case LabelSource::kApi:
      return "api";
    case LabelSource::kInternal:
      return "internal";
  }
  return "internal";
}

// A key/value label on a manifest (Quay's Label).
struct Label {
  std::string id;  // a UUID
  std::string key;
  std::string value;
  std::string media_type;  // text/plain, application/json or text/markdown
  LabelSource source = LabelSource::kApi;
  Clock::TimePoint created;
};

// A repository at a glance, for Quay's GET /api/v1/repository/{repo}.
struct RepositorySummary {
  uint64_t tag_count = 0;  // live tags
  // The latest tag change (a tag created, moved or deleted); empty when the
  // repository never had a tag.
  std::optional<Clock::TimePoint> last_modified;
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
  // A URL the client may fetch the blob from directly for `lifetime`
  // (BlobStore::PresignBlobGet): NotFound(kBlob) unless the blob is linked to
  // the repository, Unsupported when the store has no direct URLs.
  virtual Result<std::string> BlobUrl(std::string_view repository, const Digest& digest,
                                      std::chrono::seconds lifetime) = 0;

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
  // repository, NotFound(kManifest) for an unknown tag or digest and for a
  // reference that is neither a valid tag nor a valid digest;
  // NotFound(kExpiredTag) for a tag that is not live but was deleted or
  // expired inside the recovery window (Quay's TAG_EXPIRED: restorable).
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

  // ---- REST API (Quay's /api/v1; docs/architecture.md) ----
  // One page of `repository`'s tag history rows matching `query`, newest
  // start first (start DESC, then newest row first), in one query walking an
  // index in that order. Page N > 1 continues from where page N-1 ended when
  // this Registry served page N-1 and nothing was written since; otherwise
  // it skips (N-1) * limit rows along the index (about 0.5 us a row: some
  // 50 ms for the last page of 100,000 rows). A `like` filter scans rows newest
  // first until the page is full. Errors: InvalidArgument(kName);
  // NotFound(kRepository). A specific tag or eq filter that is not a valid
  // tag name matches nothing.
  Result<TagListPage> ListTagRows(std::string_view repository, const TagListQuery& query) {
    auto page = SharedTagRows(repository, query);
    if (!page.ok()) return page.status();
    return **page;
  }
  // The same page, shared and immutable: while nothing is written, the same
  // query returns the same object, so a caller may keep what it derives from
  // a page (rendered JSON) keyed by the pointer.
  virtual Result<std::shared_ptr<const TagListPage>> SharedTagRows(std::string_view repository,
                                                                   const TagListQuery& query) = 0;
  // Points `tag` at `manifest` (already in the repository, not deleted),
  // creating the tag or moving it; a move ends the tag's live history row
  // and starts a new one, exactly as a push does. Returns the digest the tag
  // pointed at before (empty: the tag was created; equal to `manifest`:
  // nothing changed). Errors: InvalidArgument(kName/kTag/kDigest);
  // NotFound(kRepository); NotFound(kManifest) if the manifest is not in
  // the repository.
  virtual Result<std::optional<Digest>> PutTag(std::string_view repository, std::string_view tag,
                                               const Digest& manifest) = 0;
  // The same, on behalf of `actor`: Quay's audit row of the change
  // (create_tag, or move_tag with original_manifest_digest; none when
  // nothing changed) commits in the same transaction as the tag.
  virtual Result<std::optional<Digest>> PutTag(std::string_view repository, std::string_view tag,
                                               const Digest& manifest, const Actor& actor) = 0;
  // The manifest's metadata and parsed references. Errors:
  // InvalidArgument(kName/kDigest); NotFound(kRepository);
  // NotFound(kManifest) if absent or deleted; Internal if the stored bytes
  // no longer parse.
  virtual Result<ManifestInfo> GetManifestInfo(std::string_view repository,
                                               const Digest& digest) = 0;
  // Live tag count and last tag change. Errors: InvalidArgument(kName);
  // NotFound(kRepository).
  virtual Result<RepositorySummary> RepositoryStats(std::string_view repository) = 0;
  // The bytes of every blob the registry holds, each digest counted once
  // (GET /api/v1/superuser/registrysize). One aggregate over the blob rows,
  // computed when asked (Quay queues a worker and caches the answer).
  virtual Result<uint64_t> TotalBlobBytes() = 0;
  // What readiness probes ask (quayd's /readyz and /health/*): whether the
  // database answers a read now (not from a cache) and the blob store takes
  // a write now (a one-byte upload made and removed). Each part OK, or the
  // error it met (Unavailable, NoSpace, Internal).
  struct HealthReport {
    Status database;
    Status storage;
  };
  virtual HealthReport CheckHealth() = 0;
  // Upload sessions started and neither committed nor cancelled (one
  // COUNT over their rows; metrics scrapes ask).
  virtual Result<uint64_t> OpenUploadCount() = 0;
  // How often, and how long in all, writers waited for the database's one
  // writer connection since Open (writes are serialized; metrics show it).
  struct DatabaseWait {
    uint64_t waits = 0;
    std::chrono::nanoseconds total{0};
  };
  virtual DatabaseWait WriterWait() = 0;

  // ---- manifest labels (Quay's Label) ----
  // Each: InvalidArgument(kName/kDigest); NotFound(kRepository);
  // NotFound(kManifest) when the manifest is absent or deleted.
  // A manifest's labels in creation order; with `key_prefix`, only keys
  // starting with it (Quay's filter).
  virtual Result<std::vector<Label>> ListLabels(std::string_view repository, const Digest& manifest,
                                                std::string_view key_prefix = {}) = 0;
  // NotFound(kNone) for an unknown label id (or one of another manifest).
  virtual Result<Label> GetLabel(std::string_view repository, const Digest& manifest,
                                 std::string_view label_id) = 0;
  // Adds a label with source kApi; the new label. `media_type` empty means
  // text/plain. InvalidArgument(kNone) for a key Quay refuses (empty, over
  // 255 bytes, not lower-case alphanumerics separated by single '.' or '-',
  // or the reserved prefix "quay."), a media type other than text/plain,
  // application/json or text/markdown, or an application/json value that
  // is not JSON.
  virtual Result<Label> AddLabel(std::string_view repository, const Digest& manifest,
                                 std::string_view key, std::string_view value,
                                 std::string_view media_type) = 0;
  // Deletes an api label; the deleted label. NotFound(kNone) for an unknown
  // label; InvalidArgument(kNone) for a label of source manifest or
  // internal (immutable, as in Quay).
  virtual Result<Label> DeleteLabel(std::string_view repository, const Digest& manifest,
                                    std::string_view label_id) = 0;

  // ---- tag policies (quay/tag_policy.h; docs/architecture.md) ----
  // A live tag's expiration time and immutability.
  struct TagState {
    std::optional<Clock::TimePoint> expiration;
    bool immutable = false;
  };
  // NotFound(kRepository); NotFound(kTag) when the tag is not live.
  virtual Result<TagState> GetTagState(std::string_view repository, std::string_view tag) = 0;
  // Sets (or, with nullopt, clears) when the live `tag` ends by itself, and
  // writes Quay's change_tag_expiration row (expiration_date,
  // old_expiration_date) by `actor` in the same transaction unless nothing
  // changed. Returns the expiration before. Errors: InvalidArgument(kName/
  // kTag); InvalidArgument(kNone) for a time not after now;
  // NotFound(kRepository); NotFound(kTag) when the tag is not live;
  // Conflict(kTag) for an immutable tag (unless immutable_tags_can_expire).
  virtual Result<std::optional<Clock::TimePoint>> SetTagExpiration(
      std::string_view repository, std::string_view tag, std::optional<Clock::TimePoint> expiration,
      const Actor& actor) = 0;
  // Makes the live `tag` immutable or mutable again (who may unset it is the
  // host's decision: Quay asks repository admin), writing Quay's
  // change_tag_immutability row (immutable, previous_immutable). Making a
  // tag immutable clears its expiration unless immutable_tags_can_expire.
  // Returns the previous value. Errors: InvalidArgument(kName/kTag);
  // NotFound(kRepository); NotFound(kTag); Unsupported(kNone) without
  // TagPolicyOptions::immutable_tags.
  virtual Result<bool> SetTagImmutable(std::string_view repository, std::string_view tag,
                                       bool immutable, const Actor& actor) = 0;

  // Immutability policies of a namespace or a repository. Each needs
  // TagPolicyOptions::immutable_tags (Unsupported(kNone) otherwise) and
  // answers NotFound(kRepository) for an unknown repository, NotFound(kNone)
  // for an unknown namespace (no account of that name) or policy uuid.
  virtual Result<std::vector<ImmutabilityPolicy>> ListImmutabilityPolicies(
      const PolicyScope& scope) = 0;
  virtual Result<ImmutabilityPolicy> GetImmutabilityPolicy(const PolicyScope& scope,
                                                           std::string_view uuid) = 0;
  // Creates the policy (a new uuid) and, in the same transaction, marks the
  // scope's live tags it matches immutable, with Quay's
  // create_immutability_policy row and, when tags changed,
  // tags_made_immutable_by_policy (count). InvalidArgument(kNone) for an
  // empty, over-long or invalid pattern, or one the scope already has.
  virtual Result<ImmutabilityPolicy> CreateImmutabilityPolicy(const PolicyScope& scope,
                                                              const ImmutabilityPolicy& policy,
                                                              const Actor& actor) = 0;
  // Replaces pattern and sense of `policy.uuid` (update_immutability_policy);
  // marks matching tags as creation does.
  virtual Status UpdateImmutabilityPolicy(const PolicyScope& scope,
                                          const ImmutabilityPolicy& policy, const Actor& actor) = 0;
  // delete_immutability_policy. Tags it made immutable stay immutable (Quay).
  virtual Status DeleteImmutabilityPolicy(const PolicyScope& scope, std::string_view uuid,
                                          const Actor& actor) = 0;

  // Auto-prune policies, the same way (Unsupported(kNone) without
  // TagPolicyOptions::auto_prune; InvalidArgument(kNone) for a count that is
  // not a positive integer, a duration Quay's format refuses, or a bad
  // pattern). Audit kinds: create_/update_/delete_namespace_autoprune_policy
  // or ..._repository_autoprune_policy.
  virtual Result<std::vector<AutoPrunePolicy>> ListAutoPrunePolicies(const PolicyScope& scope) = 0;
  virtual Result<AutoPrunePolicy> GetAutoPrunePolicy(const PolicyScope& scope,
                                                     std::string_view uuid) = 0;
  virtual Result<AutoPrunePolicy> CreateAutoPrunePolicy(const PolicyScope& scope,
                                                        const AutoPrunePolicy& policy,
                                                        const Actor& actor) = 0;
  virtual Status UpdateAutoPrunePolicy(const PolicyScope& scope, const AutoPrunePolicy& policy,
                                       const Actor& actor) = 0;
  virtual Status DeleteAutoPrunePolicy(const PolicyScope& scope, std::string_view uuid,
                                       const Actor& actor) = 0;
  // One pass of every auto-prune policy: in each repository a policy
  // covers, ends the live, mutable tags it selects (newest first by start;
  // beyond the newest `value`, or started before now - `value`), writing
  // Quay's autoprune_tag_delete row for each in the tag's transaction.
  // Ended tags stay restorable for the recovery window. Unsupported(kNone)
  // without TagPolicyOptions::auto_prune.
  virtual Result<AutoPruneReport> RunAutoPrune() = 0;

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
