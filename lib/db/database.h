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
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "db/audit_store.h"
#include "quay/digest.h"
#include "quay/manifest.h"
#include "quay/options.h"
#include "quay/status.h"

namespace quay::db {

class ConnectionPool;

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

// A manifest_label row (schema v6).
struct LabelRow {
  std::string uuid;
  std::string key;
  std::string value;
  std::string media_type;
  std::string source;  // "manifest", "api" or "internal"
  int64_t created_at = 0;
};

// Everything PutManifest needs to record a manifest and its references.
struct NewManifest {
  Digest digest;
  std::string media_type;
  std::string artifact_type;      // empty if none
  std::string config_media_type;  // image manifests' config.mediaType; empty otherwise
  std::map<std::string, std::string> annotations;  // top-level annotations
  std::optional<Digest> subject;                   // OCI 1.1 subject
  std::string_view content;
  // Config + layers. A required one must be linked to the repository; an
  // optional one (a non-distributable layer) is referenced only if it is.
  // Either way a linked blob's size must equal `size` when that is set.
  struct BlobReference {
    Digest digest;
    std::optional<uint64_t> size;
    bool required = true;
  };
  std::vector<BlobReference> blobs;
  std::vector<Digest> children;  // index entries; must exist in the repository
  // Sum of layers[].size of an image manifest; empty for an index.
  std::optional<uint64_t> layers_size;
  std::string tag;  // empty when pushed by digest
  // The new tag row's policy columns (schema v10): when it expires (the
  // quay.expires-after label) and whether it is immutable (the
  // quay.immutable label or an immutability policy). An immutable live row
  // of `tag` pointing elsewhere refuses the push: Conflict(kTag).
  std::optional<int64_t> tag_expires_at;
  bool tag_immutable = false;
  // Labels of the image config (source "manifest"), recorded only when the
  // manifest has no manifest-sourced labels yet (a re-push adds none).
  std::vector<LabelRow> labels;
};

// One page of names in byte order.
struct NameList {
  std::vector<std::string> names;
  bool more = false;  // names after the last one exist
};

// One row of a tag's history.
struct TagRow {
  std::string name;
  Digest manifest;
  int64_t start_at = 0;
  std::optional<int64_t> end_at;  // empty while the row is live
};

// ---- REST API views ----
// One page of tag history rows (Registry::ListTagRows). Exactly one of the
// plans applies: `name` set -> that tag's rows (tag_history index), else
// `only_active` -> live rows (tag_live_started), else every row
// (tag_started); each walks its index newest start first, so a page costs
// O(offset + limit) index steps.
struct TagPageQuery {
  bool only_active = false;
  std::optional<std::string> name;  // exact tag name
  std::string like;                 // substring (ASCII case-insensitive); empty: none
  // Keyset: only rows strictly older than (start_at, id) in listing order;
  // empty: from the newest row.
  std::optional<std::pair<int64_t, int64_t>> before;
  size_t offset = 0;  // rows skipped (after `before`)
  size_t limit = 50;
};

struct TagPageRow {
  int64_t id = 0;  // the tag row (keyset cursor with start_at)
  std::string name;
  Digest manifest;
  std::string media_type;
  // Sum of the manifest's layers[].size as declared in its JSON; empty when
  // it has no layers array (an index).
  std::optional<uint64_t> layers_size;
  int64_t start_at = 0;
  std::optional<int64_t> end_at;
  std::optional<int64_t> expires_at;  // a live row's expiration
  bool immutable = false;
};

struct TagPage {
  std::vector<TagPageRow> rows;
  bool more = false;  // rows after the last one exist
};

struct ManifestDetailRow {
  int64_t id = 0;
  Digest digest;
  std::string media_type;
  std::string content;
  int64_t created_at = 0;
};

struct RepositoryStatsRow {
  uint64_t live_tags = 0;
  std::optional<int64_t> last_tag_change;
};

// ---- garbage collection ----
// Times that protect rows from GC whatever references them (microseconds).
struct GcCutoffs {
  // Manifests, blob links and blobs created (or refreshed) at or after this
  // are kept: a push in progress has uploaded them but not yet referenced
  // them (Options::gc_protection_window).
  int64_t created_since = 0;
  // Tag rows that ended at or after this keep their manifest: it is still
  // restorable (Options::tag_recovery_window). Rows ended earlier expire.
  int64_t ended_since = 0;
};

// What a collection at some cutoffs would remove, counted in one snapshot.
struct GarbageEstimate {
  uint64_t tags = 0;  // expired tag history rows
  uint64_t manifests = 0;
  uint64_t blob_links = 0;  // repository_blob rows
  uint64_t blobs = 0;       // blob rows (and their files)
  uint64_t blob_bytes = 0;
  uint64_t uploads = 0;  // idle upload sessions
};

// A repository_blob row.
struct BlobLinkKey {
  int64_t repository_id = 0;
  Digest digest;
};

// A blob row.
struct BlobRow {
  Digest digest;
  uint64_t size = 0;
};

// What one DeleteDeadManifests transaction did.
struct ManifestSweep {
  uint64_t manifests_deleted = 0;
  uint64_t tags_deleted = 0;  // expired history rows of those manifests
  std::vector<int64_t> kept;  // ids not deleted (live now, or waiting on a parent)
};

// Where the database of `options` lives, the one derivation Registry::Open
// and IdentityService::Open share so that both open the same file:
// Options::database_path if set, else <data_dir>/quay.db (creating data_dir),
// else ":memory:". Unavailable if data_dir cannot be created.
Result<std::string> DatabasePathFor(const Options& options);

class Database {
 public:
  // Opens (creating if needed) and migrates the schema to the latest version.
  // `path` may be ":memory:". With `durable`, commits are fsync'd (synchronous=FULL).
  static Result<std::unique_ptr<Database>> Open(const std::string& path, bool durable);
  virtual ~Database() = default;

  virtual Result<int> SchemaVersion() = 0;

  // The connections, for the stores that share this database (identity,
  // audit and signing keys: identity_store.h, audit_store.h,
  // signing_key_store.h). Lives as long as the Database.
  virtual ConnectionPool& connections() = 0;

  // ---- repositories ----
  virtual Result<std::optional<int64_t>> FindRepository(std::string_view name) = 0;

  // ---- upload sessions ----
  virtual Status InsertUpload(std::string_view id, std::string_view repository, int64_t now) = 0;
  virtual Result<std::optional<UploadRow>> FindUpload(std::string_view id) = 0;
  // NotFound(kUpload) if the session is gone (cancelled concurrently).
  // `durable`: the commit is fsync'd (the offset acknowledges a chunk). Not
  // durable only where the store recorded the offset with the bytes
  // (storage/synced_size.h); it still survives a crash of the process.
  virtual Status SaveUploadOffset(std::string_view id, uint64_t offset, int64_t now,
                                  bool durable) = 0;
  virtual Status DeleteUpload(std::string_view id) = 0;
  virtual Result<std::vector<std::string>> ListUploadIds() = 0;

  // ---- blobs ----
  // In one transaction: creates the repository if needed, records the blob,
  // links it to the repository and ends the upload session `upload_id`.
  // NotFound(kUpload), changing nothing, if that session's row is gone
  // (cancelled, or its repository deleted, while the commit ran).
  virtual Status CommitBlob(std::string_view upload_id, std::string_view repository,
                            const Digest& digest, uint64_t size, int64_t now) = 0;
  // The blob's size if it is linked to the repository.
  virtual Result<std::optional<uint64_t>> FindRepositoryBlob(std::string_view repository,
                                                             const Digest& digest) = 0;

  // ---- manifests and tags ----
  // In one transaction: creates the repository if needed, verifies that every
  // required blob and every child is present (NotFound(kReference) naming the
  // first missing one) and that linked blobs have the sizes the manifest
  // gives (InvalidArgument(kManifest) naming the first that does not), stores the manifest and its
  // references, and points the tag at it (closing the tag's previous history row). Deleted children
  // count as missing. Pushing a known manifest again clears its deletion and refreshes its
  // created_at.
  virtual Status PutManifest(std::string_view repository, const NewManifest& manifest,
                             int64_t now) = 0;
  // Both ignore deleted manifests.
  virtual Result<std::optional<ManifestRow>> FindManifestByDigest(std::string_view repository,
                                                                  const Digest& digest) = 0;
  virtual Result<std::optional<ManifestRow>> FindManifestByTag(std::string_view repository,
                                                               std::string_view tag) = 0;

  // ---- discovery (each one query; empty optional = unknown repository) ----
  // Live tags named after `after`, at most `limit`, in byte order.
  virtual Result<std::optional<NameList>> ListTags(std::string_view repository, size_t limit,
                                                   std::string_view after) = 0;
  virtual Result<NameList> ListRepositories(size_t limit, std::string_view after) = 0;
  // Descriptors of the live (not deleted) manifests whose subject is
  // `subject`, in push order; only those of `artifact_type` unless empty. The
  // artifact type is the manifest's artifactType, else its config's mediaType.
  virtual Result<std::optional<std::vector<Descriptor>>> ListReferrers(
      std::string_view repository, const Digest& subject, std::string_view artifact_type) = 0;

  // ---- deletion (logical for manifests and tags: rows stay for restore and GC) ----
  // Marks the manifest deleted and ends every live tag pointing at it.
  // NotFound(kManifest) if absent or already deleted; Conflict(kTag) if an
  // immutable live tag points at it.
  virtual Status DeleteManifest(std::string_view repository, const Digest& digest, int64_t now) = 0;
  // Ends the tag's live row. NotFound(kTag) if the tag is not live,
  // Conflict(kTag) if it is immutable.
  virtual Status DeleteTag(std::string_view repository, std::string_view tag, int64_t now) = 0;
  // Removes the blob's link to the repository (the blob row stays for GC).
  // NotFound(kBlob) if not linked.
  virtual Status UnlinkBlob(std::string_view repository, const Digest& digest) = 0;
  // In one transaction: if `from` has the blob linked, creates `repository` if
  // needed and links the blob to it, returning its size; empty otherwise.
  virtual Result<std::optional<uint64_t>> MountBlob(std::string_view repository,
                                                    const Digest& digest, std::string_view from,
                                                    int64_t now) = 0;
  // In one transaction removes the repository row and everything that hangs
  // off it (tag rows, manifests and their references, blob links, upload
  // session rows). Blob rows stay for GC. Returns the ids of the removed
  // upload sessions (their areas are the caller's to delete); empty optional
  // if the repository is unknown.
  virtual Result<std::optional<std::vector<std::string>>> DeleteRepository(
      std::string_view repository) = 0;

  // ---- tag history ----
  // Every row of `tag`, newest start first.
  virtual Result<std::optional<std::vector<TagRow>>> TagHistory(std::string_view repository,
                                                                std::string_view tag) = 0;
  // The repository's rows by the later of start and end, newest first.
  virtual Result<std::optional<std::vector<TagRow>>> RecentTagChanges(std::string_view repository,
                                                                      size_t limit) = 0;
  // In one transaction: if some row of `tag` pointed at `manifest` and ended
  // at or after `ended_since` (or is live), points the tag at it again (ending
  // the live row if it points elsewhere) and clears the manifest's deletion.
  // NotFound(kTag) otherwise.
  virtual Status RestoreTag(std::string_view repository, std::string_view tag,
                            const Digest& manifest, int64_t ended_since, int64_t now) = 0;
  // ---- REST API views ----
  // One page of tag history rows (one query); empty optional = unknown
  // repository.
  virtual Result<std::optional<TagPage>> ListTagPage(std::string_view repository,
                                                     const TagPageQuery& query) = 0;
  // SQLite's EXPLAIN QUERY PLAN of the statement ListTagPage runs for
  // `query`, one detail line per row (tests check it walks an index).
  virtual Result<std::string> ExplainTagPage(const TagPageQuery& query) = 0;
  // The same for the statement of ListTags (the /v2 tags list).
  virtual Result<std::string> ExplainTagNames() = 0;
  // In one transaction: points `tag` at the (not deleted) manifest `digest`
  // as a push does (ending the live row if it points elsewhere). Returns
  // the digest the tag pointed at before, if any. NotFound(kRepository),
  // NotFound(kManifest). `audit`, if set, is asked for the audit row of the
  // change given the previous digest (none: nothing to record), and the row
  // commits with the tag. The transaction shares its commit with concurrent
  // pushes (db/group_commit.h).
  using TagAudit = std::function<std::optional<AuditRow>(const std::optional<Digest>& previous)>;
  virtual Result<std::optional<Digest>> PutTag(std::string_view repository, std::string_view tag,
                                               const Digest& digest, int64_t now,
                                               const TagAudit& audit = {}) = 0;
  // Ignores deleted manifests.
  virtual Result<std::optional<ManifestDetailRow>> FindManifestDetail(std::string_view repository,
                                                                      const Digest& digest) = 0;
  // Empty optional = unknown repository.
  virtual Result<std::optional<RepositoryStatsRow>> RepositoryStats(
      std::string_view repository) = 0;
  // SUM(size) over the blob rows (each digest once).
  virtual Result<uint64_t> TotalBlobBytes() = 0;
  // One trivial read on a pooled connection (health probes): OK, or why not.
  virtual Status Ping() = 0;
  // Rows in the upload table (sessions in progress).
  virtual Result<uint64_t> CountUploads() = 0;

  // ---- manifest labels (each: NotFound(kRepository) / NotFound(kManifest)
  // when the repository / the not deleted manifest is unknown) ----
  // Oldest first; only keys starting with `key_prefix` unless empty.
  virtual Result<std::vector<LabelRow>> ListLabels(std::string_view repository,
                                                   const Digest& manifest,
                                                   std::string_view key_prefix) = 0;
  // NotFound(kNone) for an unknown uuid.
  virtual Result<LabelRow> FindLabel(std::string_view repository, const Digest& manifest,
                                     std::string_view uuid) = 0;
  virtual Status InsertLabel(std::string_view repository, const Digest& manifest,
                             const LabelRow& label) = 0;
  // Deletes the label if its source is "api"; the deleted row.
  // NotFound(kNone) for an unknown uuid, InvalidArgument(kNone) for an
  // immutable (manifest or internal) label.
  virtual Result<LabelRow> DeleteApiLabel(std::string_view repository, const Digest& manifest,
                                          std::string_view uuid) = 0;

  // ---- garbage collection ----
  // Candidates are read from a snapshot; every Delete* re-checks deadness of
  // its batch inside its own short write transaction, so a push that made a
  // candidate live again in between wins. Batches are bounded by the caller.

  // Counts what a collection would remove (nothing changes). Sessions idle
  // since before `uploads_idle_since` count as expired.
  virtual Result<GarbageEstimate> EstimateGarbage(const GcCutoffs& cutoffs,
                                                  int64_t uploads_idle_since) = 0;
  // Deletes up to `limit` tag rows that ended before `cutoffs.ended_since`;
  // how many went.
  virtual Result<uint64_t> ExpireTagHistory(const GcCutoffs& cutoffs, size_t limit) = 0;
  // Ids of the manifests nothing live reaches, newest first (parents are
  // usually newer than their children). Live: pointed at by a live tag or a
  // tag row ended at or after ended_since, created at or after
  // created_since, a child of a live manifest, or a referrer whose subject is
  // a live manifest of the same repository.
  virtual Result<std::vector<int64_t>> FindDeadManifests(const GcCutoffs& cutoffs) = 0;
  // In one transaction deletes those of `ids` that are dead by a local check
  // (no live or recent tag row, old, no parent index row, subject absent from
  // the repository) together with their references and expired tag rows. A
  // dead child whose dead parent is in the same batch goes after it; one
  // whose parent is elsewhere is reported in `kept` for a later pass.
  virtual Result<ManifestSweep> DeleteDeadManifests(const std::vector<int64_t>& ids,
                                                    const GcCutoffs& cutoffs) = 0;
  // Up to `limit` blob links after `after` (key order) that are old and that
  // no manifest of their repository references.
  virtual Result<std::vector<BlobLinkKey>> FindDeadBlobLinks(const GcCutoffs& cutoffs,
                                                             const BlobLinkKey& after,
                                                             size_t limit) = 0;
  // In one transaction deletes those of `links` still dead; how many went.
  virtual Result<uint64_t> DeleteDeadBlobLinks(const std::vector<BlobLinkKey>& links,
                                               const GcCutoffs& cutoffs) = 0;
  // Up to `limit` blob rows after digest `after` (text order) that are old
  // and that no blob link or manifest references.
  virtual Result<std::vector<BlobRow>> FindDeadBlobs(const GcCutoffs& cutoffs,
                                                     std::string_view after, size_t limit) = 0;
  // In one transaction deletes the rows of those of `digests` still dead;
  // the deleted rows. Their files are the caller's to remove.
  virtual Result<std::vector<BlobRow>> DeleteDeadBlobs(const std::vector<Digest>& digests,
                                                       const GcCutoffs& cutoffs) = 0;
  // Those of `digests` that have no blob row.
  virtual Result<std::vector<Digest>> FindUnrecordedBlobs(const std::vector<Digest>& digests) = 0;
  // Up to `limit` ids after `after` of sessions last updated before `idle_since`.
  virtual Result<std::vector<std::string>> FindIdleUploads(int64_t idle_since,
                                                           std::string_view after,
                                                           size_t limit) = 0;
  // In one transaction deletes the rows of those of `ids` still idle; the
  // deleted ids (their areas are the caller's to remove).
  virtual Result<std::vector<std::string>> DeleteIdleUploads(const std::vector<std::string>& ids,
                                                             int64_t idle_since) = 0;
};

}  // namespace quay::db
