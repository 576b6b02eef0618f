// The SQL of garbage collection (see Database's "garbage collection"
// section for the contracts). Each function runs on a connection the caller
// holds (a reader, or the writer under its lock), opens its own transaction
// where it needs one, and throws on failure; SqliteDatabase
// turns that into a Status. Internal to lib/db.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "db/connection.h"
#include "db/database.h"

namespace quay::db::gc {

GarbageEstimate EstimateGarbage(Connection& reader, const GcCutoffs& cutoffs,
                                int64_t uploads_idle_since);
uint64_t ExpireTagHistory(Connection& writer, const GcCutoffs& cutoffs, size_t limit);
std::vector<int64_t> FindDeadManifests(Connection& reader, const GcCutoffs& cutoffs);
ManifestSweep DeleteDeadManifests(Connection& writer, const std::vector<int64_t>& ids,
                                  const GcCutoffs& cutoffs);
std::vector<BlobLinkKey> FindDeadBlobLinks(Connection& reader, const GcCutoffs& cutoffs,
                                           const BlobLinkKey& after, size_t limit);
uint64_t DeleteDeadBlobLinks(Connection& writer, const std::vector<BlobLinkKey>& links,
                             const GcCutoffs& cutoffs);
std::vector<BlobRow> FindDeadBlobs(Connection& reader, const GcCutoffs& cutoffs,
                                   std::string_view after, size_t limit);
std::vector<BlobRow> DeleteDeadBlobs(Connection& writer, const std::vector<Digest>& digests,
                                     const GcCutoffs& cutoffs);
std::vector<Digest> FindUnrecordedBlobs(Connection& reader, const std::vector<Digest>& digests);
std::vector<std::string> FindIdleUploads(Connection& reader, int64_t idle_since,
                                         std::string_view after, size_t limit);
std::vector<std::string> DeleteIdleUploads(Connection& writer, const std::vector<std::string>& ids,
                                           int64_t idle_since);

}  // namespace quay::db::gc
