#include "db/schema.h"

#include <array>

namespace quay::db {
namespace {

// Version 1: the registry core. The blob store holds bytes; these tables say
// which blobs exist, which repository may see them, and what manifests and
// tags point at. Tags are history rows: moving a tag ends its live row
// (end_at) and starts a new one, so nothing is overwritten.
constexpr const char* kV1 = R"sql(
CREATE TABLE repository (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  created_at  INTEGER NOT NULL
);

CREATE TABLE blob (
  digest      TEXT PRIMARY KEY,
  size        INTEGER NOT NULL,
  created_at  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE repository_blob (
  repository_id INTEGER NOT NULL REFERENCES repository(id),
  digest        TEXT NOT NULL REFERENCES blob(digest),
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (repository_id, digest)
) WITHOUT ROWID;
CREATE INDEX repository_blob_digest ON repository_blob(digest);

CREATE TABLE manifest (
  id             INTEGER PRIMARY KEY,
  repository_id  INTEGER NOT NULL REFERENCES repository(id),
  digest         TEXT NOT NULL,
  media_type     TEXT NOT NULL,
  artifact_type  TEXT,
  subject_digest TEXT,
  size           INTEGER NOT NULL,
  content        BLOB NOT NULL,
  created_at     INTEGER NOT NULL,
  UNIQUE (repository_id, digest)
);
CREATE INDEX manifest_subject ON manifest(repository_id, subject_digest)
  WHERE subject_digest IS NOT NULL;

CREATE TABLE manifest_blob (
  manifest_id INTEGER NOT NULL REFERENCES manifest(id),
  digest      TEXT NOT NULL REFERENCES blob(digest),
  PRIMARY KEY (manifest_id, digest)
) WITHOUT ROWID;
CREATE INDEX manifest_blob_digest ON manifest_blob(digest);

CREATE TABLE manifest_child (
  parent_id INTEGER NOT NULL REFERENCES manifest(id),
  child_id  INTEGER NOT NULL REFERENCES manifest(id),
  PRIMARY KEY (parent_id, child_id)
) WITHOUT ROWID;
CREATE INDEX manifest_child_child ON manifest_child(child_id);

CREATE TABLE tag (
  id            INTEGER PRIMARY KEY,
  repository_id INTEGER NOT NULL REFERENCES repository(id),
  name          TEXT NOT NULL,
  manifest_id   INTEGER NOT NULL REFERENCES manifest(id),
  start_at      INTEGER NOT NULL,
  end_at        INTEGER
);
CREATE UNIQUE INDEX tag_live ON tag(repository_id, name) WHERE end_at IS NULL;
CREATE INDEX tag_manifest ON tag(manifest_id);

CREATE TABLE upload (
  id          TEXT PRIMARY KEY,
  repository  TEXT NOT NULL,
  byte_offset INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

// Version 2: discovery and logical deletion.
// - manifest.deleted_at: DeleteManifest hides a manifest without removing it,
//   so RestoreTag can bring it back inside the recovery window; GC removes
//   the row later. A re-push clears it.
// - manifest.config_media_type and manifest.annotations (JSON object text):
//   what a referrers listing reports (artifactType falls back to the config's
//   mediaType for image manifests), stored so listing never re-parses content.
//   Rows written by version 1 are backfilled from their content.
// - tag indexes: every row of one tag (history), a repository's rows by the
//   time they last changed (recent changes; end_at >= start_at, so
//   COALESCE(end_at, start_at) is the later of the two), and ended rows (GC
//   expires them past the recovery window).
// - upload(repository): DeleteRepository ends that repository's sessions.
constexpr const char* kV2 = R"sql(
ALTER TABLE manifest ADD COLUMN deleted_at INTEGER;
ALTER TABLE manifest ADD COLUMN config_media_type TEXT;
ALTER TABLE manifest ADD COLUMN annotations TEXT;

UPDATE manifest SET
  config_media_type = CASE
    WHEN media_type IN ('application/vnd.oci.image.manifest.v1+json',
                        'application/vnd.docker.distribution.manifest.v2+json')
    THEN json_extract(CAST(content AS TEXT), '$.config.mediaType') END,
  annotations = CASE
    WHEN json_type(CAST(content AS TEXT), '$.annotations') = 'object'
    THEN json_extract(CAST(content AS TEXT), '$.annotations') END
WHERE json_valid(CAST(content AS TEXT));

CREATE INDEX manifest_deleted ON manifest(deleted_at) WHERE deleted_at IS NOT NULL;

CREATE INDEX tag_history ON tag(repository_id, name, start_at);
CREATE INDEX tag_changed ON tag(repository_id, COALESCE(end_at, start_at));
CREATE INDEX tag_ended ON tag(end_at) WHERE end_at IS NOT NULL;

CREATE INDEX upload_repository ON upload(repository);
)sql";

constexpr std::array kMigrations = {kV1, kV2};

}  // namespace

int LatestSchemaVersion() { return static_cast<int>(kMigrations.size()); }

void Migrate(SQLite::Database& db, long long now_micros) {
  db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
  int current = 0;
  {
    SQLite::Statement q(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (q.executeStep()) current = q.getColumn(0).getInt();
  }
  for (int v = current + 1; v <= LatestSchemaVersion(); ++v) {
    // IMMEDIATE: two processes opening a fresh data dir must not both migrate.
    db.exec("BEGIN IMMEDIATE");
    try {
      SQLite::Statement again(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
      again.executeStep();
      if (again.getColumn(0).getInt() >= v) {
        db.exec("COMMIT");
        continue;
      }
      db.exec(kMigrations[v - 1]);
      SQLite::Statement mark(db, "INSERT INTO schema_migrations(version, applied_at) VALUES(?, ?)");
      mark.bind(1, v);
      mark.bind(2, static_cast<int64_t>(now_micros));
      mark.exec();
      db.exec("COMMIT");
    } catch (...) {
      db.exec("ROLLBACK");
      throw;
    }
  }
}

}  // namespace quay::db
