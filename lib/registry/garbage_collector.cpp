#include "registry/garbage_collector.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace quay::registry {
namespace {

// Each pass over the dead manifests frees the next layer of a chain (an
// index before its children, a subject before its referrers). Real chains
// are a few levels deep; the bound only stops a pathological one from
// keeping a run going, and the next run continues it.
constexpr int kMaxManifestPasses = 64;

int64_t Micros(std::chrono::seconds d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

template <typename T>
std::vector<std::vector<T>> Chunks(const std::vector<T>& items, size_t size) {
  std::vector<std::vector<T>> out;
  for (size_t i = 0; i < items.size(); i += size) {
    out.emplace_back(items.begin() + static_cast<std::ptrdiff_t>(i),
                     items.begin() + static_cast<std::ptrdiff_t>(std::min(items.size(), i + size)));
  }
  return out;
}

}  // namespace

GarbageCollector::GarbageCollector(Context& ctx, const GcOptions& options)
    : ctx_(ctx), options_(options) {
  const int64_t now = ctx_.NowMicros();
  cutoffs_.created_since = now - Micros(ctx_.options.gc_protection_window);
  cutoffs_.ended_since = now - Micros(ctx_.options.tag_recovery_window);
  uploads_idle_since_ = now - Micros(ctx_.options.upload_expiry);
}

Result<GcReport> GarbageCollector::Run() {
  if (options_.dry_run) return Estimate();
  // Order matters: expired history no longer roots manifests; deleting dead
  // manifests drops their blob references; unlinking leaves blobs that
  // nothing references.
  for (auto phase : {&GarbageCollector::ExpireTagHistory, &GarbageCollector::CollectManifests,
                     &GarbageCollector::CollectBlobLinks, &GarbageCollector::CollectBlobs,
                     &GarbageCollector::SweepUnrecordedFiles, &GarbageCollector::ExpireUploads}) {
    if (Status s = (this->*phase)(); !s.ok()) {
      // A full disk stops the phases that write the database, but blob
      // files without a row go with no database write: free those still,
      // which may be the room the next run needs.
      if (s.IsNoSpace() && phase != &GarbageCollector::SweepUnrecordedFiles &&
          phase != &GarbageCollector::ExpireUploads) {
        (void)SweepUnrecordedFiles();
      }
      ctx_.logger->Log(LogLevel::kError, "gc", "failed to collect garbage",
                       {{"error", s.ToString()},
                        {"manifests_deleted", std::to_string(report_.manifests_deleted)},
                        {"blobs_deleted", std::to_string(report_.blobs_deleted)}});
      return s;
    }
  }
  return report_;
}

Status GarbageCollector::ExpireTagHistory() {
  for (;;) {
    auto n = ctx_.db->ExpireTagHistory(cutoffs_, options_.batch_size);
    if (!n.ok()) return n.status();
    report_.tags_expired += *n;
    if (*n < options_.batch_size) return Status::Ok();
  }
}

Status GarbageCollector::CollectManifests() {
  auto dead = ctx_.db->FindDeadManifests(cutoffs_);
  if (!dead.ok()) return dead.status();
  std::vector<int64_t> pending = std::move(*dead);
  for (int pass = 0; pass < kMaxManifestPasses && !pending.empty(); ++pass) {
    std::vector<int64_t> kept;
    uint64_t deleted = 0;
    for (const auto& batch : Chunks(pending, options_.batch_size)) {
      auto sweep = ctx_.db->DeleteDeadManifests(batch, cutoffs_);
      if (!sweep.ok()) return sweep.status();
      deleted += sweep->manifests_deleted;
      report_.manifests_deleted += sweep->manifests_deleted;
      report_.tags_expired += sweep->tags_deleted;
      kept.insert(kept.end(), sweep->kept.begin(), sweep->kept.end());
    }
    // Without progress the rest is live again (a concurrent push tagged or
    // indexed it), or waits on something live: nothing more to gain.
    if (deleted == 0) break;
    pending = std::move(kept);
  }
  return Status::Ok();
}

Status GarbageCollector::CollectBlobLinks() {
  db::BlobLinkKey after;
  for (;;) {
    auto links = ctx_.db->FindDeadBlobLinks(cutoffs_, after, options_.batch_size);
    if (!links.ok()) return links.status();
    if (links->empty()) return Status::Ok();
    after = links->back();
    auto n = ctx_.db->DeleteDeadBlobLinks(*links, cutoffs_);
    if (!n.ok()) return n.status();
    report_.blobs_unlinked += *n;
  }
}

Status GarbageCollector::CollectBlobs() {
  std::string after;
  for (;;) {
    auto rows = ctx_.db->FindDeadBlobs(cutoffs_, after, options_.batch_size);
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return Status::Ok();
    after = rows->back().digest.str();
    std::vector<Digest> candidates;
    candidates.reserve(rows->size());
    for (const auto& row : *rows) candidates.push_back(row.digest);
    // Digests a commit holds right now are skipped: that commit makes them
    // live, and waiting for it would hold up the whole batch.
    std::vector<Digest> locked;
    DigestLocks::Held held = ctx_.digest_locks.TryLock(candidates, &locked);
    if (locked.empty()) continue;
    auto deleted = ctx_.db->DeleteDeadBlobs(locked, cutoffs_);
    if (!deleted.ok()) return deleted.status();
    // Rows are gone and the stripes still held: no commit can record one of
    // these digests again until its file is gone too.
    for (const auto& row : *deleted) {
      if (Status s = ctx_.store->DeleteBlob(row.digest); !s.ok()) {
        // The file stays without a row; the next run's sweep retries it.
        ctx_.logger->Log(LogLevel::kWarn, "gc", "failed to delete blob file",
                         {{"digest", row.digest.str()}, {"error", s.ToString()}});
        continue;
      }
      ++report_.blobs_deleted;
      report_.bytes_freed += row.size;
    }
  }
}

Status GarbageCollector::SweepUnrecordedFiles() {
  auto files = ctx_.store->ListBlobs();
  if (!files.ok()) return files.status();
  for (const auto& chunk : Chunks(*files, options_.batch_size)) {
    auto unrecorded = ctx_.db->FindUnrecordedBlobs(chunk);
    if (!unrecorded.ok()) return unrecorded.status();
    if (unrecorded->empty()) continue;
    if (options_.dry_run) {
      for (const auto& digest : *unrecorded) {
        auto size = ctx_.store->BlobSize(digest);
        if (!size.ok()) continue;  // gone meanwhile
        ++report_.blobs_deleted;
        report_.bytes_freed += *size;
      }
      continue;
    }
    std::vector<Digest> locked;
    DigestLocks::Held held = ctx_.digest_locks.TryLock(*unrecorded, &locked);
    if (locked.empty()) continue;
    // Asked again under the locks: a commit that recorded its row between
    // the first question and the lock must keep its file.
    auto still = ctx_.db->FindUnrecordedBlobs(locked);
    if (!still.ok()) return still.status();
    for (const auto& digest : *still) {
      auto size = ctx_.store->BlobSize(digest);
      if (!size.ok()) continue;
      if (Status s = ctx_.store->DeleteBlob(digest); !s.ok()) {
        ctx_.logger->Log(LogLevel::kWarn, "gc", "failed to delete blob file",
                         {{"digest", digest.str()}, {"error", s.ToString()}});
        continue;
      }
      ++report_.blobs_deleted;
      report_.bytes_freed += *size;
    }
  }
  return Status::Ok();
}

Status GarbageCollector::ExpireUploads() {
  std::string after;
  for (;;) {
    auto ids = ctx_.db->FindIdleUploads(uploads_idle_since_, after, options_.batch_size);
    if (!ids.ok()) return ids.status();
    if (ids->empty()) return Status::Ok();
    after = ids->back();
    // A session a request of this process holds right now is not abandoned,
    // whatever its row says.
    std::vector<std::string> acquired;
    for (const auto& id : *ids) {
      if (ctx_.sessions.TryAcquire(id)) acquired.push_back(id);
    }
    auto deleted = ctx_.db->DeleteIdleUploads(acquired, uploads_idle_since_);
    if (deleted.ok()) {
      // Row first, then area: once the row is gone no request can resume it.
      for (const auto& id : *deleted) {
        ctx_.sessions.Forget(id);
        if (Status s = ctx_.store->DeleteUpload(id); !s.ok()) {
          ctx_.logger->Log(LogLevel::kWarn, "gc", "failed to delete upload area",
                           {{"upload", id}, {"error", s.ToString()}});
        }
      }
      report_.uploads_expired += deleted->size();
    }
    for (const auto& id : acquired) ctx_.sessions.Release(id);
    if (!deleted.ok()) return deleted.status();
  }
}

Result<GcReport> GarbageCollector::Estimate() {
  auto estimate = ctx_.db->EstimateGarbage(cutoffs_, uploads_idle_since_);
  if (!estimate.ok()) return estimate.status();
  report_.tags_expired = estimate->tags;
  report_.manifests_deleted = estimate->manifests;
  report_.blobs_unlinked = estimate->blob_links;
  report_.blobs_deleted = estimate->blobs;
  report_.bytes_freed = estimate->blob_bytes;
  report_.uploads_expired = estimate->uploads;
  // Files without a row are not in the database's count.
  if (Status s = SweepUnrecordedFiles(); !s.ok()) return s;
  return report_;
}

}  // namespace quay::registry
