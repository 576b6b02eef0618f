// The SQL of the audit log (table audit_log, schema v3). Internal to lib/db.
// InsertAudit() is what every identity mutation calls inside its own write
// transaction; AuditStore writes standalone rows and batches, and answers
// queries. Times are microseconds since the Unix epoch.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "db/connection.h"
#include "db/event_journal.h"
#include "quay/status.h"

namespace quay::db {

class Connection;
class ConnectionPool;

struct AuditRow {
  int64_t id = 0;  // set when read
  std::string kind;
  std::string namespace_name;
  std::string repository;
  std::string performer_kind;  // "anonymous", "user", "robot", "token"
  std::string performer;
  std::string token_kind;  // "", "app", "oauth"
  std::string token_id;
  std::string ip;
  std::string request_id;
  std::string metadata = "{}";  // JSON object text (a CHECK enforces it)
  int64_t at = 0;
};

// Inserts `row` on a connection inside the caller's write transaction.
// Throws on failure (the caller's transaction rolls back).
void InsertAudit(Connection& writer, const AuditRow& row);

struct AuditFilter {
  std::string repository;          // empty: any
  std::string namespace_name;      // empty: any
  std::string performer;           // empty: any
  int64_t since = INT64_MIN;       // inclusive
  int64_t until = INT64_MAX;       // exclusive
  std::vector<std::string> kinds;  // empty: any
};

// Keyset position: rows strictly older than (at, id).
struct AuditCursor {
  int64_t at = INT64_MAX;
  int64_t id = INT64_MAX;
};

struct AuditDayCount {
  std::string kind;
  int64_t day = 0;  // days since the epoch (UTC)
  uint64_t count = 0;
};

class AuditStore {
 public:
  explicit AuditStore(ConnectionPool& pool) : pool_(pool) {}

  // One transaction for all rows: all are written or none. With kRelaxed the
  // commit is not fsync'd (it survives a crash of the process, and the next
  // durable commit carries it): for the asynchronous appender, whose queued
  // rows a crash loses anyway, so that pull audit does not hold the single
  // writer through an fsync per batch.
  Status Append(const std::vector<AuditRow>& rows,
                Connection::Sync sync = Connection::Sync::kDurable);
  // The same in a database opened by OpenAuditEventsDatabase, recording in
  // the same transaction that journal `journal` has been indexed up to `pos`
  // (so that a crash indexes nothing twice). kDurable when the caller is
  // about to delete the journal segments before `pos`.
  Status AppendJournaled(const std::vector<AuditRow>& rows, const std::string& journal,
                         const JournalPosition& pos, Connection::Sync sync);
  // Where `journal` was indexed up to ({0, 0} when never).
  Result<JournalPosition> JournalPositionOf(const std::string& journal);
  // Drops the position of a journal that has been indexed and removed.
  Status ForgetJournal(const std::string& journal);

  // Up to `limit` rows older than `cursor`, newest first.
  Result<std::vector<AuditRow>> Query(const AuditFilter& filter, const AuditCursor& cursor,
                                      size_t limit);
  // Counts per (UTC day, kind), ordered by day then kind.
  Result<std::vector<AuditDayCount>> Aggregate(const AuditFilter& filter);

  // Commits of Append / AppendJournaled so far in this process. These writes
  // leave the pool's cache generation alone (they come at pull rate), so
  // cached query pages check this count as well.
  uint64_t appends() const { return appends_.load(std::memory_order_acquire); }

 private:
  ConnectionPool& pool_;
  std::atomic<uint64_t> appends_{0};
};

// The database of the events an AuditAppender journals (pulls, pushes,
// logins), beside the main one: <dir>/<stem>-audit.db for <dir>/<stem>.db,
// ":memory:" for ":memory:". Its own file, so that indexing the journal holds
// no lock any mutation waits for. Its audit_log has the main table's columns
// and indexes; ids start above kAuditEventsFirstId so that (created_at, id)
// orders rows of both databases in one sequence.
std::string AuditEventsDatabasePath(const std::string& main_path);
constexpr int64_t kAuditEventsFirstId = int64_t{1} << 48;
// Opens (creating the schema if needed) the events database at `path`.
Result<std::unique_ptr<ConnectionPool>> OpenAuditEventsDatabase(const std::string& path,
                                                                bool durable);

}  // namespace quay::db
