// Schema migrations, applied in order inside one transaction each. The
// current version is the highest row of schema_migrations.
#pragma once

#include "db/connection.h"

namespace quay::db {

// The latest schema version this build knows.
int LatestSchemaVersion();

// Applies every migration newer than the database's version (PostgreSQL: the
// whole schema at once on an empty database). Throws on failure (the caller
// converts it to a Status); a failed migration rolls back entirely.
void Migrate(Connection& c, long long now_micros);

}  // namespace quay::db
