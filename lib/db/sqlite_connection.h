// The SQLite connection (SQLiteCpp underneath). Internal to lib/db.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>

#include <memory>
#include <string>

#include "db/connection.h"

namespace quay::db {

class SqliteConnection final : public Connection {
 public:
  SqliteConnection(const std::string& path, bool read_only, bool durable, bool in_memory);
  ~SqliteConnection() override { DropStatements(); }

  Dialect dialect() const override { return Dialect::kSqlite; }
  void Exec(const std::string& sql) override { db_.exec(sql); }
  // IMMEDIATE takes the write lock at BEGIN: SQLite's one writer at a time.
  void BeginWrite() override { db_.exec("BEGIN IMMEDIATE"); }
  // Deferred: the snapshot starts at the first read.
  void BeginRead() override { db_.exec("BEGIN"); }
  void SetSynchronous(Sync mode) override;
  void SetBusyTimeout(std::chrono::milliseconds timeout) override {
    db_.setBusyTimeout(static_cast<int>(timeout.count()));
  }

  // For what only SQLite has (query plans, PRAGMAs).
  SQLite::Database& db() { return db_; }

 protected:
  std::unique_ptr<Statement> NewStatement(const char* sql, const char* postgres) override;

 private:
  SQLite::Database db_;
  bool durable_;
  bool in_memory_;
  Sync sync_ = Sync::kDurable;
};

}  // namespace quay::db
