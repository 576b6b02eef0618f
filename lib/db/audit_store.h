// The SQL of the audit log (table audit_log, schema v3). Internal to lib/db.
// InsertAudit() is what every identity mutation calls inside its own write
// transaction; AuditStore writes standalone rows and batches, and answers
// queries. Times are microseconds since the Unix epoch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "db/connection.h"
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
// Throws SQLite::Exception on failure (the caller's transaction rolls back).
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
  // Up to `limit` rows older than `cursor`, newest first.
  Result<std::vector<AuditRow>> Query(const AuditFilter& filter, const AuditCursor& cursor,
                                      size_t limit);
  // Counts per (UTC day, kind), ordered by day then kind.
  Result<std::vector<AuditDayCount>> Aggregate(const AuditFilter& filter);

 private:
  ConnectionPool& pool_;
};

}  // namespace quay::db
