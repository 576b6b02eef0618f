// A throwaway PostgreSQL server for tests: one per test process, started on
// first use from a cached pristine cluster, stopped and deleted when the
// process exits (also when it is killed: a keeper process watches it).
//
// Environment:
//   QUAY_TEST_BACKEND=postgres   run the database tests against PostgreSQL
//   QUAY_TEST_PG_BINDIR          server binaries (default /usr/lib/postgresql/15/bin)
//   QUAY_TEST_PG_TIMING=1        print startup phase timings to stderr
//   QUAY_TEST_PG_TMPDIR, TMPDIR  where the clusters live (first set wins; else
//                                /dev/shm if it is a tmpfs with 1 GB free, else /tmp)
#pragma once

#include <string>

namespace quay::testing {

// True when this test process should use PostgreSQL: the environment variable
// QUAY_TEST_BACKEND is "postgres".
bool UsePostgres();

// The URI of a new, empty database on the process's server (started on the
// first call), e.g. "postgresql://postgres@127.0.0.1:41234/quay_test_3".
// Throws std::runtime_error, with the server log's tail, if the server cannot
// be started. Thread-safe.
std::string FreshPostgresDatabase();

// "" when !UsePostgres() (the caller's SQLite default), else a fresh database.
std::string TestDatabasePath();

// The URI of the server's maintenance database ("postgres"), for tests that
// run SQL on the server itself. Starts the server if needed.
std::string PostgresAdminUri();

}  // namespace quay::testing
