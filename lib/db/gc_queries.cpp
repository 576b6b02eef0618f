#include "db/gc_queries.h"

#include <algorithm>
#include <stdexcept>
#include <unordered_set>

#include "db/sql_support.h"

namespace quay::db::gc {
namespace {

// The manifests something live reaches (the mark phase), as a CTE named
// `live`; ?1 = ended_since, ?2 = created_since. Roots: a live tag, a tag row
// still inside the recovery window, a manifest inside the protection window
// (a push by digest that has not been tagged or indexed yet). Edges: index ->
// child, and subject -> referrer within the repository. UNION (not UNION ALL)
// visits each manifest once. Both edge kinds are one derived table, so the
// recursive term names `live` once, which PostgreSQL requires.
//
// A macro so that every query that embeds it is still one string literal
// (Connection::Prepare keys its statement cache by the literal's address).
#define QUAY_LIVE_MANIFESTS                                                 \
  "WITH RECURSIVE live(id) AS ("                                            \
  " SELECT manifest_id FROM tag WHERE end_at IS NULL OR end_at >= ?1"       \
  " UNION SELECT id FROM manifest WHERE created_at >= ?2"                   \
  " UNION SELECT e.dst FROM live JOIN ("                                    \
  "   SELECT parent_id AS src, child_id AS dst FROM manifest_child"         \
  "   UNION ALL SELECT s.id, r.id FROM manifest s JOIN manifest r"          \
  "   ON r.repository_id = s.repository_id AND r.subject_digest = s.digest" \
  " ) e ON e.src = live.id)"

int64_t Limit(size_t limit) { return static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)); }

Digest ParseStoredDigest(const std::string& text) {
  auto d = Digest::Parse(text);
  // Digests are grammar-checked before they are stored; a bad one is corruption.
  if (!d.ok()) throw std::runtime_error("stored digest '" + text + "' is invalid");
  return *d;
}

}  // namespace

GarbageEstimate EstimateGarbage(Connection& c, const GcCutoffs& cutoffs,
                                int64_t uploads_idle_since) {
  GarbageEstimate out;
  // One snapshot for all counts, so they describe one state of the database.
  ReadTransaction snapshot(c);
  {
    auto q = c.Prepare("SELECT COUNT(*) FROM tag WHERE end_at < ?");
    q->bind(1, cutoffs.ended_since);
    q->executeStep();
    out.tags = static_cast<uint64_t>(q->getColumn(0).getInt64());
  }
  {
    // What the collection would remove phase after phase: dead manifests;
    // then the old links that no surviving (live) manifest of their
    // repository references; then the old blobs that no surviving link and
    // no surviving manifest references.
    auto q =
        c.Prepare(QUAY_LIVE_MANIFESTS
                  ", live_ref(repository_id, digest) AS ("
                  "  SELECT m.repository_id, mb.digest FROM manifest m"
                  "  JOIN manifest_blob mb ON mb.manifest_id = m.id WHERE m.id IN live)"
                  ", dead_link(repository_id, digest) AS ("
                  "  SELECT repository_id, digest FROM repository_blob"
                  "  WHERE created_at < ?2 AND (repository_id, digest) NOT IN live_ref)"
                  ", dead_blob(digest, size) AS ("
                  "  SELECT b.digest, b.size FROM blob b WHERE b.created_at < ?2"
                  "  AND b.digest NOT IN (SELECT digest FROM live_ref)"
                  "  AND NOT EXISTS (SELECT 1 FROM repository_blob rb WHERE rb.digest = b.digest"
                  "   AND (rb.repository_id, rb.digest) NOT IN dead_link))"
                  " SELECT (SELECT COUNT(*) FROM manifest WHERE id NOT IN live),"
                  " (SELECT COUNT(*) FROM dead_link),"
                  " (SELECT COUNT(*) FROM dead_blob),"
                  " (SELECT COALESCE(SUM(size), 0) FROM dead_blob)");
    q->bind(1, cutoffs.ended_since);
    q->bind(2, cutoffs.created_since);
    q->executeStep();
    out.manifests = static_cast<uint64_t>(q->getColumn(0).getInt64());
    out.blob_links = static_cast<uint64_t>(q->getColumn(1).getInt64());
    out.blobs = static_cast<uint64_t>(q->getColumn(2).getInt64());
    out.blob_bytes = static_cast<uint64_t>(q->getColumn(3).getInt64());
  }
  {
    auto q = c.Prepare("SELECT COUNT(*) FROM upload WHERE updated_at < ?");
    q->bind(1, uploads_idle_since);
    q->executeStep();
    out.uploads = static_cast<uint64_t>(q->getColumn(0).getInt64());
  }
  return out;
}

uint64_t ExpireTagHistory(Connection& c, const GcCutoffs& cutoffs, size_t limit) {
  // Rows that ended before the window never change again (RestoreTag opens
  // new rows), so no re-check is needed; one statement is one transaction.
  auto del = c.Prepare("DELETE FROM tag WHERE id IN (SELECT id FROM tag WHERE end_at < ? LIMIT ?)");
  del->bind(1, cutoffs.ended_since);
  del->bind(2, Limit(limit));
  return static_cast<uint64_t>(del->exec());
}

std::vector<int64_t> FindDeadManifests(Connection& c, const GcCutoffs& cutoffs) {
  auto q = c.Prepare(QUAY_LIVE_MANIFESTS
                     " SELECT id FROM manifest WHERE id NOT IN live ORDER BY id DESC");
  q->bind(1, cutoffs.ended_since);
  q->bind(2, cutoffs.created_since);
  std::vector<int64_t> ids;
  while (q->executeStep()) ids.push_back(q->getColumn(0).getInt64());
  return ids;
}

ManifestSweep DeleteDeadManifests(Connection& c, const std::vector<int64_t>& ids,
                                  const GcCutoffs& cutoffs) {
  ManifestSweep out;
  WriteTransaction tx(c);
  std::vector<int64_t> remaining = ids;
  // Each round deletes the batch's manifests that are dead by a check that
  // needs no graph walk: nothing roots it, no index (dead or alive) lists it,
  // and its subject is not in the repository. A manifest that passes is dead
  // whatever happened since the snapshot. One whose dead parent or subject
  // is in this batch passes in the next round, after that one went.
  while (!remaining.empty()) {
    std::vector<int64_t> dead;
    {
      auto q = c.Prepare(
          "SELECT m.id FROM manifest m WHERE m.id IN (SELECT CAST(value AS INTEGER) FROM "
          "json_each(?1))"
          " AND m.created_at < ?2"
          " AND NOT EXISTS (SELECT 1 FROM tag t WHERE t.manifest_id = m.id"
          "  AND (t.end_at IS NULL OR t.end_at >= ?3))"
          " AND NOT EXISTS (SELECT 1 FROM manifest_child mc WHERE mc.child_id = m.id)"
          " AND (m.subject_digest IS NULL OR NOT EXISTS (SELECT 1 FROM manifest s"
          "  WHERE s.repository_id = m.repository_id AND s.digest = m.subject_digest))");
      q->bind(1, JsonArray(remaining));
      q->bind(2, cutoffs.created_since);
      q->bind(3, cutoffs.ended_since);
      while (q->executeStep()) dead.push_back(q->getColumn(0).getInt64());
    }
    if (dead.empty()) break;
    const std::string dead_json = JsonArray(dead);
    // References first (foreign keys are on). The tag rows left are expired
    // history (the check excluded live and recent ones).
    {
      auto del = c.Prepare(
          "DELETE FROM tag WHERE manifest_id IN (SELECT CAST(value AS INTEGER) FROM json_each(?))");
      del->bind(1, dead_json);
      out.tags_deleted += static_cast<uint64_t>(del->exec());
    }
    {
      auto del = c.Prepare(
          "DELETE FROM manifest_blob WHERE manifest_id IN (SELECT CAST(value AS INTEGER) FROM "
          "json_each(?))");
      del->bind(1, dead_json);
      del->exec();
    }
    {
      // Labels die with their manifest (Quay's GC bulk-deletes them too).
      auto del = c.Prepare(
          "DELETE FROM manifest_label WHERE manifest_id IN (SELECT CAST(value AS INTEGER) FROM "
          "json_each(?))");
      del->bind(1, dead_json);
      del->exec();
    }
    {
      auto del = c.Prepare(
          "DELETE FROM manifest_child WHERE parent_id IN (SELECT CAST(value AS INTEGER) FROM "
          "json_each(?))");
      del->bind(1, dead_json);
      del->exec();
    }
    {
      auto del = c.Prepare(
          "DELETE FROM manifest WHERE id IN (SELECT CAST(value AS INTEGER) FROM json_each(?))");
      del->bind(1, dead_json);
      out.manifests_deleted += static_cast<uint64_t>(del->exec());
    }
    const std::unordered_set<int64_t> gone(dead.begin(), dead.end());
    std::erase_if(remaining, [&](int64_t id) { return gone.count(id) != 0; });
  }
  if (!remaining.empty()) {
    // Only those still present are worth another pass (a concurrent
    // DeleteRepository may have removed some).
    auto q = c.Prepare(
        "SELECT id FROM manifest WHERE id IN (SELECT CAST(value AS INTEGER) FROM json_each(?))");
    q->bind(1, JsonArray(remaining));
    while (q->executeStep()) out.kept.push_back(q->getColumn(0).getInt64());
  }
  tx.Commit();
  return out;
}

std::vector<BlobLinkKey> FindDeadBlobLinks(Connection& c, const GcCutoffs& cutoffs,
                                           const BlobLinkKey& after, size_t limit) {
  auto q = c.Prepare(
      "SELECT rb.repository_id, rb.digest FROM repository_blob rb"
      " WHERE (rb.repository_id, rb.digest) > (?1, ?2) AND rb.created_at < ?3"
      " AND NOT EXISTS (SELECT 1 FROM manifest_blob mb CROSS JOIN manifest m ON m.id = "
      "mb.manifest_id"
      "  WHERE mb.digest = rb.digest AND m.repository_id = rb.repository_id)"
      " ORDER BY rb.repository_id, rb.digest LIMIT ?4");
  q->bind(1, after.repository_id);
  q->bind(2, after.digest.str());
  q->bind(3, cutoffs.created_since);
  q->bind(4, Limit(limit));
  std::vector<BlobLinkKey> out;
  while (q->executeStep()) {
    out.push_back(
        BlobLinkKey{q->getColumn(0).getInt64(), ParseStoredDigest(q->getColumn(1).getString())});
  }
  return out;
}

uint64_t DeleteDeadBlobLinks(Connection& c, const std::vector<BlobLinkKey>& links,
                             const GcCutoffs& cutoffs) {
  if (links.empty()) return 0;
  // [[repository_id, "digest"], ...]
  std::string keys = "[";
  for (const auto& link : links) {
    if (keys.size() > 1) keys += ',';
    keys += '[' + std::to_string(link.repository_id) + ",\"" + link.digest.str() + "\"]";
  }
  keys += ']';
  WriteTransaction tx(c);
  // One statement for the batch (one round trip, and one firing of the
  // statement-level triggers on PostgreSQL), by primary key. Each link is
  // re-checked: no manifest of the repository came to reference the blob,
  // and no upload or mount refreshed the link since the candidates were read.
  auto del = c.Prepare(
      "DELETE FROM repository_blob WHERE (repository_id, digest) IN"
      " (SELECT CAST(json_extract(j.value, '$[0]') AS INTEGER), json_extract(j.value, '$[1]')"
      "  FROM json_each(?1) j)"
      " AND created_at < ?2"
      " AND NOT EXISTS (SELECT 1 FROM manifest_blob mb INNER JOIN manifest m ON m.id ="
      " mb.manifest_id"
      "  WHERE mb.digest = repository_blob.digest AND m.repository_id ="
      " repository_blob.repository_id)");
  del->bind(1, keys);
  del->bind(2, cutoffs.created_since);
  const auto deleted = static_cast<uint64_t>(del->exec());
  tx.Commit();
  return deleted;
}

std::vector<BlobRow> FindDeadBlobs(Connection& c, const GcCutoffs& cutoffs, std::string_view after,
                                   size_t limit) {
  auto q = c.Prepare(
      "SELECT b.digest, b.size FROM blob b WHERE b.digest > ?1 AND b.created_at < ?2"
      " AND NOT EXISTS (SELECT 1 FROM repository_blob rb WHERE rb.digest = b.digest)"
      " AND NOT EXISTS (SELECT 1 FROM manifest_blob mb WHERE mb.digest = b.digest)"
      " ORDER BY b.digest LIMIT ?3");
  q->bind(1, Str(after));
  q->bind(2, cutoffs.created_since);
  q->bind(3, Limit(limit));
  std::vector<BlobRow> out;
  while (q->executeStep()) {
    out.push_back(BlobRow{ParseStoredDigest(q->getColumn(0).getString()),
                          static_cast<uint64_t>(q->getColumn(1).getInt64())});
  }
  return out;
}

std::vector<BlobRow> DeleteDeadBlobs(Connection& c, const std::vector<Digest>& digests,
                                     const GcCutoffs& cutoffs) {
  std::vector<BlobRow> deleted;
  if (digests.empty()) return deleted;
  WriteTransaction tx(c);
  // One statement for the batch. Re-checked here: an upload or a mount may
  // have linked the blob, or a manifest referenced it, since the candidates
  // were read.
  auto del = c.Prepare(
      "DELETE FROM blob WHERE digest IN (SELECT j.value FROM json_each(?1) j)"
      " AND created_at < ?2"
      " AND NOT EXISTS (SELECT 1 FROM repository_blob rb WHERE rb.digest = blob.digest)"
      " AND NOT EXISTS (SELECT 1 FROM manifest_blob mb WHERE mb.digest = blob.digest)"
      " RETURNING digest, size");
  del->bind(1, JsonArray(digests));
  del->bind(2, cutoffs.created_since);
  while (del->executeStep()) {
    deleted.push_back(BlobRow{ParseStoredDigest(del->getColumn(0).getString()),
                              static_cast<uint64_t>(del->getColumn(1).getInt64())});
  }
  tx.Commit();
  return deleted;
}

std::vector<Digest> FindUnrecordedBlobs(Connection& c, const std::vector<Digest>& digests) {
  auto q = c.Prepare(
      "SELECT j.value FROM json_each(?) j"
      " WHERE NOT EXISTS (SELECT 1 FROM blob b WHERE b.digest = j.value)");
  q->bind(1, JsonArray(digests));
  std::vector<Digest> out;
  while (q->executeStep()) out.push_back(ParseStoredDigest(q->getColumn(0).getString()));
  return out;
}

std::vector<std::string> FindIdleUploads(Connection& c, int64_t idle_since, std::string_view after,
                                         size_t limit) {
  auto q = c.Prepare("SELECT id FROM upload WHERE id > ? AND updated_at < ? ORDER BY id LIMIT ?");
  q->bind(1, Str(after));
  q->bind(2, idle_since);
  q->bind(3, Limit(limit));
  std::vector<std::string> out;
  while (q->executeStep()) out.push_back(q->getColumn(0).getString());
  return out;
}

std::vector<std::string> DeleteIdleUploads(Connection& c, const std::vector<std::string>& ids,
                                           int64_t idle_since) {
  WriteTransaction tx(c);
  std::vector<std::string> deleted;
  for (const auto& id : ids) {
    // A PATCH acknowledged since the candidates were read keeps the session.
    auto del = c.Prepare("DELETE FROM upload WHERE id = ? AND updated_at < ?");
    del->bind(1, id);
    del->bind(2, idle_since);
    if (del->exec() == 1) deleted.push_back(id);
  }
  tx.Commit();
  return deleted;
}

#undef QUAY_LIVE_MANIFESTS

}  // namespace quay::db::gc
