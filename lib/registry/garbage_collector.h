// Online garbage collection: one run of Registry::CollectGarbage.
//
// Liveness (docs/architecture.md, "Garbage collection", has the full rules):
// manifests are marked from their roots (live tags, tag history inside the
// recovery window, pushes inside the protection window) along index children
// and subject -> referrer edges; blob links live while a manifest of their
// repository references them; blobs while a link or a manifest does. Anything
// created inside the protection window is kept.
//
// A run goes phase by phase, each one reading candidates and deleting them in
// batches of GcOptions::batch_size, one short write transaction per batch that
// re-checks every candidate, so requests running beside GC wait at most one
// batch for the writer and a push that made a candidate live again wins:
//   1. tag history rows that ended before the recovery window;
//   2. dead manifests (parents before children, in passes until no progress);
//   3. blob links no manifest of their repository references;
//   4. blob rows nothing references, then their files (under the digest lock);
//   5. blob files without a row (left by a crash between the two steps of
//      step 4, or of a blob commit), under the digest lock;
//   6. upload sessions idle past Options::upload_expiry: row, then area.
// The database always changes before storage, so a crash mid-run leaves at
// worst files without rows, which the next run's step 5 removes.
#pragma once

#include <cstdint>

#include "db/database.h"
#include "quay/registry.h"
#include "registry/context.h"

namespace quay::registry {

class GarbageCollector {
 public:
  // `ctx` must outlive the collector. The run's cutoffs are fixed from the
  // clock now.
  GarbageCollector(Context& ctx, const GcOptions& options);

  // Errors: Unavailable/Internal from the database or the store; work done
  // before the error stays done.
  Result<GcReport> Run();

 private:
  Status ExpireTagHistory();
  Status CollectManifests();
  Status CollectBlobLinks();
  Status CollectBlobs();
  Status SweepUnrecordedFiles();
  Status ExpireUploads();
  Result<GcReport> Estimate();

  Context& ctx_;
  const GcOptions options_;
  db::GcCutoffs cutoffs_;
  int64_t uploads_idle_since_ = 0;
  GcReport report_;
};

}  // namespace quay::registry
