#include "registry/registry_impl.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <system_error>
#include <tuple>
#include <unordered_set>

#include "core/str_cat.h"
#include "db/connection.h"
#include "db/quota_store.h"
#include "quay/audit.h"
#include "quay/reference.h"
#include "registry/blob_upload.h"
#include "registry/garbage_collector.h"
#include "registry/upload_id.h"
#include "storage/synced_size.h"

namespace quay::registry {
namespace {

Status UnknownUpload(std::string_view id) {
  return Status::NotFound(Subject::kUpload, core::StrCat({"upload ", id, " is unknown"}));
}

Status UnknownRepository(std::string_view repository) {
  return Status::NotFound(Subject::kRepository,
                          core::StrCat({"repository ", repository, " is unknown"}));
}

// "<repository>\n<tag or digest>": names never contain a newline.
std::string CacheKey(std::string_view repository, std::string_view reference) {
  std::string key;
  key.reserve(repository.size() + 1 + reference.size());
  key.append(repository);
  key += '\n';
  key.append(reference);
  return key;
}

std::vector<TagEvent> ToEvents(std::vector<db::TagRow> rows) {
  const auto at = [](int64_t micros) {
    return Clock::TimePoint(std::chrono::microseconds(micros));
  };
  std::vector<TagEvent> events;
  events.reserve(rows.size());
  for (auto& row : rows) {
    TagEvent e{std::move(row.name), std::move(row.manifest), at(row.start_at), std::nullopt};
    if (row.end_at) e.end = at(*row.end_at);
    events.push_back(std::move(e));
  }
  return events;
}

}  // namespace

Status RegistryImpl::Reconcile() {
  auto ids = ctx_->db->ListUploadIds();
  if (!ids.ok()) return ids.status();
  auto areas = ctx_->store->ListUploads();
  if (!areas.ok()) return areas.status();
  const std::unordered_set<std::string> rows(ids->begin(), ids->end());
  const std::unordered_set<std::string> files(areas->begin(), areas->end());
  // On a shared database other instances start uploads while this one
  // lists: an area may have been made after the rows were listed, and a row
  // may name an area being made. So there an area goes only if its row is
  // still missing when looked up again, and rows are left to GC's expiry of
  // idle uploads.
  const bool shared = ctx_->db->connections().dialect() == db::Dialect::kPostgres;
  for (const auto& area : *areas) {
    if (rows.count(area)) continue;
    if (shared) {
      auto row = ctx_->db->FindUpload(area);
      if (!row.ok()) return row.status();
      if (*row) continue;
    }
    if (auto s = ctx_->store->DeleteUpload(area); !s.ok()) return s;
  }
  for (const auto& id : *ids) {
    if (shared || files.count(id)) continue;
    if (auto s = ctx_->db->DeleteUpload(id); !s.ok()) return s;
  }
  // A row whose offset was committed without an fsync (the store recorded
  // it with the bytes) may be behind after a power loss; the area says how
  // far the session was acknowledged.
  auto* recording = dynamic_cast<storage::SyncedSizeStore*>(ctx_->store.get());
  if (recording == nullptr) return Status::Ok();
  for (const auto& id : *ids) {
    if (!files.count(id)) continue;
    auto synced = recording->SyncedUploadSize(id);
    if (!synced.ok() || !*synced) continue;  // gone meanwhile, or nothing recorded
    auto row = ctx_->db->FindUpload(id);
    if (!row.ok()) return row.status();
    if (!*row || (*row)->offset >= **synced) continue;
    if (auto s = ctx_->db->SaveUploadOffset(id, **synced, ctx_->NowMicros(), /*durable=*/true);
        !s.ok() && !s.IsNotFound()) {
      return s;
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<BlobUpload>> RegistryImpl::StartUpload(std::string_view repository) {
  if (auto s = ValidateRepositoryName(repository); !s.ok()) return s;
  // Quay refuses the upload itself once the namespace is over its Reject
  // threshold; the link trigger (schema v10) still refuses the blob that
  // would take it over.
  auto over = db::QuotaStore(ctx_->db->connections()).OverRejectLimit(NamespaceOf(repository));
  if (!over.ok()) return over.status();
  if (*over) {
    Status denied = Status::Denied("Quota has been exceeded on namespace");
    NoteQuotaRefusal(*ctx_, repository, denied);
    return denied;
  }
  std::string id = NewUploadId();
  // The area first, then the row: a crash in between leaves an area that
  // Reconcile() removes, never a row pointing at nothing.
  auto writer = ctx_->store->CreateUpload(id);
  if (!writer.ok()) return writer.status();
  if (auto s = ctx_->db->InsertUpload(id, repository, ctx_->NowMicros()); !s.ok()) {
    writer->reset();
    (void)ctx_->store->DeleteUpload(id);
    return s;
  }
  ctx_->sessions.TryAcquire(id);  // brand new: cannot be held elsewhere
  return std::unique_ptr<BlobUpload>(
      std::make_unique<BlobUploadImpl>(ctx_.get(), id, std::string(repository), std::move(*writer),
                                       Digester(DigestAlgorithm::kSha256), 0));
}

Result<db::UploadRow> RegistryImpl::FindSession(std::string_view repository, std::string_view id) {
  if (auto s = ValidateRepositoryName(repository); !s.ok()) return s;
  if (!IsUploadId(id)) return UnknownUpload(id);
  auto row = ctx_->db->FindUpload(id);
  if (!row.ok()) return row.status();
  if (!*row || (*row)->repository != repository) return UnknownUpload(id);
  return std::move(**row);
}

Result<std::unique_ptr<BlobUpload>> RegistryImpl::ResumeUpload(std::string_view repository,
                                                               std::string_view id) {
  auto row = FindSession(repository, id);
  if (!row.ok()) return row.status();
  const std::string sid(id);
  if (!ctx_->sessions.TryAcquire(sid)) {
    return Status::Conflict(Subject::kUpload, "upload " + sid + " is in use by another request");
  }
  struct ReleaseOnError {
    Context* ctx;
    const std::string& id;
    bool armed = true;
    ~ReleaseOnError() {
      if (armed) ctx->sessions.Release(id);
    }
  } guard{ctx_.get(), sid};

  auto writer = ctx_->store->OpenUpload(sid, row->offset);
  if (!writer.ok()) return writer.status();
  std::optional<Digester> digester = ctx_->sessions.Take(sid, row->offset);
  if (!digester) {
    auto rebuilt = RebuildDigester(*ctx_->store, sid, row->offset);
    if (!rebuilt.ok()) return rebuilt.status();
    digester.emplace(std::move(*rebuilt));
  }
  guard.armed = false;
  return std::unique_ptr<BlobUpload>(std::make_unique<BlobUploadImpl>(
      ctx_.get(), sid, row->repository, std::move(*writer), std::move(*digester), row->offset));
}

Result<UploadState> RegistryImpl::GetUpload(std::string_view repository, std::string_view id) {
  auto row = FindSession(repository, id);
  if (!row.ok()) return row.status();
  return UploadState{row->id, row->offset};
}

Status RegistryImpl::CancelUpload(std::string_view repository, std::string_view id) {
  auto row = FindSession(repository, id);
  if (!row.ok()) return row.status();
  // Row first: once it is gone no request can resume the session, and a
  // request still writing fails at Save().
  if (auto s = ctx_->db->DeleteUpload(row->id); !s.ok()) {
    if (!s.IsNoSpace()) return s;
    // A full disk: even a DELETE needs room in SQLite's WAL. The area's
    // bytes are what a cancel frees, so they go first (the session is then
    // dead: a PATCH finds no area), and the row is tried again; one that
    // still cannot go is removed by the next start's Reconcile().
    ctx_->logger->Log(LogLevel::kWarn, "registry", "database full: freeing the upload area first",
                      {{"upload", row->id}});
    ctx_->sessions.Forget(row->id);
    if (auto d = ctx_->store->DeleteUpload(row->id); !d.ok()) return d;
    return ctx_->db->DeleteUpload(row->id);
  }
  ctx_->sessions.Forget(row->id);
  return ctx_->store->DeleteUpload(row->id);
}

Result<BlobInfo> RegistryImpl::StatBlob(std::string_view repository, const Digest& digest) {
  if (auto s = ValidateRepositoryName(repository); !s.ok()) return s;
  const uint64_t generation = ctx_->db->connections().CacheGeneration();
  const std::string key = CacheKey(repository, digest.str());
  if (std::optional<uint64_t> hit = ctx_->blob_links.Get(key, generation)) {
    return BlobInfo{digest, *hit};
  }
  auto size = ctx_->db->FindRepositoryBlob(repository, digest);
  if (!size.ok()) return size.status();
  if (!*size) {
    return Status::NotFound(Subject::kBlob,
                            core::StrCat({"blob ", digest.str(), " is unknown to ", repository}));
  }
  ctx_->blob_links.Put(key, generation, **size, sizeof(uint64_t));
  return BlobInfo{digest, **size};
}

Result<std::unique_ptr<BlobReader>> RegistryImpl::OpenBlob(std::string_view repository,
                                                           const Digest& digest) {
  auto info = StatBlob(repository, digest);
  if (!info.ok()) return info.status();
  return ctx_->store->OpenBlob(digest);
}

Result<std::string> RegistryImpl::BlobUrl(std::string_view repository, const Digest& digest,
                                          std::chrono::seconds lifetime) {
  auto info = StatBlob(repository, digest);
  if (!info.ok()) return info.status();
  return ctx_->store->PresignBlobGet(digest, lifetime);
}

Result<PutManifestResult> RegistryImpl::PutManifest(std::string_view repository,
                                                    std::string_view reference,
                                                    std::string_view content_type,
                                                    std::string_view bytes) {
  if (auto s = ValidateRepositoryName(repository); !s.ok()) return s;
  auto ref = Reference::Parse(reference);
  if (!ref.ok()) return ref.status();
  if (bytes.size() > ctx_->options.max_manifest_bytes) {
    return Status::TooLarge(
        Subject::kManifest,
        "manifest exceeds " + std::to_string(ctx_->options.max_manifest_bytes) + " bytes");
  }
  auto manifest = Manifest::Parse(bytes, content_type);
  if (!manifest.ok()) return manifest.status();

  const DigestAlgorithm algorithm =
      ref->is_digest() ? ref->digest().algorithm() : DigestAlgorithm::kSha256;
  const Digest digest = Digest::Of(bytes, algorithm);
  if (ref->is_digest() && ref->digest() != digest) {
    return Status::DigestMismatch("manifest digest " + digest.str() + " does not match " +
                                  ref->digest().str());
  }

  db::NewManifest row;
  row.digest = digest;
  row.media_type = manifest->media_type;
  row.artifact_type = manifest->artifact_type;
  // Kept for referrers listings: an image without artifactType is reported
  // with its config's media type (OCI distribution spec 1.1).
  if (manifest->kind == ManifestKind::kImage && manifest->config) {
    row.config_media_type = manifest->config->media_type;
  }
  row.annotations = manifest->annotations;
  if (manifest->subject) row.subject = manifest->subject->digest;
  row.content = bytes;
  for (const auto& d : manifest->BlobReferences()) {
    row.blobs.push_back({d.digest, d.size, !d.non_distributable()});
  }
  for (const auto& d : manifest->manifests) row.children.push_back(d.digest);
  if (manifest->kind == ManifestKind::kImage) {
    uint64_t layers = 0;
    for (const auto& d : manifest->layers) layers += d.size;
    row.layers_size = layers;
  }
  // Duplicates would make the reference checks and inserts do work twice.
  {
    const auto key = [](const db::NewManifest::BlobReference& b) {
      return std::tie(b.digest, b.size, b.required);
    };
    std::sort(row.blobs.begin(), row.blobs.end(),
              [&](const auto& a, const auto& b) { return key(a) < key(b); });
    row.blobs.erase(std::unique(row.blobs.begin(), row.blobs.end(),
                                [&](const auto& a, const auto& b) { return key(a) == key(b); }),
                    row.blobs.end());
    std::sort(row.children.begin(), row.children.end());
    row.children.erase(std::unique(row.children.begin(), row.children.end()), row.children.end());
  }
  row.tag = ref->tag();
  const int64_t now = ctx_->NowMicros();
  row.labels = ConfigLabels(*manifest, now);
  if (!row.tag.empty()) {
    // A tag whose expiration has come is no longer live: the push starts a
    // new row instead of moving (or being refused by) the expired one.
    if (auto s = EndExpiredTags(); !s.ok()) return s;
    auto flags = PushedTagFlags(repository, row.tag, row.labels, now);
    if (!flags.ok()) return flags.status();
    row.tag_expires_at = flags->first;
    row.tag_immutable = flags->second;
  }
  if (auto s = ctx_->db->PutManifest(repository, row, now); !s.ok()) return s;

  PutManifestResult result{digest, std::nullopt};
  if (manifest->subject) result.subject = manifest->subject->digest;
  return result;
}

Result<ManifestRecord> RegistryImpl::GetManifest(std::string_view repository,
                                                 std::string_view reference) {
  if (auto s = ValidateRepositoryName(repository); !s.ok()) return s;
  auto ref = Reference::Parse(reference);
  // No manifest can have a name that is neither a tag nor a digest; the
  // distribution-spec conformance suite expects such a pull to be a miss.
  if (!ref.ok()) {
    return Status::NotFound(Subject::kManifest,
                            core::StrCat({"manifest ", reference.substr(0, 128), " is unknown"}));
  }
  if (!ref->is_digest()) {
    if (auto s = EndExpiredTags(); !s.ok()) return s;
  }
  const uint64_t generation = ctx_->db->connections().CacheGeneration();
  const std::string key = CacheKey(repository, reference);
  if (auto hit = ctx_->manifests.Get(key, generation)) return **hit;
  auto row = ref->is_digest() ? ctx_->db->FindManifestByDigest(repository, ref->digest())
                              : ctx_->db->FindManifestByTag(repository, ref->tag());
  if (!row.ok()) return row.status();
  if (!*row) {
    // Tell "no such repository" from "no such manifest" only on a miss, so a
    // hit costs one query.
    auto repo = ctx_->db->FindRepository(repository);
    if (!repo.ok()) return repo.status();
    if (!*repo) return UnknownRepository(repository);
    if (!ref->is_digest()) return TagMiss(repository, ref->tag());
    return Status::NotFound(Subject::kManifest, "manifest " + ref->str() + " is unknown");
  }
  auto record = std::make_shared<const ManifestRecord>(
      ManifestRecord{(*row)->digest, std::move((*row)->media_type), std::move((*row)->content)});
  ctx_->manifests.Put(key, generation, record,
                      sizeof(ManifestRecord) + record->media_type.size() + record->bytes.size());
  return *record;
}

Status RegistryImpl::TagMiss(std::string_view repository, std::string_view tag) {
  // Only a miss pays this read (one index range of the tag's history).
  auto history = ctx_->db->TagHistory(repository, tag);
  if (!history.ok()) return history.status();
  const int64_t since = ctx_->NowMicros() - std::chrono::duration_cast<std::chrono::microseconds>(
                                                ctx_->options.tag_recovery_window)
                                                .count();
  if (*history && !(*history)->empty()) {
    const std::optional<int64_t>& end = (*history)->front().end_at;
    if (end && *end >= since) {
      return Status::NotFound(
          Subject::kExpiredTag,
          core::StrCat(
              {"Tag ", tag, " was deleted or has expired. To pull, revive via time machine"}));
    }
  }
  return Status::NotFound(Subject::kManifest, core::StrCat({"manifest ", tag, " is unknown"}));
}

Result<bool> RegistryImpl::RepositoryExists(std::string_view repository) {
  if (auto s = ValidateRepositoryName(repository); !s.ok()) return s;
  auto repo = ctx_->db->FindRepository(repository);
  if (!repo.ok()) return repo.status();
  return repo->has_value();
}

// ---- discovery ----

Result<NamePage> RegistryImpl::ListTags(std::string_view repository, size_t limit,
                                        std::string_view after) {
  if (auto s = ValidateRepositoryName(repository); !s.ok()) return s;
  if (auto s = EndExpiredTags(); !s.ok()) return s;
  const uint64_t generation = ctx_->db->connections().CacheGeneration();
  const std::string key = CacheKey(repository, std::to_string(limit) + '\n' + std::string(after));
  if (auto hit = ctx_->tag_pages.Get(key, generation)) return **hit;
  auto page = ctx_->db->ListTags(repository, limit, after);
  if (!page.ok()) return page.status();
  if (!*page) return UnknownRepository(repository);
  auto result =
      std::make_shared<const NamePage>(NamePage{std::move((*page)->names), (*page)->more});
  size_t cost = sizeof(NamePage);
  for (const std::string& name : result->names) cost += sizeof(std::string) + name.size();
  ctx_->tag_pages.Put(key, generation, result, cost);
  return *result;
}

Result<NamePage> RegistryImpl::ListRepositories(size_t limit, std::string_view after) {
  auto page = ctx_->db->ListRepositories(limit, after);
  if (!page.ok()) return page.status();
  return NamePage{std::move(page->names), page->more};
}

Result<std::vector<Descriptor>> RegistryImpl::ListReferrers(std::string_view repository,
                                                            const Digest& subject,
                                                            std::string_view artifact_type) {
  if (auto s = ValidateRepositoryName(repository); !s.ok()) return s;
  if (subject.empty()) return Status::InvalidArgument(Subject::kDigest, "subject digest missing");
  auto referrers = ctx_->db->ListReferrers(repository, subject, artifact_type);
  if (!referrers.ok()) return referrers.status();
  if (!*referrers) return UnknownRepository(repository);
  return std::move(**referrers);
}

// ---- management ----

Status RegistryImpl::DeleteManifest(std::string_view repository, const Digest& digest) {
  if (auto s = ValidateRepositoryName(repository); !s.ok()) return s;
  if (digest.empty()) return Status::InvalidArgument(Subject::kDigest, "digest missing");
  if (auto s = EndExpiredTags(); !s.ok()) return s;
  return ctx_->db->DeleteManifest(repository, digest, ctx_->NowMicros());
}

Status RegistryImpl::DeleteTag(std::string_view repository, std::string_view tag) {
  if (auto s = ValidateRepositoryName(repository); !s.ok()) return s;
  if (auto s = ValidateTag(tag); !s.ok()) return s;
  if (auto s = EndExpiredTags(); !s.ok()) return s;
  return ctx_->db->DeleteTag(repository, tag, ctx_->NowMicros());
}

Status RegistryImpl::DeleteBlob(std::string_view repository, const Digest& digest) {
  if (auto s = ValidateRepositoryName(repository); !s.ok()) return s;
  if (digest.empty()) return Status::InvalidArgument(Subject::kDigest, "digest missing");
  // Only the link goes: other repositories may share the bytes, and GC
  // decides when the blob itself is unreferenced.
  return ctx_->db->UnlinkBlob(repository, digest);
}

Result<BlobInfo> RegistryImpl::MountBlob(std::string_view repository, const Digest& digest,
                                         std::string_view from) {
  if (auto s = ValidateRepositoryName(repository); !s.ok()) return s;
  if (auto s = ValidateRepositoryName(from); !s.ok()) return s;
  if (digest.empty()) return Status::InvalidArgument(Subject::kDigest, "digest missing");
  auto size = ctx_->db->MountBlob(repository, digest, from, ctx_->NowMicros());
  if (!size.ok()) {
    NoteQuotaRefusal(*ctx_, repository, size.status());
    return size.status();
  }
  if (!*size) {
    return Status::NotFound(Subject::kBlob,
                            core::StrCat({"blob ", digest.str(), " is unknown to ", from}));
  }
  return BlobInfo{digest, **size};
}

Status RegistryImpl::DeleteRepository(std::string_view repository) {
  if (auto s = ValidateRepositoryName(repository); !s.ok()) return s;
  auto uploads = ctx_->db->DeleteRepository(repository);
  if (!uploads.ok()) return uploads.status();
  if (!*uploads) return UnknownRepository(repository);
  ForgetUploads(**uploads);
  ctx_->logger->Log(LogLevel::kInfo, "registry", "deleted repository",
                    {{"repository", std::string(repository)}});
  return Status::Ok();
}

void RegistryImpl::ForgetUploads(const std::vector<std::string>& ids) {
  // The rows are gone, so no request can resume these sessions (one still
  // writing fails at Save or Commit). An area left behind by a failure here
  // has no row, and the next Reconcile() removes it.
  for (const auto& id : ids) {
    ctx_->sessions.Forget(id);
    if (auto s = ctx_->store->DeleteUpload(id); !s.ok()) {
      ctx_->logger->Log(LogLevel::kWarn, "registry", "failed to delete upload area",
                        {{"upload", id}, {"error", s.ToString()}});
    }
  }
}

// ---- tag history ----

Result<std::vector<TagEvent>> RegistryImpl::TagHistory(std::string_view repository,
                                                       std::string_view tag) {
  if (auto s = ValidateRepositoryName(repository); !s.ok()) return s;
  if (auto s = ValidateTag(tag); !s.ok()) return s;
  if (auto s = EndExpiredTags(); !s.ok()) return s;
  auto rows = ctx_->db->TagHistory(repository, tag);
  if (!rows.ok()) return rows.status();
  if (!*rows) return UnknownRepository(repository);
  return ToEvents(std::move(**rows));
}

Result<std::vector<TagEvent>> RegistryImpl::RecentTagChanges(std::string_view repository,
                                                             size_t limit) {
  if (auto s = ValidateRepositoryName(repository); !s.ok()) return s;
  if (auto s = EndExpiredTags(); !s.ok()) return s;
  auto rows = ctx_->db->RecentTagChanges(repository, limit);
  if (!rows.ok()) return rows.status();
  if (!*rows) return UnknownRepository(repository);
  return ToEvents(std::move(**rows));
}

Status RegistryImpl::RestoreTag(std::string_view repository, std::string_view tag,
                                const Digest& manifest) {
  if (auto s = ValidateRepositoryName(repository); !s.ok()) return s;
  if (auto s = ValidateTag(tag); !s.ok()) return s;
  if (manifest.empty()) return Status::InvalidArgument(Subject::kDigest, "digest missing");
  if (auto s = EndExpiredTags(); !s.ok()) return s;
  const int64_t now = ctx_->NowMicros();
  const int64_t window =
      std::chrono::duration_cast<std::chrono::microseconds>(ctx_->options.tag_recovery_window)
          .count();
  return ctx_->db->RestoreTag(repository, tag, manifest, now - window, now);
}

// ---- garbage collection ----

Result<GcReport> RegistryImpl::CollectGarbage(const GcOptions& options) {
  if (options.batch_size == 0) {
    return Status::InvalidArgument(Subject::kNone, "gc batch size must be at least 1");
  }
  // Expired tags end first, so their history rows age like deleted ones.
  if (!options.dry_run) {
    if (auto s = EndExpiredTags(); !s.ok()) return s;
  }
  std::lock_guard lock(ctx_->gc_mutex);
  if (!ctx_->advisory) return GarbageCollector(*ctx_, options).Run();
  // Instances on one database collect one after another: the second then
  // finds little left to do rather than racing the first for the same rows.
  if (Status s = ctx_->advisory->Lock(db::kGcLockKey); !s.ok()) return s;
  Result<GcReport> report = GarbageCollector(*ctx_, options).Run();
  ctx_->advisory->Unlock(db::kGcLockKey);
  return report;
}

}  // namespace quay::registry

namespace quay {

Result<std::unique_ptr<Registry>> Registry::Open(const Options& options) {
  auto ctx = std::make_unique<registry::Context>();
  ctx->options = options;
  ctx->clock = options.clock ? options.clock : Clock::System();
  ctx->logger = options.logger ? options.logger : Logger::Discard();

  auto db_path = db::DatabasePathFor(options);
  if (!db_path.ok()) return db_path.status();

  if (options.blob_store) {
    ctx->store = options.blob_store;
  } else if (options.data_dir.empty()) {
    ctx->store = NewMemoryBlobStore();
  } else {
    auto store = OpenFilesystemBlobStore(options.data_dir, options.durable);
    if (!store.ok()) return store.status();
    ctx->store = std::move(*store);
  }

  auto db = db::Database::Open(*db_path, options.durable);
  if (!db.ok()) return db.status();
  ctx->db = std::move(*db);
  ctx->tag_policies = std::make_unique<db::TagPolicyStore>(ctx->db->connections());

  if (ctx->db->connections().dialect() == db::Dialect::kPostgres) {
    // Instances sharing the database, on any machine, order blob commits
    // against GC through its advisory locks.
    auto advisory = db::AdvisoryLocks::Open(*db_path);
    if (!advisory.ok()) return advisory.status();
    ctx->advisory = std::move(*advisory);
    ctx->digest_locks.ShareThroughDatabase(ctx->advisory);
  } else if (!options.data_dir.empty()) {
    // Processes sharing the folder (quayd gc beside quayd serve) order blob
    // commits against GC through this file's byte-range locks.
    const auto lock_file = std::filesystem::path(options.data_dir) / "blobs.lock";
    if (auto s = ctx->digest_locks.ShareThroughFile(lock_file.string()); !s.ok()) return s;
  }

  auto impl = std::make_unique<registry::RegistryImpl>(std::move(ctx));
  if (options.reconcile_uploads) {
    if (auto s = impl->Reconcile(); !s.ok()) return s;
  }
  if (options.tag_policies.auto_prune && options.tag_policies.auto_prune_interval.count() > 0) {
    impl->StartAutoPrune(options.tag_policies.auto_prune_interval);
  }
  return std::unique_ptr<Registry>(std::move(impl));
}

}  // namespace quay
