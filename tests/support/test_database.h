// Which database a test's Options name: SQLite as written, or, when the test
// process runs with QUAY_TEST_BACKEND=postgres, a database on the process's
// throwaway PostgreSQL server (postgres_server.h). The same data folder (or
// SQLite file) always maps to the same PostgreSQL database, so a test that
// closes and reopens a registry sees what it wrote; an in-memory open gets a
// fresh one, as SQLite's ":memory:" does.
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <string>

#include "db/connection.h"
#include "postgres_server.h"
#include "quay/options.h"

namespace quay::testing {

inline std::string TestDatabaseFor(const std::string& sqlite_path) {
  if (!UsePostgres() || sqlite_path.starts_with("postgresql://")) return sqlite_path;
  if (sqlite_path.empty() || sqlite_path == ":memory:") return FreshPostgresDatabase();
  static std::mutex mu;
  static std::map<std::string, std::string> by_path;
  std::lock_guard lock(mu);
  std::string& uri = by_path[std::filesystem::absolute(sqlite_path).lexically_normal().string()];
  if (uri.empty()) uri = FreshPostgresDatabase();
  return uri;
}

inline Options WithTestDatabase(Options o) {
  if (!UsePostgres() || o.database_path.starts_with("postgresql://")) {
    return o;
  }
  if (o.database_path.empty() && !o.data_dir.empty()) {
    o.database_path = (std::filesystem::path(o.data_dir) / "quay.db").string();
  }
  o.database_path = TestDatabaseFor(o.database_path);
  return o;
}

// Runs one statement without parameters (SQLite's dialect, translated for
// PostgreSQL) on the database `sqlite_path` maps to, as another process
// would; the number of rows it changed. For tests that stage what a crash or
// an older version leaves behind.
inline int ExecTestSql(const std::string& sqlite_path, const std::string& sql) {
  auto c = db::OpenConnection(TestDatabaseFor(sqlite_path), /*read_only=*/false,
                              /*durable=*/false, /*in_memory=*/false);
  // A connection of its own: the cache key (the text's address) cannot
  // collide with another statement's.
  return c->Prepare(sql.c_str())->exec();
}

}  // namespace quay::testing
