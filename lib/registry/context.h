// What the registry's parts share: options, the database, the blob store,
// the in-process upload bookkeeping and the locks that order blob commits
// against garbage collection. Owned by RegistryImpl; everything else borrows it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <unordered_map>
#include <utility>

#include "db/database.h"
#include "db/read_cache.h"
#include "db/tag_policy_store.h"
#include "quay/clock.h"
#include "quay/logger.h"
#include "quay/options.h"
#include "quay/registry.h"
#include "quay/storage.h"
#include "registry/digest_locks.h"
#include "registry/upload_sessions.h"

namespace quay::registry {

struct Context {
  Options options;
  std::shared_ptr<Clock> clock;
  std::shared_ptr<Logger> logger;
  std::shared_ptr<BlobStore> store;
  // Shared: an IdentityService opened on this registry uses the same database.
  std::shared_ptr<db::Database> db;
  UploadSessions sessions;
  // Held by a blob commit across (store Commit, db CommitBlob) and by GC
  // across (row delete, file delete) of the same digest.
  DigestLocks digest_locks;
  // One collection at a time per Registry: two would only split the work.
  // On a shared PostgreSQL database, also one per database (kGcLockKey).
  std::mutex gc_mutex;
  // The database's advisory locks; null on SQLite (db/advisory_locks.h).
  std::shared_ptr<db::AdvisoryLocks> advisory;
  // The hot reads (manifest GET, blob HEAD/GET) served from memory while
  // the database has not changed (db/read_cache.h). Bounded in bytes so the
  // server's RSS stays flat.
  db::ReadCache<std::shared_ptr<const ManifestRecord>> manifests{8u << 20};
  db::ReadCache<uint64_t> blob_links{2u << 20};
  // Tag list pages (clients and scanners poll them).
  db::ReadCache<std::shared_ptr<const NamePage>> tag_pages{8u << 20};
  // Where page N of a REST tag listing ended, (start_at, tag row id), so
  // that page N+1 continues by keyset instead of OFFSET (registry/rest_views.cpp).
  db::ReadCache<std::pair<int64_t, int64_t>> tag_row_cursors{1u << 20};
  // REST tag listing pages and repository summaries (the UI's repository
  // page asks for both on every view).
  db::ReadCache<std::shared_ptr<const TagListPage>> tag_row_pages{8u << 20};
  db::ReadCache<RepositorySummary> summaries{1u << 20};

  // Tag policies' rows (schema v10), on db's connections.
  std::unique_ptr<db::TagPolicyStore> tag_policies;
  // The earliest expiration of a live tag as this process last learned it
  // (INT64_MAX: none; INT64_MIN: not read yet). Every call that reads or
  // changes live tags first compares the clock with it (an atomic load) and
  // ends the due tags only when one is due (registry/tag_policies.cpp).
  std::atomic<int64_t> next_tag_expiry{INT64_MIN};
  // Compiled policy patterns by text (bounded: cleared past 256 entries).
  std::mutex patterns_mutex;
  std::unordered_map<std::string, std::shared_ptr<const std::regex>> patterns;

  int64_t NowMicros() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(clock->Now().time_since_epoch())
        .count();
  }
};

// After a blob upload, commit or mount of `repository` answered `s`: when it
// is the quota's Denied, queues the namespace's quota_error notifications
// (once per crossing, quay/webhooks.h). Logs, never fails: a notification
// must not change what the push is told. Defined in registry/quotas.cpp.
void NoteQuotaRefusal(Context& ctx, std::string_view repository, const Status& s);

}  // namespace quay::registry
