#include "db/schema.h"

#include <array>
#include <string>

#include "db/postgres_schema.h"
#include "db/sql_support.h"
#include "db/sqlite_connection.h"

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

// Version 3: identities, permissions, tokens, signing keys and the audit log
// (quay/identity.h, quay/audit.h, quay/signing_keys.h). Roles are integers so
// that MAX() picks the strongest grant: repository roles 1 read, 2 write,
// 3 admin; team roles 0 member, 1 creator, 2 admin.
// - account: users, organizations and robots share one name space (Quay's
//   User table). Robots are "<owner>+<short>" and die with their owner.
// - repository_settings: visibility and description of a repository. A
//   repository created by a Registry push without identities has no row and
//   counts as private; EnsureRepository adds the row (and applies prototypes).
// - Every table that hangs off an account, a team or a repository cascades, so
//   Registry::DeleteRepository and account deletion leave no dangling grants.
// - Token secrets are never stored: app and OAuth tokens are found by their
//   public lookup prefix, then the SHA-256 of the secret part is compared in
//   constant time; robot tokens are compared the same way against
//   account.token_hash.
// - audit_log: one row per event, never updated. Indexed for the three query
//   scopes (repository, namespace, performer) and time, each ending in
//   (created_at, id) for keyset paging newest first.
constexpr const char* kV3 = R"sql(
CREATE TABLE account (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  kind          TEXT NOT NULL CHECK (kind IN ('user', 'org', 'robot')),
  email         TEXT NOT NULL DEFAULT '',
  password_hash TEXT,
  token_hash    BLOB,
  owner_id      INTEGER REFERENCES account(id) ON DELETE CASCADE,
  description   TEXT NOT NULL DEFAULT '',
  enabled       INTEGER NOT NULL DEFAULT 1,
  created_at    INTEGER NOT NULL
);
CREATE INDEX account_owner ON account(owner_id) WHERE owner_id IS NOT NULL;
CREATE INDEX account_kind ON account(kind, name);

CREATE TABLE team (
  id          INTEGER PRIMARY KEY,
  org_id      INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  role        INTEGER NOT NULL CHECK (role BETWEEN 0 AND 2),
  description TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  UNIQUE (org_id, name)
);

CREATE TABLE team_member (
  team_id    INTEGER NOT NULL REFERENCES team(id) ON DELETE CASCADE,
  account_id INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
  PRIMARY KEY (team_id, account_id)
) WITHOUT ROWID;
CREATE INDEX team_member_account ON team_member(account_id);

CREATE TABLE repository_settings (
  repository_id INTEGER PRIMARY KEY REFERENCES repository(id) ON DELETE CASCADE,
  visibility    TEXT NOT NULL CHECK (visibility IN ('private', 'public')),
  description   TEXT NOT NULL DEFAULT ''
);

CREATE TABLE repository_permission (
  id            INTEGER PRIMARY KEY,
  repository_id INTEGER NOT NULL REFERENCES repository(id) ON DELETE CASCADE,
  account_id    INTEGER REFERENCES account(id) ON DELETE CASCADE,
  team_id       INTEGER REFERENCES team(id) ON DELETE CASCADE,
  role          INTEGER NOT NULL CHECK (role BETWEEN 1 AND 3),
  CHECK ((account_id IS NULL) <> (team_id IS NULL))
);
CREATE UNIQUE INDEX repository_permission_account
  ON repository_permission(repository_id, account_id) WHERE account_id IS NOT NULL;
CREATE UNIQUE INDEX repository_permission_team
  ON repository_permission(repository_id, team_id) WHERE team_id IS NOT NULL;
CREATE INDEX repository_permission_by_account
  ON repository_permission(account_id) WHERE account_id IS NOT NULL;
CREATE INDEX repository_permission_by_team
  ON repository_permission(team_id) WHERE team_id IS NOT NULL;

CREATE TABLE permission_prototype (
  id                    INTEGER PRIMARY KEY,
  uuid                  TEXT NOT NULL UNIQUE,
  org_id                INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
  activating_account_id INTEGER REFERENCES account(id) ON DELETE CASCADE,
  delegate_account_id   INTEGER REFERENCES account(id) ON DELETE CASCADE,
  delegate_team_id      INTEGER REFERENCES team(id) ON DELETE CASCADE,
  role                  INTEGER NOT NULL CHECK (role BETWEEN 1 AND 3),
  created_at            INTEGER NOT NULL,
  CHECK ((delegate_account_id IS NULL) <> (delegate_team_id IS NULL))
);
CREATE INDEX permission_prototype_org ON permission_prototype(org_id);

CREATE TABLE app_token (
  id           INTEGER PRIMARY KEY,
  uuid         TEXT NOT NULL UNIQUE,
  account_id   INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
  title        TEXT NOT NULL,
  lookup       TEXT NOT NULL UNIQUE,
  secret_hash  BLOB NOT NULL,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER,
  last_used_at INTEGER
);
CREATE INDEX app_token_account ON app_token(account_id);

CREATE TABLE oauth_token (
  id          INTEGER PRIMARY KEY,
  uuid        TEXT NOT NULL UNIQUE,
  account_id  INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
  application TEXT NOT NULL,
  scopes      INTEGER NOT NULL,
  lookup      TEXT NOT NULL UNIQUE,
  secret_hash BLOB NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER
);
CREATE INDEX oauth_token_account ON oauth_token(account_id);

CREATE TABLE signing_key (
  kid             TEXT PRIMARY KEY,
  service         TEXT NOT NULL,
  algorithm       TEXT NOT NULL,
  private_key_pem TEXT NOT NULL DEFAULT '',
  public_key_pem  TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  expires_at      INTEGER,
  rotated_at      INTEGER
) WITHOUT ROWID;
CREATE INDEX signing_key_service ON signing_key(service, created_at);

CREATE TABLE audit_log (
  id             INTEGER PRIMARY KEY,
  kind           TEXT NOT NULL,
  namespace_name TEXT NOT NULL DEFAULT '',
  repository     TEXT NOT NULL DEFAULT '',
  performer_kind TEXT NOT NULL,
  performer      TEXT NOT NULL DEFAULT '',
  token_kind     TEXT NOT NULL DEFAULT '',
  token_id       TEXT NOT NULL DEFAULT '',
  ip             TEXT NOT NULL DEFAULT '',
  request_id     TEXT NOT NULL DEFAULT '',
  metadata       TEXT NOT NULL DEFAULT '{}'
                 CHECK (json_valid(metadata) AND json_type(metadata) = 'object'),
  created_at     INTEGER NOT NULL
);
CREATE INDEX audit_log_time ON audit_log(created_at, id);
CREATE INDEX audit_log_repository ON audit_log(repository, created_at, id);
CREATE INDEX audit_log_namespace ON audit_log(namespace_name, created_at, id);
CREATE INDEX audit_log_performer ON audit_log(performer, created_at, id);
)sql";

// Version 4: change_epoch, advanced by triggers in every transaction that
// changes what the read caches hold (manifests and tags, blob links, and the
// facts the Authorizer decides on). A process notices other processes' writes
// by polling it (ConnectionPool::CacheGeneration); its own writes invalidate
// its caches directly. Tables whose rows no cache reads (blob, upload,
// manifest_blob, manifest_child, permission_prototype, signing_key,
// audit_log, app_token, oauth_token) have no trigger, so pull audit, upload
// bookkeeping and token logins (which touch last_used_at) never invalidate
// anything.
constexpr const char* kV4 = R"sql(
CREATE TABLE change_epoch (
  id     INTEGER PRIMARY KEY CHECK (id = 1),
  value  INTEGER NOT NULL
);
INSERT INTO change_epoch(id, value) VALUES (1, 0);

CREATE TRIGGER repository_epoch_i AFTER INSERT ON repository
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER repository_epoch_u AFTER UPDATE ON repository
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER repository_epoch_d AFTER DELETE ON repository
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER manifest_epoch_i AFTER INSERT ON manifest
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER manifest_epoch_u AFTER UPDATE ON manifest
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER manifest_epoch_d AFTER DELETE ON manifest
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER tag_epoch_i AFTER INSERT ON tag
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER tag_epoch_u AFTER UPDATE ON tag
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER tag_epoch_d AFTER DELETE ON tag
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER repository_blob_epoch_i AFTER INSERT ON repository_blob
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER repository_blob_epoch_u AFTER UPDATE ON repository_blob
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER repository_blob_epoch_d AFTER DELETE ON repository_blob
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER account_epoch_i AFTER INSERT ON account
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER account_epoch_u AFTER UPDATE ON account
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER account_epoch_d AFTER DELETE ON account
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER team_epoch_i AFTER INSERT ON team
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER team_epoch_u AFTER UPDATE ON team
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER team_epoch_d AFTER DELETE ON team
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER team_member_epoch_i AFTER INSERT ON team_member
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER team_member_epoch_u AFTER UPDATE ON team_member
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER team_member_epoch_d AFTER DELETE ON team_member
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER repository_settings_epoch_i AFTER INSERT ON repository_settings
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER repository_settings_epoch_u AFTER UPDATE ON repository_settings
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER repository_settings_epoch_d AFTER DELETE ON repository_settings
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER repository_permission_epoch_i AFTER INSERT ON repository_permission
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER repository_permission_epoch_u AFTER UPDATE ON repository_permission
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER repository_permission_epoch_d AFTER DELETE ON repository_permission
  BEGIN UPDATE change_epoch SET value = value + 1; END;
)sql";

// Version 5: audit_log rebuilt for a cheaper insert, the one write every
// pull makes. The metadata CHECK (json_valid + json_type: two JSON parses per
// row, about a quarter of a row's insert cost) goes; the appender validates
// metadata before it is queued (api/audit_log.cpp), the only writer. The
// indexes drop their trailing `id`: SQLite appends the rowid to every index
// entry anyway, so (x, created_at) orders by (x, created_at, id) without
// storing id twice.
constexpr const char* kV5 = R"sql(
CREATE TABLE audit_log_v5 (
  id             INTEGER PRIMARY KEY,
  kind           TEXT NOT NULL,
  namespace_name TEXT NOT NULL DEFAULT '',
  repository     TEXT NOT NULL DEFAULT '',
  performer_kind TEXT NOT NULL,
  performer      TEXT NOT NULL DEFAULT '',
  token_kind     TEXT NOT NULL DEFAULT '',
  token_id       TEXT NOT NULL DEFAULT '',
  ip             TEXT NOT NULL DEFAULT '',
  request_id     TEXT NOT NULL DEFAULT '',
  metadata       TEXT NOT NULL DEFAULT '{}',
  created_at     INTEGER NOT NULL
);
INSERT INTO audit_log_v5 (id, kind, namespace_name, repository, performer_kind, performer,
                          token_kind, token_id, ip, request_id, metadata, created_at)
  SELECT id, kind, namespace_name, repository, performer_kind, performer,
         token_kind, token_id, ip, request_id, metadata, created_at FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_v5 RENAME TO audit_log;
CREATE INDEX audit_log_time ON audit_log(created_at);
CREATE INDEX audit_log_repository ON audit_log(repository, created_at);
CREATE INDEX audit_log_namespace ON audit_log(namespace_name, created_at);
CREATE INDEX audit_log_performer ON audit_log(performer, created_at);
)sql";

// Version 6: the identity side of the /api/v1 REST API, and manifest labels.
// - manifest_label: Quay's ManifestLabel (the registry code writes it).
// - repository_settings.name: the repository's name copied beside its
//   visibility (set by a trigger on insert; repositories are never renamed),
//   so the public repositories are one index in name order
//   (repository_settings_public) and a keyset page of them costs the page, not
//   the number of private repositories before it.
// - star: a user's starred repositories (Quay's Star).
// - oauth_application: Quay's OAuthApplication, owned by an organization. The
//   client secret is sealed with the field cipher (auth/field_cipher.h) under
//   the database secret, bound to the client id, because Quay shows it to the
//   org's admins again.
// - oauth_authorization_code: codes of the authorization-code grant, stored
//   as a public lookup prefix and the SHA-256 of the secret part (as tokens).
// - oauth_token.application_id: the application a token was issued for (NULL
//   for tokens issued by application name only, as before).
// - oauth_assigned_token: FEATURE_ASSIGN_OAUTH_TOKEN's pending assignments.
// - repository_notification: Quay's RepositoryNotification; dies with the
//   repository.
constexpr const char* kV6 = R"sql(
CREATE TABLE manifest_label (id INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, manifest_id INTEGER NOT NULL REFERENCES manifest(id), key TEXT NOT NULL, value TEXT NOT NULL, media_type TEXT NOT NULL, source TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX manifest_label_manifest ON manifest_label(manifest_id);

ALTER TABLE repository_settings ADD COLUMN name TEXT;
UPDATE repository_settings
  SET name = (SELECT r.name FROM repository r WHERE r.id = repository_settings.repository_id);
CREATE TRIGGER repository_settings_name AFTER INSERT ON repository_settings
  WHEN NEW.name IS NULL
  BEGIN
    UPDATE repository_settings
      SET name = (SELECT r.name FROM repository r WHERE r.id = NEW.repository_id)
      WHERE repository_id = NEW.repository_id;
  END;
CREATE INDEX repository_settings_public ON repository_settings(name)
  WHERE visibility = 'public';

CREATE TABLE star (
  account_id    INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
  repository_id INTEGER NOT NULL REFERENCES repository(id) ON DELETE CASCADE,
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (account_id, repository_id)
) WITHOUT ROWID;
CREATE INDEX star_repository ON star(repository_id);

CREATE TABLE oauth_application (
  id              INTEGER PRIMARY KEY,
  client_id       TEXT NOT NULL UNIQUE,
  org_id          INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
  name            TEXT NOT NULL,
  description     TEXT NOT NULL DEFAULT '',
  application_uri TEXT NOT NULL DEFAULT '',
  redirect_uri    TEXT NOT NULL DEFAULT '',
  avatar_email    TEXT NOT NULL DEFAULT '',
  secret_sealed   TEXT NOT NULL,
  created_at      INTEGER NOT NULL
);
CREATE INDEX oauth_application_org ON oauth_application(org_id, name);

CREATE TABLE oauth_authorization_code (
  id             INTEGER PRIMARY KEY,
  lookup         TEXT NOT NULL UNIQUE,
  code_hash      BLOB NOT NULL,
  application_id INTEGER NOT NULL REFERENCES oauth_application(id) ON DELETE CASCADE,
  account_id     INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
  scopes         INTEGER NOT NULL,
  redirect_uri   TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  expires_at     INTEGER NOT NULL
);
CREATE INDEX oauth_authorization_code_expires ON oauth_authorization_code(expires_at);
CREATE INDEX oauth_authorization_code_application
  ON oauth_authorization_code(application_id);
CREATE INDEX oauth_authorization_code_account ON oauth_authorization_code(account_id);

ALTER TABLE oauth_token ADD COLUMN application_id INTEGER
  REFERENCES oauth_application(id) ON DELETE CASCADE;
CREATE INDEX oauth_token_application ON oauth_token(application_id, id)
  WHERE application_id IS NOT NULL;

CREATE TABLE oauth_assigned_token (
  id             INTEGER PRIMARY KEY,
  uuid           TEXT NOT NULL UNIQUE,
  application_id INTEGER NOT NULL REFERENCES oauth_application(id) ON DELETE CASCADE,
  account_id     INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
  assigner_id    INTEGER REFERENCES account(id) ON DELETE SET NULL,
  scopes         INTEGER NOT NULL,
  redirect_uri   TEXT NOT NULL DEFAULT '',
  response_type  TEXT NOT NULL DEFAULT '',
  created_at     INTEGER NOT NULL
);
CREATE INDEX oauth_assigned_token_account ON oauth_assigned_token(account_id);
CREATE INDEX oauth_assigned_token_application ON oauth_assigned_token(application_id);
CREATE INDEX oauth_assigned_token_assigner ON oauth_assigned_token(assigner_id)
  WHERE assigner_id IS NOT NULL;

CREATE TABLE repository_notification (
  id                 INTEGER PRIMARY KEY,
  uuid               TEXT NOT NULL UNIQUE,
  repository_id      INTEGER NOT NULL REFERENCES repository(id) ON DELETE CASCADE,
  event              TEXT NOT NULL,
  method             TEXT NOT NULL,
  title              TEXT NOT NULL DEFAULT '',
  config_json        TEXT NOT NULL DEFAULT '{}',
  event_config_json  TEXT NOT NULL DEFAULT '{}',
  number_of_failures INTEGER NOT NULL DEFAULT 0,
  created_at         INTEGER NOT NULL
);
CREATE INDEX repository_notification_repository ON repository_notification(repository_id, id);
)sql";

// v7: the sum of an image manifest's layers[].size, computed once when it is
// pushed, so that a tag page of 100 rows does not parse 100 manifests' JSON
// (NULL for an index, which has no layers array). And verified tokens are now
// cached (IdentityService's VerifyToken): deleting a token, or changing its
// secret or expiry, advances change_epoch, so that a token revoked by another
// process is refused here within the epoch poll interval (last_used_at
// stamps do not); stars too, since repository listings are cached with
// their is_starred flags.
constexpr const char* kV7 = R"sql(
CREATE TRIGGER app_token_epoch_d AFTER DELETE ON app_token
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER app_token_epoch_u AFTER UPDATE OF secret_hash, expires_at ON app_token
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER oauth_token_epoch_d AFTER DELETE ON oauth_token
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER oauth_token_epoch_u AFTER UPDATE OF secret_hash, expires_at ON oauth_token
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER star_epoch_i AFTER INSERT ON star
  BEGIN UPDATE change_epoch SET value = value + 1; END;
CREATE TRIGGER star_epoch_d AFTER DELETE ON star
  BEGIN UPDATE change_epoch SET value = value + 1; END;
ALTER TABLE manifest ADD COLUMN layers_size INTEGER;
UPDATE manifest SET layers_size = COALESCE(
    (SELECT SUM(json_extract(l.value, '$.size'))
     FROM json_each(CAST(content AS TEXT), '$.layers') l), 0)
  WHERE json_type(CAST(content AS TEXT), '$.layers') = 'array';
)sql";

// Version 8: global messages (Quay's Messages: the banners a superuser
// posts for every user of the web UI; no audit kind exists for them in
// Quay, and none is written here either) and user notifications (Quay's
// Notification: what the web UI's bell shows a user, or the admins of an
// organization when the target is an org; they die with the target).
constexpr const char* kV8 = R"sql(
CREATE TABLE user_notification (
  id         INTEGER PRIMARY KEY,
  uuid       TEXT NOT NULL UNIQUE,
  account_id INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
  kind       TEXT NOT NULL,
  metadata   TEXT NOT NULL DEFAULT '{}',
  dismissed  INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE INDEX user_notification_account ON user_notification(account_id, id);

CREATE TABLE global_message (
  id         INTEGER PRIMARY KEY,
  uuid       TEXT NOT NULL UNIQUE,
  content    TEXT NOT NULL,
  media_type TEXT NOT NULL CHECK (media_type IN ('text/plain', 'text/markdown')),
  severity   TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'error')),
  created_at INTEGER NOT NULL
);
)sql";

// Version 9: accounts get a `uuid` (Quay's User.uuid): 16 random bytes as
// hex, drawn for every existing row here and for every new row on insert,
// unique across every account that ever existed (the chance of two draws
// meeting is 2^-128 per pair). `id` cannot serve: without AUTOINCREMENT
// SQLite hands a deleted last row's id to the next insert, so an account
// re-created under a deleted one's name may get its id back. Registry
// tokens name their account by this value (Accounts::CheckCurrent), so a
// token outlives neither its account nor its re-creation. The column is
// nullable only because ALTER TABLE cannot add a NOT NULL column without a
// constant default; InsertAccountRow always fills it.
constexpr const char* kV9 = R"sql(
ALTER TABLE account ADD COLUMN uuid TEXT;
UPDATE account SET uuid = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX account_uuid ON account(uuid);
)sql";

// Version 10: tag policies (issue 13).
// - tag.expires_at: when a live row is due to end (Quay's lifetime_end_ms in
//   the future: the `expiration` of PUT .../tag/{tag} and the
//   quay.expires-after label). The registry ends due rows (end_at =
//   expires_at) before it reads or changes live tags, so every query that
//   asks `end_at IS NULL` stays as it is; tag_expiring finds the next due
//   row without a scan.
// - tag.immutable: Quay's Tag.immutable; an immutable live row cannot be
//   moved, deleted or given an expiration.
// - tag_policy: Quay's Namespace/RepositoryImmutabilityPolicy and
//   Namespace/RepositoryAutoPrunePolicy in one table, scoped either to an
//   account (namespace_id) or to a repository (repository_id); both cascade,
//   so a deleted or re-created namespace or repository inherits no policy.
//   `value` is Quay's text (a tag count, or a duration such as "7d").
// - namespace_quota / quota_limit: Quay's UserOrganizationQuota and
//   QuotaLimits (one quota per account; Warning and Reject thresholds in
//   percent of it).
// - namespace_usage: the bytes of the distinct blobs linked to a
//   namespace's repositories (each digest once per namespace), kept by the
//   triggers below inside the transaction that links or unlinks a blob, so
//   a push never scans. The insert trigger also refuses (RAISE ABORT "quota
//   exceeded", lib/db/sql_support.cpp: Denied) a link that takes the
//   namespace past its Reject threshold. A repository that changes
//   namespace (an organization rename) recounts both namespaces.
// - notification_delivery: the durable queue of webhook deliveries (one row
//   per event and notification, written in the transaction of the event:
//   the push, or the test endpoint), retried with back-off until delivered
//   (row deleted) or out of attempts (row kept, attempts = the maximum, for
//   inspection); it dies with its notification.
constexpr const char* kV10 = R"sql(
ALTER TABLE tag ADD COLUMN expires_at INTEGER;
ALTER TABLE tag ADD COLUMN immutable INTEGER NOT NULL DEFAULT 0;
CREATE INDEX tag_expiring ON tag(expires_at) WHERE end_at IS NULL AND expires_at IS NOT NULL;

CREATE TABLE tag_policy (
  id                  INTEGER PRIMARY KEY,
  uuid                TEXT NOT NULL UNIQUE,
  kind                TEXT NOT NULL CHECK (kind IN ('immutability', 'autoprune')),
  namespace_id        INTEGER REFERENCES account(id) ON DELETE CASCADE,
  repository_id       INTEGER REFERENCES repository(id) ON DELETE CASCADE,
  method              TEXT,
  value               TEXT,
  tag_pattern         TEXT,
  tag_pattern_matches INTEGER NOT NULL DEFAULT 1,
  created_at          INTEGER NOT NULL,
  CHECK ((namespace_id IS NULL) <> (repository_id IS NULL))
);
CREATE INDEX tag_policy_namespace ON tag_policy(kind, namespace_id) WHERE namespace_id IS NOT NULL;
CREATE INDEX tag_policy_repository ON tag_policy(kind, repository_id)
  WHERE repository_id IS NOT NULL;

CREATE TABLE namespace_quota (
  id           INTEGER PRIMARY KEY,
  namespace_id INTEGER NOT NULL UNIQUE REFERENCES account(id) ON DELETE CASCADE,
  limit_bytes  INTEGER NOT NULL CHECK (limit_bytes > 0),
  created_at   INTEGER NOT NULL
);
CREATE TABLE quota_limit (
  id       INTEGER PRIMARY KEY,
  quota_id INTEGER NOT NULL REFERENCES namespace_quota(id) ON DELETE CASCADE,
  kind     TEXT NOT NULL CHECK (kind IN ('Warning', 'Reject')),
  percent  INTEGER NOT NULL CHECK (percent > 0),
  UNIQUE (quota_id, kind, percent)
);

CREATE TABLE namespace_usage (
  namespace TEXT PRIMARY KEY,
  bytes     INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO namespace_usage(namespace, bytes)
  SELECT ns, SUM(size) FROM (
    SELECT DISTINCT substr(r.name, 1, instr(r.name, '/') - 1) AS ns, b.digest, b.size
    FROM repository_blob rb JOIN repository r ON r.id = rb.repository_id
    JOIN blob b ON b.digest = rb.digest)
  GROUP BY ns;

CREATE TRIGGER repository_blob_usage_i AFTER INSERT ON repository_blob
  WHEN NOT EXISTS (
    SELECT 1 FROM repository_blob o JOIN repository r ON r.id = o.repository_id
    WHERE o.digest = NEW.digest AND o.repository_id <> NEW.repository_id
      AND substr(r.name, 1, instr(r.name, '/') - 1) =
          (SELECT substr(name, 1, instr(name, '/') - 1) FROM repository WHERE id = NEW.repository_id))
  BEGIN
    INSERT INTO namespace_usage(namespace, bytes)
      SELECT substr(r.name, 1, instr(r.name, '/') - 1), b.size
      FROM repository r, blob b WHERE r.id = NEW.repository_id AND b.digest = NEW.digest
      ON CONFLICT(namespace) DO UPDATE SET bytes = bytes + excluded.bytes;
    SELECT RAISE(ABORT, 'quota exceeded')
      FROM namespace_usage u
      JOIN account a ON a.name = u.namespace
      JOIN namespace_quota q ON q.namespace_id = a.id
      JOIN quota_limit l ON l.quota_id = q.id AND l.kind = 'Reject'
      WHERE u.namespace = (SELECT substr(name, 1, instr(name, '/') - 1) FROM repository
                           WHERE id = NEW.repository_id)
        AND u.bytes > q.limit_bytes * l.percent / 100;
  END;

CREATE TRIGGER repository_blob_usage_d AFTER DELETE ON repository_blob
  WHEN NOT EXISTS (
    SELECT 1 FROM repository_blob o JOIN repository r ON r.id = o.repository_id
    WHERE o.digest = OLD.digest
      AND substr(r.name, 1, instr(r.name, '/') - 1) =
          (SELECT substr(name, 1, instr(name, '/') - 1) FROM repository WHERE id = OLD.repository_id))
  BEGIN
    UPDATE namespace_usage SET bytes = MAX(0, bytes - COALESCE(
        (SELECT size FROM blob WHERE digest = OLD.digest), 0))
      WHERE namespace = (SELECT substr(name, 1, instr(name, '/') - 1) FROM repository
                         WHERE id = OLD.repository_id);
  END;

CREATE TABLE notification_delivery (
  id              INTEGER PRIMARY KEY,
  notification_id INTEGER NOT NULL REFERENCES repository_notification(id) ON DELETE CASCADE,
  payload         TEXT NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error      TEXT NOT NULL DEFAULT '',
  created_at      INTEGER NOT NULL
);
CREATE INDEX notification_delivery_due ON notification_delivery(next_attempt_at);
CREATE INDEX notification_delivery_notification ON notification_delivery(notification_id);

CREATE TRIGGER repository_usage_rename AFTER UPDATE OF name ON repository
  WHEN substr(OLD.name, 1, instr(OLD.name, '/') - 1) <> substr(NEW.name, 1, instr(NEW.name, '/') - 1)
  BEGIN
    DELETE FROM namespace_usage WHERE namespace IN (substr(OLD.name, 1, instr(OLD.name, '/') - 1),
                                                     substr(NEW.name, 1, instr(NEW.name, '/') - 1));
    INSERT INTO namespace_usage(namespace, bytes)
      SELECT ns, SUM(size) FROM (
        SELECT DISTINCT substr(r.name, 1, instr(r.name, '/') - 1) AS ns, b.digest, b.size
        FROM repository r JOIN repository_blob rb ON rb.repository_id = r.id
        JOIN blob b ON b.digest = rb.digest
        WHERE substr(r.name, 1, instr(r.name, '/') - 1) IN
          (substr(OLD.name, 1, instr(OLD.name, '/') - 1), substr(NEW.name, 1, instr(NEW.name, '/') - 1)))
      GROUP BY ns;
  END;
)sql";

// Version 11: the notification events that are not a push (issue 13).
// - tag_notification: Quay's TagNotificationSuccess, the tags a
//   repo_image_expiry notification has already announced (each once); it
//   dies with the notification or the tag row.
// - quota_notification_state: Quay's QuotaNotificationState, one row per
//   namespace threshold that has been announced and not cleared since, so a
//   crossing is announced once, not once per push. A Warning row is
//   written by the link trigger below when usage passes the threshold and
//   cleared by the unlink trigger once usage is back at or under it; a
//   Reject row is written after a refused push (db/delivery_store.cpp) and
//   cleared by any unlink that lowers the usage. Deleting the quota or the
//   limit clears its rows.
// - repository_blob_usage_i and _d are rebuilt with those statements: the
//   warning is queued in the push's own transaction, for the quota_warning
//   notifications (of a delivered method) of every repository of the
//   namespace, due at once (next_attempt_at 0: the trigger has no clock;
//   created_at is the link's time). CROSS JOIN keeps the planner on the
//   namespace's quota first, so a namespace without one costs a PK probe.
constexpr const char* kV11 = R"sql(
CREATE TABLE tag_notification (
  notification_id INTEGER NOT NULL REFERENCES repository_notification(id) ON DELETE CASCADE,
  tag_id          INTEGER NOT NULL REFERENCES tag(id) ON DELETE CASCADE,
  PRIMARY KEY (notification_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX tag_notification_tag ON tag_notification(tag_id);
CREATE INDEX repository_notification_event ON repository_notification(event);

CREATE TABLE quota_notification_state (
  namespace   TEXT NOT NULL,
  kind        TEXT NOT NULL CHECK (kind IN ('Warning', 'Reject')),
  percent     INTEGER NOT NULL,
  notified_at INTEGER NOT NULL,
  PRIMARY KEY (namespace, kind, percent)
) WITHOUT ROWID;
CREATE TRIGGER namespace_quota_state_d AFTER DELETE ON namespace_quota
  BEGIN
    DELETE FROM quota_notification_state
      WHERE namespace = (SELECT name FROM account WHERE id = OLD.namespace_id);
  END;
CREATE TRIGGER quota_limit_state_d AFTER DELETE ON quota_limit
  BEGIN
    DELETE FROM quota_notification_state
      WHERE namespace = (SELECT a.name FROM namespace_quota q JOIN account a ON a.id = q.namespace_id
                         WHERE q.id = OLD.quota_id)
        AND kind = OLD.kind AND percent = OLD.percent;
  END;

DROP TRIGGER repository_blob_usage_i;
CREATE TRIGGER repository_blob_usage_i AFTER INSERT ON repository_blob
  WHEN NOT EXISTS (
    SELECT 1 FROM repository_blob o JOIN repository r ON r.id = o.repository_id
    WHERE o.digest = NEW.digest AND o.repository_id <> NEW.repository_id
      AND substr(r.name, 1, instr(r.name, '/') - 1) =
          (SELECT substr(name, 1, instr(name, '/') - 1) FROM repository WHERE id = NEW.repository_id))
  BEGIN
    INSERT INTO namespace_usage(namespace, bytes)
      SELECT substr(r.name, 1, instr(r.name, '/') - 1), b.size
      FROM repository r, blob b WHERE r.id = NEW.repository_id AND b.digest = NEW.digest
      ON CONFLICT(namespace) DO UPDATE SET bytes = bytes + excluded.bytes;
    SELECT RAISE(ABORT, 'quota exceeded')
      FROM namespace_usage u
      JOIN account a ON a.name = u.namespace
      JOIN namespace_quota q ON q.namespace_id = a.id
      JOIN quota_limit l ON l.quota_id = q.id AND l.kind = 'Reject'
      WHERE u.namespace = (SELECT substr(name, 1, instr(name, '/') - 1) FROM repository
                           WHERE id = NEW.repository_id)
        AND u.bytes > q.limit_bytes * l.percent / 100;
    INSERT INTO notification_delivery(notification_id, payload, next_attempt_at, created_at)
      SELECT n.id, json_object('namespace', u.namespace, 'repository', r.name,
               'name', substr(r.name, instr(r.name, '/') + 1), 'threshold_percent', l.percent,
               'usage_bytes', u.bytes, 'limit_bytes', q.limit_bytes,
               'usage_percent', u.bytes * 100 / q.limit_bytes), 0, NEW.created_at
      FROM namespace_usage u
      CROSS JOIN account a CROSS JOIN namespace_quota q CROSS JOIN quota_limit l
      CROSS JOIN repository_notification n CROSS JOIN repository r
      WHERE u.namespace = (SELECT substr(name, 1, instr(name, '/') - 1) FROM repository
                           WHERE id = NEW.repository_id)
        AND a.name = u.namespace AND q.namespace_id = a.id
        AND l.quota_id = q.id AND l.kind = 'Warning'
        AND u.bytes > q.limit_bytes * l.percent / 100
        AND NOT EXISTS (SELECT 1 FROM quota_notification_state s WHERE s.namespace = u.namespace
                        AND s.kind = 'Warning' AND s.percent = l.percent)
        AND n.event = 'quota_warning' AND n.method IN ('webhook', 'slack', 'quay_notification')
        AND r.id = n.repository_id AND substr(r.name, 1, instr(r.name, '/') - 1) = u.namespace;
    INSERT OR IGNORE INTO quota_notification_state(namespace, kind, percent, notified_at)
      SELECT u.namespace, 'Warning', l.percent, NEW.created_at
      FROM namespace_usage u CROSS JOIN account a CROSS JOIN namespace_quota q
      CROSS JOIN quota_limit l
      WHERE u.namespace = (SELECT substr(name, 1, instr(name, '/') - 1) FROM repository
                           WHERE id = NEW.repository_id)
        AND a.name = u.namespace AND q.namespace_id = a.id
        AND l.quota_id = q.id AND l.kind = 'Warning'
        AND u.bytes > q.limit_bytes * l.percent / 100;
  END;

DROP TRIGGER repository_blob_usage_d;
CREATE TRIGGER repository_blob_usage_d AFTER DELETE ON repository_blob
  WHEN NOT EXISTS (
    SELECT 1 FROM repository_blob o JOIN repository r ON r.id = o.repository_id
    WHERE o.digest = OLD.digest
      AND substr(r.name, 1, instr(r.name, '/') - 1) =
          (SELECT substr(name, 1, instr(name, '/') - 1) FROM repository WHERE id = OLD.repository_id))
  BEGIN
    UPDATE namespace_usage SET bytes = MAX(0, bytes - COALESCE(
        (SELECT size FROM blob WHERE digest = OLD.digest), 0))
      WHERE namespace = (SELECT substr(name, 1, instr(name, '/') - 1) FROM repository
                         WHERE id = OLD.repository_id);
    DELETE FROM quota_notification_state
      WHERE namespace = (SELECT substr(name, 1, instr(name, '/') - 1) FROM repository
                         WHERE id = OLD.repository_id)
        AND (kind = 'Reject'
             OR COALESCE((SELECT u.bytes FROM namespace_usage u
                          WHERE u.namespace = quota_notification_state.namespace), 0) <=
                COALESCE((SELECT q.limit_bytes FROM account a
                          JOIN namespace_quota q ON q.namespace_id = a.id
                          WHERE a.name = quota_notification_state.namespace), 0) * percent / 100);
  END;
)sql";

constexpr std::array kMigrations = {kV1, kV2, kV3, kV4, kV5, kV6, kV7, kV8, kV9, kV10, kV11};

}  // namespace

int LatestSchemaVersion() { return static_cast<int>(kMigrations.size()); }

namespace {

void MigrateSqlite(SQLite::Database& db, long long now_micros) {
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
      int applied = 0;
      {
        // Finished before the migration runs: DROP TABLE fails while any
        // statement of this connection is still active.
        SQLite::Statement again(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
        if (again.executeStep()) applied = again.getColumn(0).getInt();
      }
      if (applied >= v) {
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

// A fresh PostgreSQL database gets the latest schema in one script: it has no
// older version to migrate from. Migrations after version 11 are written for
// both dialects.
void MigratePostgres(Connection& c, long long now_micros) {
  // The writers' lock: two instances starting on an empty database must not
  // both create the schema.
  WriteTransaction txn(c);
  c.Exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)");
  int current = 0;
  {
    auto q = c.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (q->executeStep()) current = q->getColumn(0).getInt();
  }
  if (current == 0) {
    c.Exec(PostgresSchema());
    for (int v = 1; v <= LatestSchemaVersion(); ++v) {
      auto mark = c.Prepare("INSERT INTO schema_migrations(version, applied_at) VALUES(?, ?)");
      mark->bind(1, v);
      mark->bind(2, static_cast<int64_t>(now_micros));
      mark->exec();
    }
  } else if (current < LatestSchemaVersion()) {
    throw PostgresError("0A000",
                        "no PostgreSQL migration from schema version " + std::to_string(current));
  }
  c.Exec(PostgresTagListingIndexes());
  txn.Commit();
}

}  // namespace

void Migrate(Connection& c, long long now_micros) {
  if (c.dialect() == Dialect::kPostgres) {
    MigratePostgres(c, now_micros);
  } else {
    MigrateSqlite(static_cast<SqliteConnection&>(c).db(), now_micros);
  }
}

}  // namespace quay::db
