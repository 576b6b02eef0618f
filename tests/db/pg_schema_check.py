#!/usr/bin/python3
"""Differential check of lib/db/postgres_schema.cpp against lib/db/schema.cpp.

Builds the SQLite schema (kV1..kV11 of schema.cpp, in kMigrations order, plus
database.cpp's kTagListingIndexes) in an in-memory sqlite3 database and the
PostgreSQL schema (PostgresSchema() and PostgresTagListingIndexes(), each sent
as one query string, as one PQexec would) in a fresh PostgreSQL database, then
  1. compares the structure: columns (order, type, NOT NULL, default, primary
     key), foreign keys (ON DELETE), indexes (unique, partial, columns) and
     trigger names;
  2. runs the same DML steps on both (each step its own transaction; some are
     expected to fail, the quota refusal with "quota exceeded" on both and
     SQLSTATE 23514 on PostgreSQL) and compares every table, row by row in
     primary-key order (bytea and blob both shown as \\x hex), plus a few
     ORDER BY queries on text;
  3. counts trigger firings on both sides (a companion row trigger per
     trigger, same table, timing, event and WHEN where SQLite's WHEN has no
     subquery, logging into cov_log) and requires equal counts and every
     trigger fired; change_epoch, namespace_usage, quota_notification_state
     and notification_delivery are compared after every step.
Also loads PostgresEventsSchema() into a database of its own and into a
schema quay_audit of the main database (as audit_store.cpp does).

The PostgreSQL database is created with an ICU en-US default collation, so
that any text column that lost its COLLATE "C" shows up as an ordering
difference.

Run (as any user; as root the temporary server runs as `nobody`):
  /usr/bin/python3 tests/db/pg_schema_check.py
starts a temporary PostgreSQL server (binaries from --pg-bin, default
/usr/lib/postgresql/15/bin) in a temporary folder and removes it afterwards.
To use a running server instead (it creates and drops its own databases):
  /usr/bin/python3 tests/db/pg_schema_check.py --host /tmp/sock --port 5432 --user postgres
Exit status 0 when everything matches.
"""

import argparse
import collections
import json
import os
import pwd
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMA_CPP = os.path.join(ROOT, "lib/db/schema.cpp")
DATABASE_CPP = os.path.join(ROOT, "lib/db/database.cpp")
PG_SCHEMA_CPP = os.path.join(ROOT, "lib/db/postgres_schema.cpp")


# --- extracting the SQL ------------------------------------------------------


def raw_strings(path):
    text = open(path, encoding="utf-8").read()
    found = dict(re.findall(r'constexpr const char\* (\w+) = R"sql\((.*?)\)sql";', text, re.S))
    return text, found


def sqlite_migrations():
    text, found = raw_strings(SCHEMA_CPP)
    m = re.search(r"kMigrations = \{([^}]*)\}", text)
    names = [n.strip() for n in m.group(1).split(",") if n.strip()]
    assert names and all(n in found for n in names), names
    return [found[n] for n in names]


def sqlite_open_indexes():
    _, found = raw_strings(DATABASE_CPP)
    return found["kTagListingIndexes"]


def pg_strings(path):
    _, found = raw_strings(path)
    return found["kSchema"], found["kTagListingIndexes"], found["kEventsSchema"]


# --- PostgreSQL --------------------------------------------------------------


class PgServer:
    """A temporary server, or the coordinates of an existing one."""

    def __init__(self, args):
        self.tmp = None
        self.proc_user = None
        if args.host:
            self.host, self.port, self.user = args.host, str(args.port), args.user
            return
        self.tmp = tempfile.mkdtemp(prefix="pg_schema_check.")
        self.host, self.port, self.user = self.tmp, str(args.port or 55439), "postgres"
        run_as = []
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(self.tmp, nobody.pw_uid, nobody.pw_gid)
            run_as = ["runuser", "-u", "nobody", "--"]
        self.run_as = run_as
        data = os.path.join(self.tmp, "data")
        subprocess.run(run_as + [os.path.join(args.pg_bin, "initdb"), "-D", data, "-A", "trust",
                                 "-U", "postgres", "-E", "UTF8", "--locale=C"],
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run(run_as + [os.path.join(args.pg_bin, "pg_ctl"), "-D", data, "-w", "-o",
                                 "-k %s -p %s -c listen_addresses=''" % (self.tmp, self.port),
                                 "-l", os.path.join(self.tmp, "log"), "start"],
                       check=True, stdout=subprocess.DEVNULL)
        self.pg_ctl = os.path.join(args.pg_bin, "pg_ctl")
        self.data = data

    def stop(self):
        if self.tmp is None:
            return
        subprocess.run(self.run_as + [self.pg_ctl, "-D", self.data, "-m", "fast", "-w", "stop"],
                       stdout=subprocess.DEVNULL)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def psql(self, db, sql, check=True):
        """Runs `sql` as one query string (psql -c: one PQexec, one transaction)."""
        p = subprocess.run(["psql", "-X", "-q", "-At", "-h", self.host, "-p", self.port, "-U",
                            self.user, "-d", db, "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose",
                            "-c", sql], capture_output=True, text=True)
        if check and p.returncode != 0:
            raise RuntimeError("psql failed on %s:\n%s\n%s" % (db, sql[:2000], p.stderr))
        return p

    def query_json(self, db, sql):
        out = self.psql(db, "SELECT COALESCE(json_agg(to_json(q.*)), '[]') FROM (%s) q" % sql)
        return [list(r.values()) for r in json.loads(out.stdout)]


# --- SQLite ------------------------------------------------------------------


def sqlite_db():
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.execute("PRAGMA foreign_keys=ON")
    for sql in sqlite_migrations():
        # Statement by statement inside one transaction, as Migrate does
        # (executescript would commit first).
        db.execute("BEGIN")
        for stmt in split_sqlite(sql):
            db.execute(stmt)
        db.execute("COMMIT")
    for stmt in split_sqlite(sqlite_open_indexes()):
        db.execute(stmt)
    return db


def split_sqlite(script):
    out, cur = [], ""
    for line in script.splitlines(keepends=True):
        cur += line
        if sqlite3.complete_statement(cur):
            if cur.strip():
                out.append(cur.strip())
            cur = ""
    assert not cur.strip(), cur
    return out


def sqlite_value(v):
    if isinstance(v, bytes):
        return "\\x" + v.hex()
    return v


# --- dialect-neutral DML -----------------------------------------------------


def for_sqlite(sql):
    return re.sub(r"\{hex:([0-9a-f]*)\}", r"X'\1'", sql)


def for_pg(sql):
    return re.sub(r"\{hex:([0-9a-f]*)\}", r"'\\x\1'::bytea", sql)


def hexs(s):
    return s.encode().hex()


MANIFEST = hexs('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}')
OCI = "'application/vnd.oci.image.manifest.v1+json'"
BIG = 1700000000000000  # microseconds: beyond int4

# Each step: (statements, expectation). Statements of one step run in one
# transaction. Expectation None: succeeds on both; a string: fails on both,
# with that text in both messages ('' = any error). Ids are compared, so: no
# table gets a row after a failed insert into it (a failed insert consumes an
# identity value, not a rowid), nor after its highest id was deleted (SQLite
# hands that rowid out again, an identity never does).
STEPS = [
    # Accounts: 1 alice, 2 acme (org), 3 acme+bot (robot of acme), 4 beta,
    # 5 bob, 6 gamma, 7 delta.
    (["INSERT INTO account(name, kind, email, password_hash, created_at, uuid)"
      " VALUES ('alice', 'user', 'a@x', 'h', 1, 'u1')",
      "INSERT INTO account(name, kind, created_at, uuid) VALUES ('acme', 'org', 2, 'u2')",
      "INSERT INTO account(name, kind, token_hash, owner_id, created_at, uuid)"
      " VALUES ('acme+bot', 'robot', {hex:00ff10}, 2, 3, 'u3')",
      "INSERT INTO account(name, kind, created_at, uuid) VALUES ('beta', 'org', 4, 'u4')",
      "INSERT INTO account(name, kind, created_at, uuid) VALUES ('bob', 'user', 5, 'u5')",
      "INSERT INTO account(name, kind, created_at, uuid) VALUES ('gamma', 'org', 6, 'u6')",
      "INSERT INTO account(name, kind, created_at, uuid) VALUES ('delta', 'org', 7, 'u7')"], None),
    # Repositories: 1 acme/app, 2 acme/web, 3 solo (no namespace: ''),
    # 4 beta/x, 5 acme-x/y, 6 acme/a_b, 7 acme/a0b, 8 delta/r.
    (["INSERT INTO repository(name, created_at) VALUES ('acme/app', %d)" % BIG], None),
    (["INSERT INTO repository(name, created_at) VALUES ('acme/web', 2)",
      "INSERT INTO repository(name, created_at) VALUES ('solo', 3)",
      "INSERT INTO repository(name, created_at) VALUES ('beta/x', 4)",
      "INSERT INTO repository(name, created_at) VALUES ('acme-x/y', 5)",
      "INSERT INTO repository(name, created_at) VALUES ('acme/a_b', 6)",
      "INSERT INTO repository(name, created_at) VALUES ('acme/a0b', 7)",
      "INSERT INTO repository(name, created_at) VALUES ('delta/r', 8)"], None),
    (["INSERT INTO blob(digest, size, created_at) VALUES ('sha256:a', 100, 1)",
      "INSERT INTO blob(digest, size, created_at) VALUES ('sha256:b', 200, 1)",
      "INSERT INTO blob(digest, size, created_at) VALUES ('sha256:c', 300, 1)",
      "INSERT INTO blob(digest, size, created_at) VALUES ('sha256:d', 1000, 1)",
      "INSERT INTO blob(digest, size, created_at) VALUES ('sha256:e', 50, 1)",
      "INSERT INTO blob(digest, size, created_at) VALUES ('sha256:f', 10, 1)",
      "INSERT INTO blob(digest, size, created_at) VALUES ('sha256:g', 5, 1)",
      "INSERT INTO blob(digest, size, created_at) VALUES ('sha256:h', 200, 1)"], None),
    # Quotas: acme 1000 (Warning 50, Warning 80, Reject 100), beta 500
    # (Reject 100, Warning 10), delta 100 (Warning 1).
    (["INSERT INTO namespace_quota(namespace_id, limit_bytes, created_at) VALUES (2, 1000, 1)",
      "INSERT INTO quota_limit(quota_id, kind, percent) VALUES (1, 'Warning', 50)",
      "INSERT INTO quota_limit(quota_id, kind, percent) VALUES (1, 'Warning', 80)",
      "INSERT INTO quota_limit(quota_id, kind, percent) VALUES (1, 'Reject', 100)",
      "INSERT INTO namespace_quota(namespace_id, limit_bytes, created_at) VALUES (4, 500, 1)",
      "INSERT INTO quota_limit(quota_id, kind, percent) VALUES (2, 'Reject', 100)",
      "INSERT INTO quota_limit(quota_id, kind, percent) VALUES (2, 'Warning', 10)",
      "INSERT INTO namespace_quota(namespace_id, limit_bytes, created_at) VALUES (7, 100, 1)",
      "INSERT INTO quota_limit(quota_id, kind, percent) VALUES (3, 'Warning', 1)"], None),
    # Notifications: 1 acme/app quota_warning webhook, 2 acme/web email (not
    # a delivered method), 3 acme/web slack, 4 acme/app repo_image_expiry,
    # 5 beta/x quay_notification, 6 delta/r webhook.
    (["INSERT INTO repository_notification(uuid, repository_id, event, method, created_at)"
      " VALUES ('n1', 1, 'quota_warning', 'webhook', 1)",
      "INSERT INTO repository_notification(uuid, repository_id, event, method, created_at)"
      " VALUES ('n2', 2, 'quota_warning', 'email', 1)",
      "INSERT INTO repository_notification(uuid, repository_id, event, method, created_at)"
      " VALUES ('n3', 2, 'quota_warning', 'slack', 1)",
      "INSERT INTO repository_notification(uuid, repository_id, event, method, title,"
      " config_json, created_at) VALUES ('n4', 1, 'repo_image_expiry', 'webhook', 't',"
      " '{\"url\":\"http://x\"}', 1)",
      "INSERT INTO repository_notification(uuid, repository_id, event, method, created_at)"
      " VALUES ('n5', 4, 'quota_warning', 'quay_notification', 1)",
      "INSERT INTO repository_notification(uuid, repository_id, event, method, created_at)"
      " VALUES ('n6', 8, 'quota_warning', 'webhook', 1)"], None),
    # Links (repository_blob_usage_i).
    (["INSERT INTO repository_blob(repository_id, digest, created_at) VALUES (1, 'sha256:a', 10)"],
     None),  # acme 100
    (["INSERT INTO repository_blob(repository_id, digest, created_at) VALUES (2, 'sha256:a', 11)"],
     None),  # same namespace: not counted again
    (["INSERT INTO repository_blob(repository_id, digest, created_at) VALUES (3, 'sha256:a', 12)"],
     None),  # namespace '' 100
    (["INSERT INTO repository_blob(repository_id, digest, created_at) VALUES (1, 'sha256:b', 13)"],
     None),  # acme 300
    (["INSERT INTO repository_blob(repository_id, digest, created_at) VALUES (1, 'sha256:c', 14)"],
     None),  # acme 600: Warning 50 (n1, n3 queued)
    (["INSERT INTO repository_blob(repository_id, digest, created_at) VALUES (2, 'sha256:d', 15)"],
     "quota exceeded"),  # acme 1600 > 1000
    (["INSERT INTO repository_blob(repository_id, digest, created_at) VALUES (1, 'sha256:a', 20)"
      " ON CONFLICT(repository_id, digest) DO UPDATE SET created_at = excluded.created_at"],
     None),  # a re-link: epoch_u, no usage change
    (["INSERT INTO repository_blob(repository_id, digest, created_at) VALUES (2, 'sha256:a', 21)"
      " ON CONFLICT DO NOTHING"], None),
    (["INSERT INTO repository_blob(repository_id, digest, created_at)"
      " SELECT id, 'sha256:f', 30 FROM repository WHERE name IN ('acme/app', 'acme/web')"],
     None),  # two links of one digest in one statement: acme 610
    (["INSERT INTO repository_blob(repository_id, digest, created_at) VALUES (2, 'sha256:e', 31)"],
     None),  # acme 660
    (["INSERT INTO repository_blob(repository_id, digest, created_at) VALUES (2, 'sha256:h', 32)"],
     None),  # acme 860: Warning 80 (n1, n3)
    (["INSERT INTO repository_blob(repository_id, digest, created_at) VALUES (4, 'sha256:e', 33)"],
     None),  # beta 50, not > 50
    (["INSERT INTO repository_blob(repository_id, digest, created_at) VALUES (4, 'sha256:f', 34)"],
     None),  # beta 60: Warning 10 (n5)
    (["INSERT INTO repository_blob(repository_id, digest, created_at) VALUES (8, 'sha256:g', 35)"],
     None),  # delta 5: Warning 1 (n6)
    (["INSERT INTO repository_blob(repository_id, digest, created_at) VALUES (3, 'sha256:b', 36)"],
     None),  # '' 300, no quota
    (["INSERT INTO repository_blob(repository_id, digest, created_at) VALUES (1, 'sha256:d', 37)"],
     "quota exceeded"),
    # A refused push's Reject announcement (db/delivery_store.cpp).
    (["INSERT INTO quota_notification_state(namespace, kind, percent, notified_at)"
      " VALUES ('acme', 'Reject', 100, 40)"], None),
    # Manifests and tags.
    (["INSERT INTO manifest(repository_id, digest, media_type, size, content, created_at,"
      " config_media_type, annotations, layers_size) VALUES (1, 'sha256:m1', %s, 80, {hex:%s},"
      " %d, 'application/vnd.oci.image.config.v1+json', '{\"k\":\"v\"}', 300)"
      % (OCI, MANIFEST, BIG),
      "INSERT INTO manifest(repository_id, digest, media_type, artifact_type, subject_digest,"
      " size, content, created_at) VALUES (1, 'sha256:m2', %s, 'application/x', 'sha256:m1',"
      " 80, {hex:%s}, 2)" % (OCI, MANIFEST),
      "INSERT INTO manifest(repository_id, digest, media_type, size, content, created_at)"
      " VALUES (1, 'sha256:m3', 'application/vnd.oci.image.index.v1+json', 3, {hex:7b7d}, 3)",
      "INSERT INTO manifest_child(parent_id, child_id) VALUES (3, 1)",
      "INSERT INTO manifest_child(parent_id, child_id) VALUES (3, 2)",
      "INSERT INTO manifest_blob(manifest_id, digest) VALUES (1, 'sha256:a')",
      "INSERT INTO manifest_blob(manifest_id, digest) VALUES (1, 'sha256:b')",
      "INSERT INTO manifest_label(uuid, manifest_id, key, value, media_type, source, created_at)"
      " VALUES ('l1', 1, 'quay.expires-after', '7d', 'text/plain', 'manifest', 4)"], None),
    (["INSERT INTO tag(repository_id, name, manifest_id, start_at) VALUES (1, 'latest', 1, 100)",
      "INSERT INTO tag(repository_id, name, manifest_id, start_at, expires_at)"
      " VALUES (1, 'v1', 2, 101, %d)" % (BIG + 1)], None),
    # Moving a tag: end the live row, start a new one.
    (["UPDATE tag SET end_at = 200 WHERE repository_id = 1 AND name = 'latest' AND end_at IS NULL",
      "INSERT INTO tag(repository_id, name, manifest_id, start_at) VALUES (1, 'latest', 2, 200)"],
     None),
    (["UPDATE tag SET immutable = 1 WHERE id = 3"], None),
    (["INSERT INTO tag(repository_id, name, manifest_id, start_at) VALUES (1, 'latest', 1, 300)"],
     ""),  # a second live row (tag_live); no tag is inserted after it
    (["INSERT INTO tag_notification(notification_id, tag_id) VALUES (4, 3)",
      "INSERT INTO tag_notification(notification_id, tag_id) VALUES (4, 2)"], None),
    (["UPDATE manifest SET deleted_at = 300 WHERE id = 2"], None),
    (["DELETE FROM tag WHERE id = 2"], None),  # cascades tag_notification (4, 2)
    (["DELETE FROM manifest_child WHERE parent_id = 3", "DELETE FROM manifest WHERE id = 3"], None),
    # Teams, permissions, settings, stars.
    (["INSERT INTO team(org_id, name, role, created_at) VALUES (2, 'owners', 2, 1)",
      "INSERT INTO team(org_id, name, role, description, created_at)"
      " VALUES (2, 'readers', 0, 'r', 1)",
      "INSERT INTO team_member(team_id, account_id) VALUES (1, 1)",
      "INSERT INTO team_member(team_id, account_id) VALUES (2, 5)",
      "INSERT INTO team_member(team_id, account_id) VALUES (2, 3)"], None),
    (["UPDATE team SET description = 'readers of acme' WHERE id = 2"], None),
    (["UPDATE team_member SET account_id = 5 WHERE team_id = 1 AND account_id = 1"], None),
    (["DELETE FROM team_member WHERE team_id = 2 AND account_id = 3"], None),
    (["INSERT INTO repository_permission(repository_id, account_id, role) VALUES (1, 1, 1)",
      "INSERT INTO repository_permission(repository_id, team_id, role) VALUES (1, 1, 3)",
      "INSERT INTO repository_permission(repository_id, account_id, role) VALUES (2, 5, 2)"],
     None),
    (["UPDATE repository_permission SET role = 2 WHERE id = 1"], None),
    (["DELETE FROM repository_permission WHERE id = 1"], None),
    (["INSERT INTO permission_prototype(uuid, org_id, activating_account_id, delegate_team_id,"
      " role, created_at) VALUES ('p1', 2, 1, 1, 1, 1)"], None),
    (["INSERT INTO repository_settings(repository_id, visibility) VALUES (1, 'public')"],
     None),  # repository_settings_name fills name
    (["INSERT INTO repository_settings(repository_id, visibility, description, name)"
      " VALUES (5, 'public', 'd', 'given')",
      "INSERT INTO repository_settings(repository_id, visibility) VALUES (6, 'public')",
      "INSERT INTO repository_settings(repository_id, visibility) VALUES (7, 'public')",
      "INSERT INTO repository_settings(repository_id, visibility) VALUES (2, 'private')"], None),
    (["UPDATE repository_settings SET visibility = 'private' WHERE repository_id = 5"], None),
    (["DELETE FROM repository_settings WHERE repository_id = 5"], None),
    (["INSERT INTO star(account_id, repository_id, created_at) VALUES (1, 1, 1)",
      "INSERT INTO star(account_id, repository_id, created_at) VALUES (5, 1, 1)",
      "INSERT INTO star(account_id, repository_id, created_at) VALUES (5, 2, 1)"], None),
    (["DELETE FROM star WHERE account_id = 5 AND repository_id = 2"], None),
    # Tokens: only deletes and secret/expiry changes advance the epoch.
    (["INSERT INTO app_token(uuid, account_id, title, lookup, secret_hash, created_at)"
      " VALUES ('t1', 1, 'ci', 'look1', {hex:abcd}, 1)",
      "INSERT INTO app_token(uuid, account_id, title, lookup, secret_hash, created_at)"
      " VALUES ('t2', 5, 'ci', 'look2', {hex:abce}, 1)"], None),
    (["UPDATE app_token SET last_used_at = 9 WHERE id = 1"], None),
    (["UPDATE app_token SET expires_at = %d WHERE id = 1" % BIG], None),
    (["UPDATE app_token SET secret_hash = {hex:beef}, title = 'x' WHERE id = 2"], None),
    (["DELETE FROM app_token WHERE id = 1"], None),
    (["INSERT INTO oauth_application(client_id, org_id, name, secret_sealed, created_at)"
      " VALUES ('c1', 2, 'app', 'sealed', 1)",
      "INSERT INTO oauth_token(uuid, account_id, application, scopes, lookup, secret_hash,"
      " created_at, application_id) VALUES ('o1', 1, 'app', 3, 'ol1', {hex:01}, 1, 1)",
      "INSERT INTO oauth_token(uuid, account_id, application, scopes, lookup, secret_hash,"
      " created_at) VALUES ('o2', 5, 'other', 1, 'ol2', {hex:02}, 1)",
      "INSERT INTO oauth_token(uuid, account_id, application, scopes, lookup, secret_hash,"
      " created_at) VALUES ('o3', 5, 'other', 1, 'ol3', {hex:03}, 1)",
      "INSERT INTO oauth_authorization_code(lookup, code_hash, application_id, account_id,"
      " scopes, redirect_uri, created_at, expires_at) VALUES ('ac1', {hex:04}, 1, 5, 1, 'r', 1, 2)",
      "INSERT INTO oauth_assigned_token(uuid, application_id, account_id, assigner_id, scopes,"
      " created_at) VALUES ('as1', 1, 5, 1, 1, 1)"], None),
    (["UPDATE oauth_token SET scopes = 7 WHERE id = 2"], None),
    (["UPDATE oauth_token SET expires_at = 5 WHERE id = 2"], None),
    (["UPDATE oauth_token SET secret_hash = {hex:09} WHERE id = 3"], None),
    (["DELETE FROM oauth_token WHERE id = 2"], None),
    (["UPDATE account SET enabled = 0, description = 'off' WHERE id = 5"], None),
    # Tables no trigger watches.
    (["INSERT INTO signing_key(kid, service, algorithm, public_key_pem, created_at)"
      " VALUES ('k1', 'quay', 'RS256', 'pem', 1)",
      "INSERT INTO audit_log(kind, performer_kind, metadata, created_at)"
      " VALUES ('push_repo', 'user', '{\"a\":1}', %d)" % BIG,
      "INSERT INTO upload(id, repository, byte_offset, created_at, updated_at)"
      " VALUES ('up1', 'acme/app', 0, 1, 1)",
      "INSERT INTO user_notification(uuid, account_id, kind, created_at)"
      " VALUES ('un1', 1, 'repo_push', 1)",
      "INSERT INTO global_message(uuid, content, media_type, severity, created_at)"
      " VALUES ('g1', 'hi', 'text/plain', 'info', 1)",
      "INSERT INTO tag_policy(uuid, kind, namespace_id, method, value, created_at)"
      " VALUES ('tp1', 'autoprune', 2, 'number_of_tags', '10', 1)",
      "INSERT INTO tag_policy(uuid, kind, repository_id, tag_pattern, created_at)"
      " VALUES ('tp2', 'immutability', 1, 'v.*', 1)",
      "INSERT INTO notification_delivery(notification_id, payload, next_attempt_at, created_at)"
      " VALUES (4, '{}', 5, 5)"], None),
    # Renames (repository_usage_rename).
    (["UPDATE repository SET name = 'acme/app1' WHERE id = 1"], None),  # same namespace
    (["UPDATE repository SET name = 'beta/web' WHERE id = 2"], None),  # acme 610, beta 360
    (["UPDATE repository SET name = 'gamma/' || substr(name, 6)"
      " WHERE name >= 'beta/' AND name < 'beta0'"], None),  # two rows: beta gone, gamma 360
    # Unlinks (repository_blob_usage_d).
    (["DELETE FROM repository_blob WHERE repository_id = 1 AND digest = 'sha256:f'"],
     None),  # acme 600: Reject and Warning 80 cleared, Warning 50 kept
    (["DELETE FROM repository_blob WHERE repository_id = 1 AND digest = 'sha256:c'"],
     None),  # acme 300: Warning 50 cleared
    # A Reject announcement is cleared by any unlink that lowers the usage,
    # even above the threshold (the limit was lowered under the usage); a
    # Warning one only at or under its threshold.
    (["UPDATE namespace_quota SET limit_bytes = 50 WHERE id = 1",
      "INSERT INTO quota_notification_state(namespace, kind, percent, notified_at)"
      " VALUES ('acme', 'Reject', 100, 41)",
      "INSERT INTO quota_notification_state(namespace, kind, percent, notified_at)"
      " VALUES ('acme', 'Warning', 50, 41)"], None),
    (["DELETE FROM repository_blob WHERE repository_id = 1 AND digest = 'sha256:b'"],
     None),  # acme 100 > 50: Reject cleared, Warning 50 kept
    (["DELETE FROM repository_blob WHERE repository_id = 4 AND digest = 'sha256:f'"],
     None),  # gamma/web still holds f: no change
    (["DELETE FROM repository_blob WHERE digest = 'sha256:e' AND repository_id IN"
      " (SELECT id FROM repository WHERE name >= 'gamma/' AND name < 'gamma0')"],
     None),  # two links of e in one statement: gamma 310, not 260
    (["DELETE FROM repository_blob WHERE repository_id = 3 AND digest = 'sha256:a'"], None),
    # Deleting a limit, then a quota, clears their announcements.
    (["INSERT INTO quota_limit(quota_id, kind, percent) VALUES (3, 'Reject', 100)",
      "INSERT INTO quota_notification_state(namespace, kind, percent, notified_at)"
      " VALUES ('delta', 'Reject', 100, 50)",
      "INSERT INTO quota_notification_state(namespace, kind, percent, notified_at)"
      " VALUES ('delta', 'Warning', 7, 50)"], None),
    (["DELETE FROM quota_limit WHERE quota_id = 3 AND kind = 'Warning'"], None),
    (["DELETE FROM namespace_quota WHERE id = 3"], None),
    # An account deleted with its quota: the cascade runs once the account row
    # is gone, so its announcements stay (both).
    (["INSERT INTO quota_notification_state(namespace, kind, percent, notified_at)"
      " VALUES ('beta', 'Reject', 100, 60)"], None),
    (["DELETE FROM account WHERE id = 4"], None),
    # The rest of gamma, set-based, as identity_store.cpp deletes a namespace.
    (["DELETE FROM repository_blob WHERE repository_id IN (SELECT id FROM repository"
      " WHERE name >= 'gamma/' AND name < 'gamma0')"], None),
    # Registry::DeleteRepository of acme/app1 (database.cpp), then the org.
    (["DELETE FROM tag WHERE repository_id = 1",
      "DELETE FROM manifest_child WHERE parent_id IN (SELECT id FROM manifest"
      " WHERE repository_id = 1)",
      "DELETE FROM manifest_blob WHERE manifest_id IN (SELECT id FROM manifest"
      " WHERE repository_id = 1)",
      "DELETE FROM manifest_label WHERE manifest_id IN (SELECT id FROM manifest"
      " WHERE repository_id = 1)",
      "DELETE FROM manifest WHERE repository_id = 1",
      "DELETE FROM repository_blob WHERE repository_id = 1",
      "DELETE FROM repository WHERE id = 1"], None),
    (["DELETE FROM account WHERE id = 2"], None),  # robot, teams, quota, OAuth app, ...
    (["DELETE FROM account WHERE id = 1"], None),  # assigner_id SET NULL, stars, tokens
    # Refusals that consume identity values on PostgreSQL only: last.
    (["INSERT INTO repository_blob(repository_id, digest, created_at) VALUES (99, 'sha256:a', 1)"],
     ""),  # foreign key
    (["INSERT INTO repository_permission(repository_id, account_id, role) VALUES (2, 5, 9)"], ""),
    (["INSERT INTO change_epoch(value) VALUES (5)"], ""),  # CHECK (id = 1)
    (["INSERT INTO account(name, kind, created_at) VALUES ('bob', 'user', 1)"], ""),
    (["INSERT INTO account(name, kind, created_at) VALUES ('zed', 'alien', 1)"], ""),
]

QUERIES = [
    "SELECT name FROM repository ORDER BY name",
    "SELECT name FROM repository_settings WHERE visibility = 'public' ORDER BY name",
    "SELECT name FROM repository WHERE name >= 'acme/' AND name < 'acme0' ORDER BY name DESC",
    "SELECT namespace, bytes FROM namespace_usage ORDER BY namespace",
    "SELECT name, uuid FROM account ORDER BY name",
]


# Compared after every step, so that an intermediate difference that a later
# step would hide (usage clamped at 0, announcements a later delete clears)
# still shows.
SNAPSHOTS = [
    "SELECT namespace, bytes FROM namespace_usage ORDER BY namespace",
    "SELECT namespace, kind, percent, notified_at FROM quota_notification_state"
    " ORDER BY namespace, kind, percent",
    "SELECT id, value FROM change_epoch ORDER BY id",
    "SELECT id, notification_id, payload, created_at FROM notification_delivery ORDER BY id",
]


def snapshot_sqlite(sdb):
    return [[[sqlite_value(v) for v in r] for r in sdb.execute(q)] for q in SNAPSHOTS]


def snapshot_pg(pg, db):
    sql = "SELECT json_build_array(%s)" % ", ".join(
        "(SELECT COALESCE(json_agg(to_json(q.*)), '[]') FROM (%s) q)" % q for q in SNAPSHOTS)
    out = json.loads(pg.psql(db, sql).stdout)
    return [[list(r.values()) for r in rows] for rows in out]


def run_steps(sdb, pg, db):
    problems = []
    for i, (stmts, expect) in enumerate(STEPS):
        s_err = None
        try:
            sdb.execute("BEGIN")
            for st in stmts:
                sdb.execute(for_sqlite(st))
            sdb.execute("COMMIT")
        except sqlite3.Error as e:
            s_err = str(e)
            if sdb.in_transaction:
                sdb.execute("ROLLBACK")
        p = pg.psql(db, ";\n".join(for_pg(st) for st in stmts), check=False)
        p_err = p.stderr.strip() if p.returncode != 0 else None
        where = "step %d (%s)" % (i, stmts[0][:70])
        if expect is None:
            if s_err or p_err:
                problems.append("%s: sqlite error %r, postgres error %r" % (where, s_err, p_err))
        else:
            if s_err is None or p_err is None:
                problems.append("%s: expected a failure on both, sqlite %r, postgres %r"
                                % (where, s_err, p_err))
            elif expect and (expect not in s_err or expect not in p_err):
                problems.append("%s: expected %r in both, sqlite %r, postgres %r"
                                % (where, expect, s_err, p_err))
            elif expect == "quota exceeded" and "23514" not in p_err:
                problems.append("%s: postgres SQLSTATE is not 23514: %r" % (where, p_err))
        s_snap, p_snap = snapshot_sqlite(sdb), snapshot_pg(pg, db)
        for q, a, b in zip(SNAPSHOTS, s_snap, p_snap):
            if a != b:
                problems.append("%s: %s differs:\n  sqlite   %s\n  postgres %s" % (where, q, a, b))
    return problems


# --- structure ---------------------------------------------------------------


def sqlite_tables(sdb):
    return [r[0] for r in sdb.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " AND name <> 'cov_log' ORDER BY name")]


def norm_default(d):
    if d is None:
        return None
    return re.sub(r"::(text|bigint|integer)$", "", str(d))


def compare_structure(sdb, pg, db):
    problems = []
    tables = sqlite_tables(sdb)
    pg_tables = [r[0] for r in pg.query_json(
        db, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'cov_log'"
            " ORDER BY tablename")]
    if tables != pg_tables:
        problems.append("tables differ: sqlite %s, postgres %s" % (tables, pg_tables))
    type_map = {"INTEGER": "bigint", "TEXT": "text", "BLOB": "bytea"}
    for t in tables:
        s_cols = [(r[1], type_map.get(r[2], r[2]), bool(r[3]) or r[5] > 0, norm_default(r[4]), r[5])
                  for r in sdb.execute("PRAGMA table_info(%s)" % t)]
        p_cols = [(r[0], r[1], r[2], norm_default(r[3]), r[4]) for r in pg.query_json(db, """
            SELECT a.attname, format_type(a.atttypid, NULL), a.attnotnull,
                   pg_get_expr(d.adbin, d.adrelid),
                   COALESCE(array_position(c.conkey, a.attnum), 0)
            FROM pg_attribute a
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            LEFT JOIN pg_constraint c ON c.conrelid = a.attrelid AND c.contype = 'p'
            WHERE a.attrelid = 'public.%s'::regclass AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum""" % t)]
        if s_cols != p_cols:
            problems.append("columns of %s differ:\n  sqlite   %s\n  postgres %s" % (t, s_cols, p_cols))
        s_coll = [r[0] for r in pg.query_json(db, """
            SELECT a.attname FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation
            WHERE a.attrelid = 'public.%s'::regclass AND a.attnum > 0
              AND a.atttypid = 'text'::regtype AND c.collname <> 'C'""" % t)]
        if s_coll:
            problems.append("text columns of %s not COLLATE \"C\": %s" % (t, s_coll))
        s_fk = sorted((r[2], r[3], r[4], r[6]) for r in sdb.execute(
            "PRAGMA foreign_key_list(%s)" % t))
        p_fk = sorted(tuple(r) for r in pg.query_json(db, """
            SELECT cf.relname, af.attname AS from_col, at.attname AS to_col,
                   CASE c.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT'
                     WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' ELSE 'SET DEFAULT' END
            FROM pg_constraint c JOIN pg_class cf ON cf.oid = c.confrelid
            JOIN pg_attribute af ON af.attrelid = c.conrelid AND af.attnum = c.conkey[1]
            JOIN pg_attribute at ON at.attrelid = c.confrelid AND at.attnum = c.confkey[1]
            WHERE c.conrelid = 'public.%s'::regclass AND c.contype = 'f'""" % t))
        if s_fk != p_fk:
            problems.append("foreign keys of %s differ: sqlite %s, postgres %s" % (t, s_fk, p_fk))
        # Indexes: the explicitly named ones; SQLite's sqlite_autoindex_* are
        # PostgreSQL's constraint indexes (t_pkey, t_col_key): compared by
        # their column lists.
        s_idx, s_auto = {}, set()
        for r in sdb.execute("PRAGMA index_list(%s)" % t):
            cols = tuple(c[2] if c[1] >= 0 else "<expr>" for c in
                         sdb.execute("PRAGMA index_info(%s)" % r[1]))
            if r[1].startswith("sqlite_autoindex_") or r[3] == "pk":
                s_auto.add((cols, bool(r[2])))
            else:
                s_idx[r[1]] = (bool(r[2]), bool(r[4]), cols)
        p_idx, p_auto = {}, set()
        for name, unique, partial, cols, constraint in pg.query_json(db, """
            SELECT c.relname, i.indisunique, i.indpred IS NOT NULL,
                   ARRAY(SELECT COALESCE(a.attname, '<expr>') FROM unnest(i.indkey)
                         WITH ORDINALITY k(attnum, n)
                         LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid
                           AND a.attnum = k.attnum AND k.attnum > 0 ORDER BY k.n),
                   EXISTS (SELECT 1 FROM pg_constraint x WHERE x.conindid = i.indexrelid)
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = 'public.%s'::regclass""" % t):
            if constraint:
                p_auto.add((tuple(cols), unique))
            else:
                p_idx[name] = (unique, partial, tuple(cols))
        # A SQLite rowid alias key has no index of its own.
        rowid = [r[1] for r in sdb.execute("PRAGMA table_info(%s)" % t)
                 if r[5] == 1 and r[2] == "INTEGER"]
        pks = [r for r in sdb.execute("PRAGMA table_info(%s)" % t) if r[5] > 0]
        if rowid and len(pks) == 1:
            s_auto.add(((rowid[0],), True))
        if s_idx != p_idx:
            problems.append("indexes of %s differ:\n  sqlite   %s\n  postgres %s" % (t, s_idx, p_idx))
        if s_auto != p_auto:
            problems.append("key indexes of %s differ: sqlite %s, postgres %s" % (t, s_auto, p_auto))
    s_trig = sorted(r[0] for r in sdb.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
    p_trig = sorted(r[0] for r in pg.query_json(
        db, "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))
    if s_trig != p_trig:
        problems.append("triggers differ: sqlite %s, postgres %s" % (s_trig, p_trig))
    # Identity columns where SQLite has a rowid alias (repository_settings'
    # key is the repository's id, deliberately not an identity).
    for t in tables:
        pks = [r for r in sdb.execute("PRAGMA table_info(%s)" % t) if r[5] > 0]
        alias = len(pks) == 1 and pks[0][2] == "INTEGER"
        ident = pg.query_json(db, """
            SELECT attname FROM pg_attribute WHERE attrelid = 'public.%s'::regclass
              AND attidentity = 'd'""" % t)
        want = [[pks[0][1]]] if alias and t != "repository_settings" else []
        if ident != want:
            problems.append("identity columns of %s: %s, expected %s" % (t, ident, want))
    return problems, s_trig


# --- trigger coverage --------------------------------------------------------


def add_coverage(sdb, pg, db):
    sdb.execute("CREATE TABLE cov_log (name TEXT)")
    for name, sql in sdb.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall():
        m = re.match(r"CREATE TRIGGER\s+(\w+)\s+(BEFORE|AFTER)\s+(.*?)\s+ON\s+(\w+)\s*"
                     r"(?:WHEN\s+(.*?))?\s*BEGIN\b", sql, re.S)
        assert m, sql
        when = m.group(5)
        # A WHEN with a subquery is evaluated inside the PostgreSQL function,
        # whose companion cannot see it: count the events instead.
        when_sql = " WHEN %s" % when if when and "SELECT" not in when.upper() else ""
        sdb.execute("CREATE TRIGGER zz_cov_%s %s %s ON %s%s BEGIN INSERT INTO cov_log(name)"
                    " VALUES ('%s'); END" % (name, m.group(2), m.group(3), m.group(4), when_sql,
                                             name))
    stmts = ["CREATE TABLE cov_log (name TEXT)",
             """CREATE FUNCTION cov_log_fn() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  INSERT INTO cov_log(name) VALUES (TG_ARGV[0]);
                  IF TG_WHEN = 'BEFORE' THEN
                    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
                    RETURN NEW;
                  END IF;
                  RETURN NULL;
                END $$"""]
    for name, ddl in pg.query_json(db, "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger"
                                       " WHERE NOT tgisinternal"):
        ddl = re.sub(r"^CREATE TRIGGER \w+ ", "CREATE TRIGGER zz_cov_%s " % name, ddl)
        ddl = re.sub(r"REFERENCING .*? FOR EACH", "FOR EACH", ddl)
        # Statement-level triggers (change_epoch, unlink usage) are counted
        # per row, as SQLite's.
        ddl = ddl.replace("FOR EACH STATEMENT", "FOR EACH ROW")
        ddl = re.sub(r"EXECUTE FUNCTION .*$", "EXECUTE FUNCTION cov_log_fn('%s')" % name, ddl)
        stmts.append(ddl)
    pg.psql(db, ";\n".join(stmts))


# --- main --------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", help="socket directory or host of a running server")
    ap.add_argument("--port", type=int, default=None)
    ap.add_argument("--user", default="postgres")
    ap.add_argument("--pg-bin", default="/usr/lib/postgresql/15/bin")
    ap.add_argument("--pg-schema", default=PG_SCHEMA_CPP,
                    help="the postgres_schema.cpp to check (default: the repository's)")
    args = ap.parse_args()
    if args.host and args.port is None:
        args.port = 5432

    pg_schema, pg_tag_indexes, pg_events = pg_strings(args.pg_schema)
    pg = PgServer(args)
    db = "quay_pg_schema_check_%d" % os.getpid()
    events_db = db + "_events"
    problems = []
    try:
        icu = pg.psql("postgres", "CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8'"
                      " LOCALE 'C' LOCALE_PROVIDER icu ICU_LOCALE 'en-US'" % db, check=False)
        if icu.returncode != 0:
            print("note: no ICU; the check database uses the server's default collation")
            pg.psql("postgres", "CREATE DATABASE %s" % db)
        pg.psql("postgres", "CREATE DATABASE %s" % events_db)
        if "schema_migrations" in pg_schema:
            problems.append("PostgresSchema() mentions schema_migrations")
        pg.psql(db, pg_schema)
        pg.psql(db, pg_tag_indexes)
        pg.psql(db, pg_tag_indexes)  # idempotent, as at every open
        # The events schema in a schema of its own of the main database, as
        # audit_store.cpp opens it (search_path quay_audit), and in a
        # database of its own: first id 2^48, "offset" usable when quoted.
        for target, prefix in ((db, "CREATE SCHEMA quay_audit; SET search_path TO quay_audit;\n"),
                               (events_db, "")):
            pg.psql(target, prefix + pg_events)
        pg.psql(db, "SET search_path TO quay_audit;"
                    " INSERT INTO audit_log(kind, performer_kind, created_at)"
                    " VALUES ('pull_repo', 'user', 1);"
                    " INSERT INTO journal_position(journal, segment, \"offset\")"
                    " VALUES ('j', 1, 2) ON CONFLICT(journal) DO UPDATE"
                    " SET segment = excluded.segment, \"offset\" = excluded.\"offset\"")
        first = pg.query_json(db, "SELECT id FROM quay_audit.audit_log")
        if first != [[1 << 48]]:
            problems.append("events audit_log first id %s, expected 2^48" % first)

        sdb = sqlite_db()
        structure, triggers = compare_structure(sdb, pg, db)
        problems += structure
        add_coverage(sdb, pg, db)

        problems += run_steps(sdb, pg, db)

        for t in sqlite_tables(sdb):
            cols = [r[1] for r in sdb.execute("PRAGMA table_info(%s)" % t)]
            pk = [r[1] for r in sorted(sdb.execute("PRAGMA table_info(%s)" % t),
                                       key=lambda r: r[5]) if r[5] > 0]
            sql = "SELECT %s FROM %s ORDER BY %s" % (", ".join(cols), t, ", ".join(pk))
            s_rows = [[sqlite_value(v) for v in r] for r in sdb.execute(sql)]
            p_rows = pg.query_json(db, sql)
            if s_rows != p_rows:
                problems.append("table %s differs:\n  sqlite   %s\n  postgres %s"
                                % (t, s_rows, p_rows))
        for q in QUERIES:
            s_rows = [[sqlite_value(v) for v in r] for r in sdb.execute(q)]
            p_rows = pg.query_json(db, q)
            if s_rows != p_rows:
                problems.append("query %s differs:\n  sqlite   %s\n  postgres %s"
                                % (q, s_rows, p_rows))

        s_cov = collections.Counter(r[0] for r in sdb.execute("SELECT name FROM cov_log"))
        p_cov = collections.Counter(r[0] for r in pg.query_json(db, "SELECT name FROM cov_log"))
        if s_cov != p_cov:
            diff = {k: (s_cov[k], p_cov[k]) for k in set(s_cov) | set(p_cov) if s_cov[k] != p_cov[k]}
            problems.append("trigger firings differ (sqlite, postgres): %s" % diff)
        unfired = [t for t in triggers if s_cov[t] == 0 or p_cov[t] == 0]
        if unfired:
            problems.append("triggers never fired: %s" % unfired)
        epoch = pg.query_json(db, "SELECT value FROM change_epoch")
        print("%d tables, %d triggers (all fired: %s), %d steps, change_epoch %s"
              % (len(sqlite_tables(sdb)), len(triggers), not unfired, len(STEPS), epoch))
    finally:
        pg.psql("postgres", "DROP DATABASE IF EXISTS %s" % db, check=False)
        pg.psql("postgres", "DROP DATABASE IF EXISTS %s" % events_db, check=False)
        pg.stop()
    for p in problems:
        print("MISMATCH:", p)
    print("OK" if not problems else "%d mismatches" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
