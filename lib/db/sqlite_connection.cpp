#include "db/sqlite_connection.h"

#include "core/private_files.h"

namespace quay::db {
namespace {

// SQLite would create the file 0644 less the umask; it holds password hashes
// and audit rows, so it is made 0600 first (its -wal and -shm copy its mode).
// A failure here is left for SQLite's own open to report.
const std::string& CreatedPrivately(const std::string& path, bool read_only, bool in_memory) {
  if (!read_only && !in_memory && !path.empty() && path != ":memory:" &&
      !path.starts_with("file:")) {
    (void)core::CreatePrivateFile(path);
  }
  return path;
}

// SQLiteCpp's statement behind the shared interface: each call forwards.
class SqliteStatement final : public Statement {
 public:
  SqliteStatement(SQLite::Database& db, const char* sql) : s_(db, sql) {}

  void bind(int i, int32_t v) override { s_.bind(i, v); }
  void bind(int i, uint32_t v) override { s_.bind(i, v); }
  void bind(int i, int64_t v) override { s_.bind(i, v); }
  void bind(int i, const std::string& v) override { s_.bind(i, v); }
  void bind(int i, const char* v) override { s_.bind(i, v); }
  void bind(int i, const void* blob, int size) override { s_.bind(i, blob, size); }
  void bind(int i) override { s_.bind(i); }
  void bindNoCopy(int i, const std::string& v) override { s_.bindNoCopy(i, v); }
  void bindNoCopy(int i, const void* blob, int size) override { s_.bindNoCopy(i, blob, size); }

  int getIndex(const char* name) override { return s_.getIndex(name); }
  bool executeStep() override { return s_.executeStep(); }
  int exec() override { return s_.exec(); }
  void Reset() noexcept override {
    s_.tryReset();
    s_.clearBindings();
  }

  bool ColumnIsNull(int i) override { return s_.getColumn(i).isNull(); }
  int64_t ColumnInt64(int i) override { return s_.getColumn(i).getInt64(); }
  std::string ColumnString(int i) override { return s_.getColumn(i).getString(); }
  const void* ColumnBlob(int i) override { return s_.getColumn(i).getBlob(); }
  int ColumnBytes(int i) override { return s_.getColumn(i).getBytes(); }

 private:
  SQLite::Statement s_;
};

}  // namespace

SqliteConnection::SqliteConnection(const std::string& path, bool read_only, bool durable,
                                   bool in_memory)
    // NOMUTEX: a connection is used by one thread at a time (the pool lends
    // it out), so SQLite's per-call connection mutex is pure overhead.
    : db_(CreatedPrivately(path, read_only, in_memory),
          SQLite::OPEN_NOMUTEX |
              (read_only ? SQLite::OPEN_READONLY : (SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE)),
          static_cast<int>(kBusyTimeout.count())),
      durable_(durable),
      in_memory_(in_memory) {
  if (!in_memory && !read_only) {
    // WAL lets readers run beside the single writer; FULL makes every commit
    // durable before it is acknowledged.
    db_.exec("PRAGMA journal_mode=WAL");
    db_.exec(durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  }
  db_.exec("PRAGMA foreign_keys=ON");
}

void SqliteConnection::SetSynchronous(Sync mode) {
  if (mode == sync_ || in_memory_ || !durable_) return;
  db_.exec(mode == Sync::kDurable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  sync_ = mode;
}

std::unique_ptr<Statement> SqliteConnection::NewStatement(const char* sql, const char*) {
  return std::make_unique<SqliteStatement>(db_, sql);
}

}  // namespace quay::db
