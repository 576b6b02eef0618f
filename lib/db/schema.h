// Schema migrations, applied in order inside one transaction each. The
// current version is the highest row of schema_migrations.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>

namespace quay::db {

// The latest schema version this build knows.
int LatestSchemaVersion();

// Applies every migration newer than the database's version. Throws
// SQLite::Exception on failure (the caller converts it to a Status); a failed
// migration rolls back entirely.
void Migrate(SQLite::Database& db, long long now_micros);

}  // namespace quay::db
