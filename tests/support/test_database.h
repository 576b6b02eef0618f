// Which database a test's Options name: SQLite as written, or, when the test
// process runs with QUAY_TEST_BACKEND=postgres, a database on the process's
// throwaway PostgreSQL server (postgres_server.h). The same data folder (or
// SQLite file) always maps to the same PostgreSQL database, so a test that
// closes and reopens a registry sees what it wrote; an in-memory open gets a
// fresh one, as SQLite's ":memory:" does.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "db/audit_store.h"
#include "db/connection.h"
#include "postgres_server.h"
#include "quay/options.h"

namespace quay::testing {

// A test case about SQLite itself (its query plans, its file's schema
// surgery, its triggers' cost), skipped on PostgreSQL:
//   TEST_CASE("..." * quay::testing::SqliteOnly())
inline doctest::skip SqliteOnly() { return doctest::skip(UsePostgres()); }

inline std::string TestDatabaseFor(const std::string& sqlite_path) {
  if (!UsePostgres() || sqlite_path.starts_with("postgresql://")) return sqlite_path;
  if (sqlite_path.empty() || sqlite_path == ":memory:") return FreshPostgresDatabase();
  // The audit events' file beside quay.db is, on PostgreSQL, a schema of the
  // main database (db/audit_store.h).
  constexpr std::string_view kAuditSuffix = "-audit.db";
  if (sqlite_path.ends_with(kAuditSuffix)) {
    const std::string main =
        sqlite_path.substr(0, sqlite_path.size() - kAuditSuffix.size()) + ".db";
    return db::AuditEventsDatabasePath(TestDatabaseFor(main));
  }
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
// A connection of the test's own on the database `sqlite_path` maps to (as
// another process would have), to read or stage rows past the library.
inline std::unique_ptr<db::Connection> TestConnection(const std::string& sqlite_path) {
  return db::OpenConnection(TestDatabaseFor(sqlite_path), /*read_only=*/false,
                            /*durable=*/false, /*in_memory=*/false);
}

// Makes every insert into `table` fail (as a broken disk would) until
// RepairTable: a trigger, in the dialect of the database `sqlite_path` maps to.
inline void BreakTable(const std::string& sqlite_path, const std::string& table) {
  auto c = TestConnection(sqlite_path);
  if (c->dialect() == db::Dialect::kPostgres) {
    c->Exec(
        "CREATE OR REPLACE FUNCTION quay_test_broken() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN RAISE EXCEPTION '" +
        table +
        " unavailable'; END $$;"
        " CREATE TRIGGER quay_test_broken BEFORE INSERT ON " +
        table + " FOR EACH ROW EXECUTE FUNCTION quay_test_broken()");
  } else {
    c->Exec("CREATE TRIGGER quay_test_broken BEFORE INSERT ON " + table +
            " BEGIN SELECT RAISE(ABORT, '" + table + " unavailable'); END");
  }
}

inline void RepairTable(const std::string& sqlite_path, const std::string& table) {
  auto c = TestConnection(sqlite_path);
  c->Exec(c->dialect() == db::Dialect::kPostgres ? "DROP TRIGGER quay_test_broken ON " + table
                                                 : std::string("DROP TRIGGER quay_test_broken"));
}

inline int ExecTestSql(const std::string& sqlite_path, const std::string& sql) {
  auto c = db::OpenConnection(TestDatabaseFor(sqlite_path), /*read_only=*/false,
                              /*durable=*/false, /*in_memory=*/false);
  // A connection of its own: the cache key (the text's address) cannot
  // collide with another statement's.
  return c->Prepare(sql.c_str())->exec();
}

}  // namespace quay::testing
