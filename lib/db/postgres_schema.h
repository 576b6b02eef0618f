// The PostgreSQL (15+) text of the database schema, for the PostgreSQL
// backend. Names, column order, constraints, indexes and trigger effects match
// what the SQLite migrations of db/schema.cpp produce, so the stores run the
// same statements against both.
#pragma once

namespace quay::db {

// The whole main schema at version 11 (what SQLite reaches after kV1..kV11),
// in PostgreSQL's dialect: one multi-statement script for a single PQexec
// inside the caller's transaction, on an empty database. It does not create
// schema_migrations (the caller does, and records version 11).
const char* PostgresSchema();

// The PostgreSQL text of database.cpp's kTagListingIndexes, the indexes the
// main database creates when it is opened (idempotent: IF NOT EXISTS).
const char* PostgresTagListingIndexes();

// The PostgreSQL text of audit_store.cpp's kEventsSchema, the audit events
// database. SQLite keeps it in a file of its own; its audit_log and index
// names are those of the main schema, so on PostgreSQL it needs its own
// database (or its own schema on the search_path), never the main one. It
// has no PRAGMA user_version: test for the table journal_position instead.
// Its column journal_position."offset" is a reserved word in PostgreSQL and
// must be quoted in every statement that names it.
const char* PostgresEventsSchema();

}  // namespace quay::db
