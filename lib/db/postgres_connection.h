// The PostgreSQL connection (libpq underneath). Internal to lib/db.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/str_cat.h"
#include "db/connection.h"

struct pg_conn;

namespace quay::db {

// Every write transaction of every process on one PostgreSQL database takes
// this advisory lock first: the stores were written for SQLite's one writer at
// a time and read-then-write inside a transaction, which READ COMMITTED alone
// would not make safe across instances.
inline constexpr int64_t kWriterLockKey = 0x71756179'77726974;  // "quaywrit"

class PostgresConnection final : public Connection {
 public:
  PostgresConnection(const std::string& uri, bool read_only, bool durable);
  ~PostgresConnection() override;

  Dialect dialect() const override { return Dialect::kPostgres; }
  void Exec(const std::string& sql) override;
  void BeginWrite() override;
  void BeginRead() override;
  void SetSynchronous(Sync mode) override;
  void SetBusyTimeout(std::chrono::milliseconds timeout) override;

  pg_conn* raw() { return conn_; }
  // Raised whenever the session was re-established: statements prepared
  // before must be prepared again.
  uint64_t session() const { return session_; }
  // A name unique on this connection, for a prepared statement.
  // (StrCat: GCC 12 at -O3 reports a false -Wrestrict on `"q" + to_string`.)
  std::string NextStatementName() {
    return core::StrCat({"q", std::to_string(++statement_names_)});
  }
  // Re-establishes a broken session between transactions (a restarted server,
  // a dropped socket); false if it is still broken.
  bool EnsureSession();

 protected:
  std::unique_ptr<Statement> NewStatement(const char* sql, const char* postgres) override;

 private:
  void Configure();

  pg_conn* conn_ = nullptr;
  bool read_only_;
  bool durable_;
  Sync sync_ = Sync::kDurable;
  std::chrono::milliseconds busy_timeout_ = kBusyTimeout;
  uint64_t session_ = 1;
  uint64_t statement_names_ = 0;
};

}  // namespace quay::db
