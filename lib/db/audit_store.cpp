#include "db/audit_store.h"

#include <algorithm>
#include <climits>
#include <filesystem>

#include "db/connection.h"
#include "db/postgres_schema.h"
#include "db/sql_support.h"
#include "db/sqlite_connection.h"
#include "db/store_support.h"

namespace quay::db {
namespace {

// Kinds are bound as one JSON array (json_each), so they need JSON quoting.
std::string KindsJson(const std::vector<std::string>& kinds) {
  std::string out = "[";
  for (size_t i = 0; i < kinds.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char ch : kinds[i]) {
      if (ch == '"' || ch == '\\') {
        out += '\\';
        out += ch;
      } else if (static_cast<unsigned char>(ch) >= 0x20) {
        out += ch;
      }  // control characters cannot be part of a kind name; dropping them
         // only makes the filter match nothing
    }
    out += '"';
  }
  out += ']';
  return out;
}

// One statement per leading filter, so each query walks the index whose
// first column it pins (repository, namespace, performer) or the time index.
// The other filters are residual conditions on the same numbered parameters:
// ?1 repository, ?2 namespace, ?3 performer ('' = any), ?4/?5 time range,
// ?6 kinds ('[]' = any), ?7/?8 keyset cursor, ?9 limit. Macros keep each
// query one string literal (Connection::Prepare's cache key).
#define QUAY_AUDIT_COLUMNS                                                              \
  "SELECT id, kind, namespace_name, repository, performer_kind, performer, token_kind," \
  " token_id, ip, request_id, metadata, created_at FROM audit_log WHERE "
#define QUAY_AUDIT_BY_REPOSITORY \
  "repository = ?1 AND (?2 = '' OR namespace_name = ?2) AND (?3 = '' OR performer = ?3)"
#define QUAY_AUDIT_BY_NAMESPACE "namespace_name = ?2 AND (?3 = '' OR performer = ?3)"
#define QUAY_AUDIT_BY_PERFORMER "performer = ?3"
#define QUAY_AUDIT_BY_TIME "TRUE"
#define QUAY_AUDIT_REST                       \
  " AND created_at >= ?4 AND created_at < ?5" \
  " AND (?6 = '[]' OR kind IN (SELECT value FROM json_each(?6)))"
#define QUAY_AUDIT_PAGE \
  " AND (created_at, id) < (?7, ?8) ORDER BY created_at DESC, id DESC LIMIT ?9"
#define QUAY_AUDIT_COUNT_COLUMNS \
  "SELECT kind, created_at / 86400000000 AS day, COUNT(*) FROM audit_log WHERE "
#define QUAY_AUDIT_GROUP " GROUP BY day, kind ORDER BY day, kind"

enum class Leading { kRepository, kNamespace, kPerformer, kTime };

// One statement per leading index, indexed by Leading (each a literal: its
// address keys the statement cache).
constexpr const char* kQuerySql[] = {
    QUAY_AUDIT_COLUMNS QUAY_AUDIT_BY_REPOSITORY QUAY_AUDIT_REST QUAY_AUDIT_PAGE,
    QUAY_AUDIT_COLUMNS QUAY_AUDIT_BY_NAMESPACE QUAY_AUDIT_REST QUAY_AUDIT_PAGE,
    QUAY_AUDIT_COLUMNS QUAY_AUDIT_BY_PERFORMER QUAY_AUDIT_REST QUAY_AUDIT_PAGE,
    QUAY_AUDIT_COLUMNS QUAY_AUDIT_BY_TIME QUAY_AUDIT_REST QUAY_AUDIT_PAGE,
};
constexpr const char* kAggregateSql[] = {
    QUAY_AUDIT_COUNT_COLUMNS QUAY_AUDIT_BY_REPOSITORY QUAY_AUDIT_REST QUAY_AUDIT_GROUP,
    QUAY_AUDIT_COUNT_COLUMNS QUAY_AUDIT_BY_NAMESPACE QUAY_AUDIT_REST QUAY_AUDIT_GROUP,
    QUAY_AUDIT_COUNT_COLUMNS QUAY_AUDIT_BY_PERFORMER QUAY_AUDIT_REST QUAY_AUDIT_GROUP,
    QUAY_AUDIT_COUNT_COLUMNS QUAY_AUDIT_BY_TIME QUAY_AUDIT_REST QUAY_AUDIT_GROUP,
};

Leading LeadingOf(const AuditFilter& f) {
  if (!f.repository.empty()) return Leading::kRepository;
  if (!f.namespace_name.empty()) return Leading::kNamespace;
  if (!f.performer.empty()) return Leading::kPerformer;
  return Leading::kTime;
}

void BindFilter(Stmt& q, const AuditFilter& f, const std::string& kinds) {
  q->bind(1, f.repository);
  q->bind(2, f.namespace_name);
  q->bind(3, f.performer);
  q->bind(4, static_cast<int64_t>(f.since));
  q->bind(5, static_cast<int64_t>(f.until));
  q->bind(6, kinds);
}

}  // namespace

namespace {

constexpr int kAuditColumns = 11;
// Rows per multi-row INSERT in Append: one statement step per group instead
// of per row (the appender writes pull rows at request rate).
constexpr size_t kRowsPerInsert = 16;

// Binds `row` to parameters first+1 .. first+kAuditColumns. Without copies:
// the rows outlive the statement's step.
void BindAuditRow(Stmt& q, int first, const AuditRow& row) {
  static const std::string kEmptyObject = "{}";
  q->bindNoCopy(first + 1, row.kind);
  q->bindNoCopy(first + 2, row.namespace_name);
  q->bindNoCopy(first + 3, row.repository);
  q->bindNoCopy(first + 4, row.performer_kind);
  q->bindNoCopy(first + 5, row.performer);
  q->bindNoCopy(first + 6, row.token_kind);
  q->bindNoCopy(first + 7, row.token_id);
  q->bindNoCopy(first + 8, row.ip);
  q->bindNoCopy(first + 9, row.request_id);
  q->bindNoCopy(first + 10, row.metadata.empty() ? kEmptyObject : row.metadata);
  q->bind(first + 11, static_cast<int64_t>(row.at));
}

// "INSERT ... VALUES (?, ...), ... " for kRowsPerInsert rows. Built once; its
// address is the statement cache key (Connection::Prepare).
const char* MultiRowInsertSql() {
  static const std::string sql = [] {
    std::string s =
        "INSERT INTO audit_log(kind, namespace_name, repository, performer_kind, performer,"
        " token_kind, token_id, ip, request_id, metadata, created_at) VALUES";
    for (size_t i = 0; i < kRowsPerInsert; ++i) {
      s += i == 0 ? " (" : ", (";
      for (int j = 0; j < kAuditColumns; ++j) s += j == 0 ? "?" : ", ?";
      s += ")";
    }
    return s;
  }();
  return sql.c_str();
}

}  // namespace

void InsertAudit(Connection& c, const AuditRow& row) {
  auto ins = c.Prepare(
      "INSERT INTO audit_log(kind, namespace_name, repository, performer_kind, performer,"
      " token_kind, token_id, ip, request_id, metadata, created_at)"
      " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  BindAuditRow(ins, 0, row);
  ins->exec();
}

// Inserts rows: a multi-row INSERT per statement, then one at a time.
static void InsertRows(Connection& c, const std::vector<AuditRow>& rows) {
  size_t i = 0;
  for (; i + kRowsPerInsert <= rows.size(); i += kRowsPerInsert) {
    auto ins = c.Prepare(MultiRowInsertSql());
    for (size_t j = 0; j < kRowsPerInsert; ++j) {
      BindAuditRow(ins, static_cast<int>(j) * kAuditColumns, rows[i + j]);
    }
    ins->exec();
  }
  for (; i < rows.size(); ++i) InsertAudit(c, rows[i]);
}

Status AuditStore::Append(const std::vector<AuditRow>& rows, Connection::Sync sync) {
  if (rows.empty()) return Status::Ok();
  Status s = WriteStatusOn(
      pool_,
      [&](Connection& c) {
        InsertRows(c, rows);
        return Status::Ok();
      },
      CacheEffect::kNone, sync);
  // After the commit, as InvalidateCaches: a reader that counted before it
  // caches at most a page that is already stale.
  if (s.ok()) appends_.fetch_add(1, std::memory_order_acq_rel);
  return s;
}

namespace {

// The events database (OpenAuditEventsDatabase). AUTOINCREMENT with a seeded
// sqlite_sequence makes the first id kAuditEventsFirstId and never reuses one.
constexpr const char* kEventsSchema = R"sql(
CREATE TABLE audit_log (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  kind           TEXT NOT NULL,
  namespace_name TEXT NOT NULL DEFAULT '',
  repository     TEXT NOT NULL DEFAULT '',
  performer_kind TEXT NOT NULL,
  performer      TEXT NOT NULL DEFAULT '',
  token_kind     TEXT NOT NULL DEFAULT '',
  token_id       TEXT NOT NULL DEFAULT '',
  ip             TEXT NOT NULL DEFAULT '',
  request_id     TEXT NOT NULL DEFAULT '',
  metadata       TEXT NOT NULL DEFAULT '{}',
  created_at     INTEGER NOT NULL
);
CREATE INDEX audit_log_time ON audit_log(created_at);
CREATE INDEX audit_log_repository ON audit_log(repository, created_at);
CREATE INDEX audit_log_namespace ON audit_log(namespace_name, created_at);
CREATE INDEX audit_log_performer ON audit_log(performer, created_at);
CREATE TABLE journal_position (
  journal TEXT PRIMARY KEY,
  segment INTEGER NOT NULL,
  offset  INTEGER NOT NULL
);
INSERT INTO sqlite_sequence(name, seq) VALUES ('audit_log', 281474976710655);
PRAGMA user_version = 1;
)sql";

constexpr const char* kPostgresEventsSchemaName = "quay_audit";

}  // namespace

std::string AuditEventsDatabasePath(const std::string& main_path) {
  if (main_path == ":memory:") return main_path;
  // PostgreSQL: the same database, in a schema of its own (its tables share
  // names with the main schema's), chosen by the session's search_path.
  if (IsPostgresUri(main_path)) {
    return main_path + (main_path.find('?') == std::string::npos ? "?" : "&") +
           "options=-csearch_path%3D" + kPostgresEventsSchemaName;
  }
  const std::filesystem::path p(main_path);
  return (p.parent_path() / (p.stem().string() + "-audit" + p.extension().string())).string();
}

Result<std::unique_ptr<ConnectionPool>> OpenAuditEventsDatabase(const std::string& path,
                                                                bool durable) {
  static_assert(kAuditEventsFirstId - 1 == 281474976710655);
  try {
    auto pool = std::make_unique<ConnectionPool>(path, durable);
    Connection& c = pool->writer();
    WriteTransaction txn(c);
    if (c.dialect() == Dialect::kPostgres) {
      c.Exec(std::string("CREATE SCHEMA IF NOT EXISTS ") + kPostgresEventsSchemaName);
      auto q = c.Prepare(
          "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema()"
          " AND table_name = 'journal_position'");
      if (!q->executeStep()) c.Exec(PostgresEventsSchema());
    } else {
      auto& db = static_cast<SqliteConnection&>(c).db();
      if (db.execAndGet("PRAGMA user_version").getInt() == 0) db.exec(kEventsSchema);
    }
    txn.Commit();
    return pool;
  } catch (const std::exception& e) {
    return FromException(e);
  }
}

Status AuditStore::AppendJournaled(const std::vector<AuditRow>& rows, const std::string& journal,
                                   const JournalPosition& pos, Connection::Sync sync) {
  Status s = WriteStatusOn(
      pool_,
      [&](Connection& c) {
        InsertRows(c, rows);
        auto q = c.Prepare(
            // "offset" is quoted: PostgreSQL reserves the word.
            "INSERT INTO journal_position(journal, segment, \"offset\") VALUES(?, ?, ?)"
            " ON CONFLICT(journal) DO UPDATE SET segment = excluded.segment,"
            " \"offset\" = excluded.\"offset\"");
        q->bindNoCopy(1, journal);
        q->bind(2, static_cast<int64_t>(pos.segment));
        q->bind(3, static_cast<int64_t>(pos.offset));
        q->exec();
        return Status::Ok();
      },
      CacheEffect::kNone, sync);
  if (s.ok() && !rows.empty()) appends_.fetch_add(1, std::memory_order_acq_rel);
  return s;
}

Result<JournalPosition> AuditStore::JournalPositionOf(const std::string& journal) {
  return ReadOn<JournalPosition>(pool_, [&](Connection& c) {
    auto q = c.Prepare("SELECT segment, \"offset\" FROM journal_position WHERE journal = ?");
    q->bindNoCopy(1, journal);
    JournalPosition pos;
    if (q->executeStep()) {
      pos.segment = static_cast<uint64_t>(q->getColumn(0).getInt64());
      pos.offset = static_cast<uint64_t>(q->getColumn(1).getInt64());
    }
    return pos;
  });
}

Status AuditStore::ForgetJournal(const std::string& journal) {
  return WriteStatusOn(
      pool_,
      [&](Connection& c) {
        auto q = c.Prepare("DELETE FROM journal_position WHERE journal = ?");
        q->bindNoCopy(1, journal);
        q->exec();
        return Status::Ok();
      },
      CacheEffect::kNone);
}

Result<std::vector<AuditRow>> AuditStore::Query(const AuditFilter& filter,
                                                const AuditCursor& cursor, size_t limit) {
  const std::string kinds = KindsJson(filter.kinds);
  return ReadOn<std::vector<AuditRow>>(pool_, [&](Connection& c) {
    auto q = c.Prepare(kQuerySql[static_cast<int>(LeadingOf(filter))]);
    BindFilter(q, filter, kinds);
    q->bind(7, static_cast<int64_t>(cursor.at));
    q->bind(8, static_cast<int64_t>(cursor.id));
    q->bind(9, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
    std::vector<AuditRow> out;
    while (q->executeStep()) {
      AuditRow row;
      row.id = q->getColumn(0).getInt64();
      row.kind = q->getColumn(1).getString();
      row.namespace_name = q->getColumn(2).getString();
      row.repository = q->getColumn(3).getString();
      row.performer_kind = q->getColumn(4).getString();
      row.performer = q->getColumn(5).getString();
      row.token_kind = q->getColumn(6).getString();
      row.token_id = q->getColumn(7).getString();
      row.ip = q->getColumn(8).getString();
      row.request_id = q->getColumn(9).getString();
      row.metadata = q->getColumn(10).getString();
      row.at = q->getColumn(11).getInt64();
      out.push_back(std::move(row));
    }
    return out;
  });
}

Result<std::vector<AuditDayCount>> AuditStore::Aggregate(const AuditFilter& filter) {
  const std::string kinds = KindsJson(filter.kinds);
  return ReadOn<std::vector<AuditDayCount>>(pool_, [&](Connection& c) {
    auto q = c.Prepare(kAggregateSql[static_cast<int>(LeadingOf(filter))]);
    BindFilter(q, filter, kinds);
    std::vector<AuditDayCount> out;
    while (q->executeStep()) {
      AuditDayCount row;
      row.kind = q->getColumn(0).getString();
      row.day = q->getColumn(1).getInt64();
      row.count = static_cast<uint64_t>(q->getColumn(2).getInt64());
      out.push_back(std::move(row));
    }
    return out;
  });
}

}  // namespace quay::db
