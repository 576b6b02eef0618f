#include "db/database.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <system_error>

#include "core/json_text.h"
#include "core/private_files.h"
#include "db/connection.h"
#include "db/gc_queries.h"
#include "db/group_commit.h"
#include "db/schema.h"
#include "db/sql_support.h"
#include "db/sqlite_connection.h"
#include "db/store_support.h"

namespace quay::db {

namespace {

// A JSON string literal for arbitrary text (annotation keys and values may
// hold anything). UTF-8 passes through; only what JSON forbids is escaped.
std::string JsonObject(const std::map<std::string, std::string>& entries) {
  return core::JsonObjectText({entries.begin(), entries.end()});
}

// SQLite binds LIMIT as a signed 64-bit value; "one more than asked" (to
// learn whether a next page exists) must not wrap for huge limits.
int64_t LimitPlusOne(size_t limit) {
  constexpr auto kMax = static_cast<size_t>(INT64_MAX - 1);
  return static_cast<int64_t>(std::min(limit, kMax)) + 1;
}

int64_t EnsureRepository(Connection& c, std::string_view name, int64_t now) {
  {
    auto ins = c.Prepare("INSERT OR IGNORE INTO repository(name, created_at) VALUES(?, ?)");
    ins->bind(1, Str(name));
    ins->bind(2, now);
    ins->exec();
  }
  auto q = c.Prepare("SELECT id FROM repository WHERE name = ?");
  q->bind(1, Str(name));
  q->executeStep();
  return q->getColumn(0).getInt64();
}

std::optional<ManifestRow> ReadManifestRow(Stmt& q) {
  if (!q->executeStep()) return std::nullopt;
  ManifestRow row;
  row.id = q->getColumn(0).getInt64();
  auto digest = Digest::Parse(q->getColumn(1).getString());
  if (digest.ok()) row.digest = *digest;
  row.media_type = q->getColumn(2).getString();
  auto content = q->getColumn(3);
  row.content.assign(static_cast<const char*>(content.getBlob()),
                     static_cast<size_t>(content.getBytes()));
  return row;
}

// Points `tag` at `manifest_id` the one way every writer does (push,
// PutTag, RestoreTag): tag rows are never updated in place except to end
// them (and, schema v10, to change their expiration or immutability), so a
// move ends the live row and starts a new one; pointing a tag where it
// already points changes nothing. Returns the manifest the tag pointed at
// before (id 0: none), or Conflict(kTag) when that live row is immutable
// and points elsewhere. `flags` are the new row's. Runs inside the caller's
// transaction.
struct PreviousTarget {
  int64_t manifest_id = 0;
  std::string digest;
};

struct NewTagFlags {
  std::optional<int64_t> expires_at;
  bool immutable = false;
};

Status ImmutableTag(std::string_view tag, std::string_view operation) {
  return Status::Conflict(Subject::kTag, "Cannot " + std::string(operation) + " immutable tag '" +
                                             std::string(tag) + "'");
}

Result<PreviousTarget> RetargetTag(Connection& c, int64_t repo, std::string_view tag,
                                   int64_t manifest_id, int64_t now,
                                   const NewTagFlags& flags = {}) {
  PreviousTarget previous;
  bool immutable = false;
  {
    // The live row is read anyway: its immutable flag costs no query.
    auto q = c.Prepare(
        "SELECT t.manifest_id, m.digest, t.immutable FROM tag t"
        " JOIN manifest m ON m.id = t.manifest_id"
        " WHERE t.repository_id = ? AND t.name = ? AND t.end_at IS NULL");
    q->bind(1, repo);
    q->bind(2, Str(tag));
    if (q->executeStep()) {
      previous.manifest_id = q->getColumn(0).getInt64();
      previous.digest = q->getColumn(1).getString();
      immutable = q->getColumn(2).getInt() != 0;
    }
  }
  if (previous.manifest_id == manifest_id) return previous;
  if (immutable) return ImmutableTag(tag, "overwrite");
  if (previous.manifest_id != 0) {
    auto end = c.Prepare(
        "UPDATE tag SET end_at = ? WHERE repository_id = ? AND name = ? AND end_at IS NULL");
    end->bind(1, now);
    end->bind(2, repo);
    end->bind(3, Str(tag));
    end->exec();
  }
  auto ins = c.Prepare(
      "INSERT INTO tag(repository_id, name, manifest_id, start_at, expires_at, immutable)"
      " VALUES(?, ?, ?, ?, ?, ?)");
  ins->bind(1, repo);
  ins->bind(2, Str(tag));
  ins->bind(3, manifest_id);
  ins->bind(4, now);
  if (flags.expires_at) {
    ins->bind(5, *flags.expires_at);
  } else {
    ins->bind(5);
  }
  ins->bind(6, flags.immutable ? 1 : 0);
  ins->exec();
  return previous;
}

// Indexes the REST tag listing walks (newest start first, all rows or live
// rows only). They are created here, idempotently, rather than in a
// migration of db/schema.cpp, which the identity side owns; a later
// migration may adopt them with the same IF NOT EXISTS statements.
constexpr const char* kTagListingIndexes = R"sql(
CREATE INDEX IF NOT EXISTS tag_started ON tag(repository_id, start_at);
CREATE INDEX IF NOT EXISTS tag_live_started ON tag(repository_id, start_at) WHERE end_at IS NULL;
)sql";

// The three plans of ListTagPage, each pinned to the index that yields rows
// in listing order (start_at DESC, then id DESC: the index's implicit
// rowid), so LIMIT/OFFSET stop the walk early and no temporary b-tree
// sorts. ?1 repository name, (?2, ?3) keyset bound, ?4 LIKE pattern or '',
// ?5 limit, ?6 offset, ?7 tag name, ?8 live only. The layer sizes were summed
// when each manifest was pushed (schema v7), so a page reads no manifest
// JSON and needs no second query.
#define QUAY_TAG_PAGE_COLUMNS                                                         \
  "SELECT t.id, t.name, m.digest, m.media_type, t.start_at, t.end_at, m.layers_size," \
  " t.expires_at, t.immutable"
#define QUAY_TAG_PAGE_WHERE                                              \
  " JOIN manifest m ON m.id = t.manifest_id"                             \
  " WHERE t.repository_id = (SELECT id FROM repository WHERE name = ?1)" \
  " AND (t.start_at, t.id) < (?2, ?3) AND (?4 = '' OR t.name LIKE ?4 ESCAPE '\\')"
#define QUAY_TAG_PAGE_ORDER " ORDER BY t.start_at DESC, t.id DESC LIMIT ?5 OFFSET ?6"
constexpr const char* kTagPageByName =
    QUAY_TAG_PAGE_COLUMNS " FROM tag t INDEXED BY tag_history" QUAY_TAG_PAGE_WHERE
                          " AND t.name = ?7 AND (?8 = 0 OR t.end_at IS NULL)" QUAY_TAG_PAGE_ORDER;
constexpr const char* kTagPageLive =
    QUAY_TAG_PAGE_COLUMNS " FROM tag t INDEXED BY tag_live_started" QUAY_TAG_PAGE_WHERE
                          " AND t.end_at IS NULL" QUAY_TAG_PAGE_ORDER;
constexpr const char* kTagPageAll = QUAY_TAG_PAGE_COLUMNS
    " FROM tag t INDEXED BY tag_started" QUAY_TAG_PAGE_WHERE QUAY_TAG_PAGE_ORDER;
#undef QUAY_TAG_PAGE_COLUMNS
#undef QUAY_TAG_PAGE_WHERE
#undef QUAY_TAG_PAGE_ORDER

const char* TagPageSql(const TagPageQuery& query) {
  if (query.name) return kTagPageByName;
  return query.only_active ? kTagPageLive : kTagPageAll;
}

// ListTags: one page of live tag names after a name. One query tells an
// unknown repository (no row) from one without tags (one row, NULL name).
// INDEXED BY: tag_history also covers (repository, name) but walks ended
// rows too; tag_live holds live rows only.
constexpr const char* kTagNamesSql =
    "SELECT t.name FROM repository r"
    " LEFT JOIN tag t INDEXED BY tag_live ON t.repository_id = r.id AND t.end_at IS NULL"
    " AND t.name > ?"
    " WHERE r.name = ? ORDER BY t.name LIMIT ?";

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(const std::string& path, bool durable)
      : pool_(path, durable), group_commits_(pool_) {}

  void Init() {
    auto lock = pool_.LockWriter();
    const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    Migrate(pool_.writer(), now);
    if (pool_.dialect() == Dialect::kSqlite) pool_.writer().Exec(kTagListingIndexes);
  }

  ConnectionPool& connections() override { return pool_; }

  Result<int> SchemaVersion() override {
    return Read<int>([](Connection& c) -> Result<int> {
      auto q = c.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
      q->executeStep();
      return q->getColumn(0).getInt();
    });
  }

  Result<std::optional<int64_t>> FindRepository(std::string_view name) override {
    return Read<std::optional<int64_t>>([&](Connection& c) -> Result<std::optional<int64_t>> {
      auto q = c.Prepare("SELECT id FROM repository WHERE name = ?");
      q->bind(1, Str(name));
      if (!q->executeStep()) return std::optional<int64_t>();
      return std::optional<int64_t>(q->getColumn(0).getInt64());
    });
  }

  Status InsertUpload(std::string_view id, std::string_view repository, int64_t now) override {
    return WriteRelaxed([&](Connection& c) {
      auto ins = c.Prepare(
          "INSERT INTO upload(id, repository, byte_offset, created_at, updated_at)"
          " VALUES(?, ?, 0, ?, ?)");
      ins->bind(1, Str(id));
      ins->bind(2, Str(repository));
      ins->bind(3, now);
      ins->bind(4, now);
      ins->exec();
      return Status::Ok();
    });
  }

  Result<std::optional<UploadRow>> FindUpload(std::string_view id) override {
    return Read<std::optional<UploadRow>>([&](Connection& c) -> Result<std::optional<UploadRow>> {
      auto q = c.Prepare("SELECT id, repository, byte_offset, created_at FROM upload WHERE id = ?");
      q->bind(1, Str(id));
      if (!q->executeStep()) return std::optional<UploadRow>();
      UploadRow row;
      row.id = q->getColumn(0).getString();
      row.repository = q->getColumn(1).getString();
      row.offset = static_cast<uint64_t>(q->getColumn(2).getInt64());
      row.created_at = q->getColumn(3).getInt64();
      return std::optional<UploadRow>(std::move(row));
    });
  }

  // The offset acknowledges a chunk the store has just synced.
  Status SaveUploadOffset(std::string_view id, uint64_t offset, int64_t now,
                          bool durable) override {
    auto save = [&](Connection& c) {
      auto up = c.Prepare("UPDATE upload SET byte_offset = ?, updated_at = ? WHERE id = ?");
      up->bind(1, static_cast<int64_t>(offset));
      up->bind(2, now);
      up->bind(3, Str(id));
      if (up->exec() != 1) return Status::NotFound(Subject::kUpload, "upload session ended");
      return Status::Ok();
    };
    return durable ? WriteUploadDurably(save) : WriteRelaxed(save);
  }

  Status DeleteUpload(std::string_view id) override {
    return Write([&](Connection& c) {
      auto del = c.Prepare("DELETE FROM upload WHERE id = ?");
      del->bind(1, Str(id));
      del->exec();
      return Status::Ok();
    });
  }

  Result<std::vector<std::string>> ListUploadIds() override {
    return Read<std::vector<std::string>>([](Connection& c) -> Result<std::vector<std::string>> {
      std::vector<std::string> ids;
      auto q = c.Prepare("SELECT id FROM upload");
      while (q->executeStep()) ids.push_back(q->getColumn(0).getString());
      return ids;
    });
  }

  Status CommitBlob(std::string_view upload_id, std::string_view repository, const Digest& digest,
                    uint64_t size, int64_t now) override {
    // Concurrent pushes end here together; they share commits (and fsyncs)
    // with each other and with manifest pushes (db/group_commit.h).
    return group_commits_.Run([&](Connection& c) {
      const int64_t repo = EnsureRepository(c, repository, now);
      {
        auto ins =
            c.Prepare("INSERT OR IGNORE INTO blob(digest, size, created_at) VALUES(?, ?, ?)");
        ins->bind(1, digest.str());
        ins->bind(2, static_cast<int64_t>(size));
        ins->bind(3, now);
        ins->exec();
      }
      {
        auto link = c.Prepare(
            "INSERT INTO repository_blob(repository_id, digest, created_at) VALUES(?, ?, ?)"
            " ON CONFLICT(repository_id, digest) DO UPDATE SET created_at = excluded.created_at");
        link->bind(1, repo);
        link->bind(2, digest.str());
        link->bind(3, now);
        link->exec();
      }
      if (!upload_id.empty()) {
        // A session cancelled (or its repository deleted) while its last
        // request was still running must not make a blob visible, nor bring
        // a deleted repository back.
        auto del = c.Prepare("DELETE FROM upload WHERE id = ?");
        del->bind(1, Str(upload_id));
        if (del->exec() != 1) return Status::NotFound(Subject::kUpload, "upload session ended");
      }
      return Status::Ok();
    });
  }

  Result<std::optional<uint64_t>> FindRepositoryBlob(std::string_view repository,
                                                     const Digest& digest) override {
    return Read<std::optional<uint64_t>>([&](Connection& c) -> Result<std::optional<uint64_t>> {
      auto q = c.Prepare(
          "SELECT b.size FROM repository r"
          " JOIN repository_blob rb ON rb.repository_id = r.id"
          " JOIN blob b ON b.digest = rb.digest"
          " WHERE r.name = ? AND rb.digest = ?");
      q->bind(1, Str(repository));
      q->bind(2, digest.str());
      if (!q->executeStep()) return std::optional<uint64_t>();
      return std::optional<uint64_t>(static_cast<uint64_t>(q->getColumn(0).getInt64()));
    });
  }

  Status PutManifest(std::string_view repository, const NewManifest& m, int64_t now) override {
    // Shares commits with concurrent pushes (db/group_commit.h).
    return group_commits_.Run([&](Connection& c) -> Status {
      const int64_t repo = EnsureRepository(c, repository, now);
      // [[digest, size or null, required 1/0], ...]
      std::string blobs = "[";
      for (const auto& b : m.blobs) {
        if (blobs.size() > 1) blobs += ',';
        blobs += "[\"" + b.digest.str() + "\"," + (b.size ? std::to_string(*b.size) : "null") +
                 (b.required ? ",1]" : ",0]");
      }
      blobs += ']';
      const std::string children = JsonArray(m.children);
      // The reference checks run inside the write transaction, so nothing can
      // unlink a blob between the check and the insert. One query checks
      // presence and size together, one index lookup per descriptor: a
      // correlated subquery rather than a join, which PostgreSQL would plan
      // as a merge over all the repository's links when its statistics are
      // thin (a manifest PUT must not cost more as the repository grows).
      // The size is NULL exactly when the blob is not linked (blob.size is
      // NOT NULL).
      if (!m.blobs.empty()) {
        auto bad = c.Prepare(
            "SELECT d, s, size FROM"
            " (SELECT j.d AS d, j.s AS s, j.required AS required,"
            "  (SELECT b.size FROM repository_blob rb JOIN blob b ON b.digest = rb.digest"
            "   WHERE rb.repository_id = ?2 AND rb.digest = j.d) AS size"
            "  FROM (SELECT json_extract(value, '$[0]') AS d,"
            "   CAST(json_extract(value, '$[1]') AS INTEGER) AS s,"
            "   CAST(json_extract(value, '$[2]') AS INTEGER) AS required FROM json_each(?1)) j"
            " ) AS checked"
            " WHERE (size IS NULL AND required = 1) OR (size IS NOT NULL AND s IS NOT NULL"
            "  AND size <> s)"
            " LIMIT 1");
        bad->bind(1, blobs);
        bad->bind(2, repo);
        if (bad->executeStep()) {
          const std::string digest = bad->getColumn(0).getString();
          if (bad->getColumn(2).isNull()) {
            return Status::NotFound(Subject::kReference,
                                    "blob " + digest + " is not in repository " + Str(repository));
          }
          return Status::InvalidArgument(
              Subject::kManifest, "descriptor of blob " + digest + " gives size " +
                                      std::to_string(bad->getColumn(1).getInt64()) +
                                      " but the blob has " +
                                      std::to_string(bad->getColumn(2).getInt64()) + " bytes");
        }
      }
      if (!m.children.empty()) {
        auto missing = c.Prepare(
            "SELECT j.value FROM json_each(?) j WHERE NOT EXISTS ("
            " SELECT 1 FROM manifest m WHERE m.repository_id = ? AND m.digest = j.value"
            " AND m.deleted_at IS NULL) LIMIT 1");
        missing->bind(1, children);
        missing->bind(2, repo);
        if (missing->executeStep()) {
          return Status::NotFound(Subject::kReference,
                                  "manifest " + missing->getColumn(0).getString() +
                                      " is not in repository " + Str(repository));
        }
      }
      {
        // A re-push of a known manifest undeletes it and refreshes created_at
        // (as CommitBlob refreshes a blob link), so GC's protection window
        // covers what a client has just pushed again.
        auto ins = c.Prepare(
            "INSERT INTO manifest(repository_id, digest, media_type, artifact_type,"
            " subject_digest, size, content, created_at, config_media_type, annotations,"
            " layers_size)"
            " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(repository_id, digest) DO UPDATE SET deleted_at = NULL,"
            " created_at = excluded.created_at");
        ins->bind(1, repo);
        ins->bind(2, m.digest.str());
        ins->bind(3, m.media_type);
        if (m.artifact_type.empty()) {
          ins->bind(4);
        } else {
          ins->bind(4, m.artifact_type);
        }
        if (m.subject) {
          ins->bind(5, m.subject->str());
        } else {
          ins->bind(5);
        }
        ins->bind(6, static_cast<int64_t>(m.content.size()));
        ins->bind(7, m.content.data(), static_cast<int>(m.content.size()));
        ins->bind(8, now);
        if (m.config_media_type.empty()) {
          ins->bind(9);
        } else {
          ins->bind(9, m.config_media_type);
        }
        if (m.annotations.empty()) {
          ins->bind(10);
        } else {
          ins->bind(10, JsonObject(m.annotations));
        }
        if (m.layers_size) {
          ins->bind(11, static_cast<int64_t>(*m.layers_size));
        } else {
          ins->bind(11);
        }
        ins->exec();
      }
      int64_t manifest_id = 0;
      {
        auto q = c.Prepare("SELECT id FROM manifest WHERE repository_id = ? AND digest = ?");
        q->bind(1, repo);
        q->bind(2, m.digest.str());
        q->executeStep();
        manifest_id = q->getColumn(0).getInt64();
      }
      if (!m.blobs.empty()) {
        // Non-distributable layers that were never pushed have no blob row
        // to reference.
        auto ins = c.Prepare(
            "INSERT OR IGNORE INTO manifest_blob(manifest_id, digest)"
            " SELECT ?1, json_extract(j.value, '$[0]') FROM json_each(?2) j"
            " WHERE EXISTS (SELECT 1 FROM repository_blob rb WHERE rb.repository_id = ?3"
            "  AND rb.digest = json_extract(j.value, '$[0]'))");
        ins->bind(1, manifest_id);
        ins->bind(2, blobs);
        ins->bind(3, repo);
        ins->exec();
      }
      if (!m.children.empty()) {
        auto ins = c.Prepare(
            "INSERT OR IGNORE INTO manifest_child(parent_id, child_id)"
            " SELECT ?, id FROM manifest WHERE repository_id = ? AND deleted_at IS NULL"
            " AND digest IN (SELECT value FROM json_each(?))");
        ins->bind(1, manifest_id);
        ins->bind(2, repo);
        ins->bind(3, children);
        ins->exec();
      }
      if (!m.labels.empty()) {
        bool labelled = false;
        {
          auto q = c.Prepare(
              "SELECT 1 FROM manifest_label WHERE manifest_id = ? AND source = 'manifest' LIMIT 1");
          q->bind(1, manifest_id);
          labelled = q->executeStep();
        }
        // A handful of rows per push (an image's labels), never per page.
        for (const LabelRow& label : labelled ? std::vector<LabelRow>() : m.labels) {
          auto ins = c.Prepare(
              "INSERT INTO manifest_label(uuid, manifest_id, key, value, media_type, source,"
              " created_at) VALUES(?, ?, ?, ?, ?, ?, ?)");
          ins->bind(1, label.uuid);
          ins->bind(2, manifest_id);
          ins->bind(3, label.key);
          ins->bind(4, label.value);
          ins->bind(5, label.media_type);
          ins->bind(6, label.source);
          ins->bind(7, label.created_at);
          ins->exec();
        }
      }
      // Moving a tag closes its live row and opens a new one (tag history);
      // re-pushing the same manifest under the same tag changes nothing.
      if (!m.tag.empty()) {
        auto moved = RetargetTag(c, repo, m.tag, manifest_id, now,
                                 NewTagFlags{m.tag_expires_at, m.tag_immutable});
        if (!moved.ok()) return moved.status();
        // repo_push for the repository's notifications of a delivered
        // method (quay/webhooks.h), queued in the push's own transaction
        // (schema v10): one statement on the notification index per tagged
        // push, nothing when there is none.
        auto queue = c.Prepare(
            "INSERT INTO notification_delivery(notification_id, payload, next_attempt_at,"
            " created_at)"
            " SELECT n.id, json_object('repository', r.name,"
            "  'namespace', substr(r.name, 1, instr(r.name, '/') - 1),"
            "  'name', substr(r.name, instr(r.name, '/') + 1),"
            "  'updated_tags', json_array(?2)), ?3, ?3"
            " FROM repository_notification n JOIN repository r ON r.id = n.repository_id"
            " WHERE n.repository_id = ?1 AND n.event = 'repo_push'"
            "  AND n.method IN ('webhook', 'slack', 'quay_notification')");
        queue->bind(1, repo);
        queue->bind(2, m.tag);
        queue->bind(3, now);
        queue->exec();
      }
      return Status::Ok();
    });
  }

  Result<std::optional<ManifestRow>> FindManifestByDigest(std::string_view repository,
                                                          const Digest& digest) override {
    return Read<std::optional<ManifestRow>>(
        [&](Connection& c) -> Result<std::optional<ManifestRow>> {
          auto q = c.Prepare(
              "SELECT m.id, m.digest, m.media_type, m.content FROM manifest m"
              " JOIN repository r ON r.id = m.repository_id WHERE r.name = ? AND m.digest = ?"
              " AND m.deleted_at IS NULL");
          q->bind(1, Str(repository));
          q->bind(2, digest.str());
          return ReadManifestRow(q);
        });
  }

  Result<std::optional<ManifestRow>> FindManifestByTag(std::string_view repository,
                                                       std::string_view tag) override {
    return Read<std::optional<ManifestRow>>(
        [&](Connection& c) -> Result<std::optional<ManifestRow>> {
          auto q = c.Prepare(
              "SELECT m.id, m.digest, m.media_type, m.content FROM repository r"
              " JOIN tag t ON t.repository_id = r.id AND t.end_at IS NULL"
              " JOIN manifest m ON m.id = t.manifest_id WHERE r.name = ? AND t.name = ?"
              " AND m.deleted_at IS NULL");
          q->bind(1, Str(repository));
          q->bind(2, Str(tag));
          return ReadManifestRow(q);
        });
  }

  Result<std::optional<NameList>> ListTags(std::string_view repository, size_t limit,
                                           std::string_view after) override {
    return Read<std::optional<NameList>>([&](Connection& c) -> Result<std::optional<NameList>> {
      auto q = c.Prepare(kTagNamesSql);
      q->bind(1, Str(after));
      q->bind(2, Str(repository));
      q->bind(3, LimitPlusOne(limit));
      bool repository_found = false;
      NameList page;
      while (q->executeStep()) {
        repository_found = true;
        if (q->getColumn(0).isNull()) break;
        if (page.names.size() == limit) {
          page.more = true;
          break;
        }
        page.names.push_back(q->getColumn(0).getString());
      }
      if (!repository_found) return std::optional<NameList>();
      return std::optional<NameList>(std::move(page));
    });
  }

  Result<NameList> ListRepositories(size_t limit, std::string_view after) override {
    return Read<NameList>([&](Connection& c) -> Result<NameList> {
      auto q = c.Prepare("SELECT name FROM repository WHERE name > ? ORDER BY name LIMIT ?");
      q->bind(1, Str(after));
      q->bind(2, LimitPlusOne(limit));
      NameList page;
      while (q->executeStep()) {
        if (page.names.size() == limit) {
          page.more = true;
          break;
        }
        page.names.push_back(q->getColumn(0).getString());
      }
      return page;
    });
  }

  Result<std::optional<std::vector<Descriptor>>> ListReferrers(
      std::string_view repository, const Digest& subject, std::string_view artifact_type) override {
    using Out = std::optional<std::vector<Descriptor>>;
    return Read<Out>([&](Connection& c) -> Result<Out> {
    // One row per (manifest, annotation); a manifest without annotations
    // gives one row with NULL key, an unknown repository none at all.
#define QUAY_REFERRERS_HEAD                                                   \
  "SELECT m.id, m.digest, m.media_type, m.size,"                              \
  " COALESCE(m.artifact_type, m.config_media_type), j.key, j.value"           \
  " FROM repository r"                                                        \
  " LEFT JOIN manifest m ON m.repository_id = r.id AND m.subject_digest = ?1" \
  " AND m.deleted_at IS NULL"                                                 \
  " AND (?2 = '' OR COALESCE(m.artifact_type, m.config_media_type) = ?2)"
      auto q = c.Prepare(QUAY_REFERRERS_HEAD
                         " LEFT JOIN json_each(m.annotations) j"
                         " WHERE r.name = ?3 ORDER BY m.id",
                         // An object's members: json_each_text gives (key, value) too.
                         QUAY_REFERRERS_HEAD
                         " LEFT JOIN LATERAL json_each_text(CAST(m.annotations AS json)) j ON true"
                         " WHERE r.name = ?3 ORDER BY m.id");
#undef QUAY_REFERRERS_HEAD
      q->bind(1, subject.str());
      q->bind(2, Str(artifact_type));
      q->bind(3, Str(repository));
      bool repository_found = false;
      std::vector<Descriptor> out;
      int64_t last_id = 0;
      while (q->executeStep()) {
        repository_found = true;
        if (q->getColumn(0).isNull()) break;
        const int64_t id = q->getColumn(0).getInt64();
        if (out.empty() || id != last_id) {
          last_id = id;
          Descriptor d;
          auto digest = Digest::Parse(q->getColumn(1).getString());
          if (!digest.ok()) return digest.status();
          d.digest = *digest;
          d.media_type = q->getColumn(2).getString();
          d.size = static_cast<uint64_t>(q->getColumn(3).getInt64());
          if (!q->getColumn(4).isNull()) d.artifact_type = q->getColumn(4).getString();
          out.push_back(std::move(d));
        }
        if (!q->getColumn(5).isNull()) {
          out.back().annotations[q->getColumn(5).getString()] = q->getColumn(6).getString();
        }
      }
      if (!repository_found) return Out();
      return Out(std::move(out));
    });
  }

  Status DeleteManifest(std::string_view repository, const Digest& digest, int64_t now) override {
    return Write([&](Connection& c) -> Status {
      WriteTransaction tx(c);
      int64_t manifest_id = 0;
      {
        auto q = c.Prepare(
            "SELECT m.id FROM repository r JOIN manifest m ON m.repository_id = r.id"
            " WHERE r.name = ? AND m.digest = ? AND m.deleted_at IS NULL");
        q->bind(1, Str(repository));
        q->bind(2, digest.str());
        if (!q->executeStep()) {
          return Status::NotFound(Subject::kManifest, "manifest " + digest.str() + " is unknown");
        }
        manifest_id = q->getColumn(0).getInt64();
      }
      {
        auto locked = c.Prepare(
            "SELECT name FROM tag WHERE manifest_id = ? AND end_at IS NULL AND immutable = 1"
            " LIMIT 1");
        locked->bind(1, manifest_id);
        if (locked->executeStep()) return ImmutableTag(locked->getColumn(0).getString(), "delete");
      }
      {
        auto end = c.Prepare("UPDATE tag SET end_at = ? WHERE manifest_id = ? AND end_at IS NULL");
        end->bind(1, now);
        end->bind(2, manifest_id);
        end->exec();
      }
      {
        auto del = c.Prepare("UPDATE manifest SET deleted_at = ? WHERE id = ?");
        del->bind(1, now);
        del->bind(2, manifest_id);
        del->exec();
      }
      tx.Commit();
      return Status::Ok();
    });
  }

  Status DeleteTag(std::string_view repository, std::string_view tag, int64_t now) override {
    return Write([&](Connection& c) -> Status {
      auto end = c.Prepare(
          "UPDATE tag SET end_at = ? WHERE end_at IS NULL AND name = ? AND immutable = 0"
          " AND repository_id = (SELECT id FROM repository WHERE name = ?)");
      end->bind(1, now);
      end->bind(2, Str(tag));
      end->bind(3, Str(repository));
      if (end->exec() == 0) {
        // Only a refusal asks why.
        auto locked = c.Prepare(
            "SELECT 1 FROM tag WHERE end_at IS NULL AND name = ? AND immutable = 1"
            " AND repository_id = (SELECT id FROM repository WHERE name = ?)");
        locked->bind(1, Str(tag));
        locked->bind(2, Str(repository));
        if (locked->executeStep()) return ImmutableTag(tag, "delete");
        return Status::NotFound(Subject::kTag, "tag " + Str(tag) + " is unknown");
      }
      return Status::Ok();
    });
  }

  Status UnlinkBlob(std::string_view repository, const Digest& digest) override {
    return Write([&](Connection& c) -> Status {
      auto del = c.Prepare(
          "DELETE FROM repository_blob WHERE digest = ?"
          " AND repository_id = (SELECT id FROM repository WHERE name = ?)");
      del->bind(1, digest.str());
      del->bind(2, Str(repository));
      if (del->exec() == 0) {
        return Status::NotFound(Subject::kBlob,
                                "blob " + digest.str() + " is unknown to " + Str(repository));
      }
      return Status::Ok();
    });
  }

  Result<std::optional<uint64_t>> MountBlob(std::string_view repository, const Digest& digest,
                                            std::string_view from, int64_t now) override {
    using Out = std::optional<uint64_t>;
    Out size;
    Status s = Write([&](Connection& c) -> Status {
      // Check and link in one write transaction: nothing (GC, an unlink) can
      // remove the source link in between.
      WriteTransaction tx(c);
      {
        auto q = c.Prepare(
            "SELECT b.size FROM repository r"
            " JOIN repository_blob rb ON rb.repository_id = r.id"
            " JOIN blob b ON b.digest = rb.digest"
            " WHERE r.name = ? AND rb.digest = ?");
        q->bind(1, Str(from));
        q->bind(2, digest.str());
        if (!q->executeStep()) return Status::Ok();  // nothing to mount; no change
        size = static_cast<uint64_t>(q->getColumn(0).getInt64());
      }
      const int64_t repo = EnsureRepository(c, repository, now);
      {
        // Refreshing created_at gives the mounted link GC's protection window,
        // as a fresh upload would.
        auto link = c.Prepare(
            "INSERT INTO repository_blob(repository_id, digest, created_at) VALUES(?, ?, ?)"
            " ON CONFLICT(repository_id, digest) DO UPDATE SET created_at = excluded.created_at");
        link->bind(1, repo);
        link->bind(2, digest.str());
        link->bind(3, now);
        link->exec();
      }
      tx.Commit();
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return size;
  }

  Result<std::optional<std::vector<std::string>>> DeleteRepository(
      std::string_view repository) override {
    using Out = std::optional<std::vector<std::string>>;
    Out uploads;
    Status s = Write([&](Connection& c) -> Status {
      WriteTransaction tx(c);
      int64_t repo = 0;
      {
        auto q = c.Prepare("SELECT id FROM repository WHERE name = ?");
        q->bind(1, Str(repository));
        if (!q->executeStep()) return Status::Ok();
        repo = q->getColumn(0).getInt64();
      }
      // Set-based deletes, children before parents (foreign keys are on).
      // Child manifests always live in their parent's repository, so the
      // parent side covers every manifest_child row of this repository.
      static constexpr const char* kDeletes[] = {
          "DELETE FROM tag WHERE repository_id = ?",
          "DELETE FROM manifest_child WHERE parent_id IN"
          " (SELECT id FROM manifest WHERE repository_id = ?)",
          "DELETE FROM manifest_blob WHERE manifest_id IN"
          " (SELECT id FROM manifest WHERE repository_id = ?)",
          "DELETE FROM manifest_label WHERE manifest_id IN"
          " (SELECT id FROM manifest WHERE repository_id = ?)",
          "DELETE FROM manifest WHERE repository_id = ?",
          "DELETE FROM repository_blob WHERE repository_id = ?",
          "DELETE FROM repository WHERE id = ?",
      };
      for (const char* sql : kDeletes) {
        auto del = c.Prepare(sql);
        del->bind(1, repo);
        del->exec();
      }
      std::vector<std::string> ids;
      {
        auto del = c.Prepare("DELETE FROM upload WHERE repository = ? RETURNING id");
        del->bind(1, Str(repository));
        while (del->executeStep()) ids.push_back(del->getColumn(0).getString());
      }
      tx.Commit();
      uploads = std::move(ids);
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return uploads;
  }

  Result<std::optional<std::vector<TagRow>>> TagHistory(std::string_view repository,
                                                        std::string_view tag) override {
    using Out = std::optional<std::vector<TagRow>>;
    return Read<Out>([&](Connection& c) -> Result<Out> {
      auto q = c.Prepare(
          "SELECT t.name, m.digest, t.start_at, t.end_at FROM repository r"
          " LEFT JOIN tag t ON t.repository_id = r.id AND t.name = ?"
          " LEFT JOIN manifest m ON m.id = t.manifest_id"
          " WHERE r.name = ? ORDER BY t.start_at DESC, t.id DESC");
      q->bind(1, Str(tag));
      q->bind(2, Str(repository));
      return ReadTagRows(q);
    });
  }

  Result<std::optional<std::vector<TagRow>>> RecentTagChanges(std::string_view repository,
                                                              size_t limit) override {
    using Out = std::optional<std::vector<TagRow>>;
    return Read<Out>([&](Connection& c) -> Result<Out> {
      if (limit == 0) {
        // LIMIT 0 would hide whether the repository exists.
        auto q = c.Prepare("SELECT 1 FROM repository WHERE name = ?");
        q->bind(1, Str(repository));
        if (!q->executeStep()) return Out();
        return Out(std::vector<TagRow>());
      }
      // The ORDER BY expression is tag_changed's, so the index yields the
      // rows already sorted and LIMIT stops the walk early.
      auto q = c.Prepare(
          "SELECT t.name, m.digest, t.start_at, t.end_at FROM repository r"
          " LEFT JOIN tag t ON t.repository_id = r.id"
          " LEFT JOIN manifest m ON m.id = t.manifest_id"
          " WHERE r.name = ? ORDER BY COALESCE(t.end_at, t.start_at) DESC, t.id DESC LIMIT ?");
      q->bind(1, Str(repository));
      q->bind(2, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
      return ReadTagRows(q);
    });
  }

  Status RestoreTag(std::string_view repository, std::string_view tag, const Digest& manifest,
                    int64_t ended_since, int64_t now) override {
    return Write([&](Connection& c) -> Status {
      WriteTransaction tx(c);
      int64_t repo = 0;
      int64_t manifest_id = 0;
      {
        auto q = c.Prepare(
            "SELECT r.id, m.id FROM repository r"
            " JOIN tag t ON t.repository_id = r.id AND t.name = ?"
            " JOIN manifest m ON m.id = t.manifest_id AND m.digest = ?"
            " WHERE r.name = ? AND (t.end_at IS NULL OR t.end_at >= ?) LIMIT 1");
        q->bind(1, Str(tag));
        q->bind(2, manifest.str());
        q->bind(3, Str(repository));
        q->bind(4, ended_since);
        if (!q->executeStep()) {
          return Status::NotFound(Subject::kTag, "tag " + Str(tag) + " did not point at " +
                                                     manifest.str() +
                                                     " within the recovery window");
        }
        repo = q->getColumn(0).getInt64();
        manifest_id = q->getColumn(1).getInt64();
      }
      auto before = RetargetTag(c, repo, tag, manifest_id, now);
      if (!before.ok()) return before.status();
      if (before->manifest_id == manifest_id) return Status::Ok();  // already there
      {
        // A live tag must never point at a deleted manifest.
        auto undelete = c.Prepare("UPDATE manifest SET deleted_at = NULL WHERE id = ?");
        undelete->bind(1, manifest_id);
        undelete->exec();
      }
      tx.Commit();
      return Status::Ok();
    });
  }

  // ---- REST API views ----

  Result<std::optional<TagPage>> ListTagPage(std::string_view repository,
                                             const TagPageQuery& query) override {
    using Out = std::optional<TagPage>;
    return Read<Out>([&](Connection& c) -> Result<Out> {
      Stmt q = c.Prepare(TagPageSql(query));
      q->bind(1, Str(repository));
      q->bind(2, query.before ? query.before->first : INT64_MAX);
      q->bind(3, query.before ? query.before->second : INT64_MAX);
      if (query.like.empty()) {
        q->bind(4, std::string());
      } else {
        std::string pattern = "%";
        for (char ch : query.like) {
          if (ch == '%' || ch == '_' || ch == '\\') pattern += '\\';
          pattern += ch;
        }
        pattern += '%';
        q->bind(4, pattern);
      }
      q->bind(5, LimitPlusOne(query.limit));
      q->bind(6, static_cast<int64_t>(std::min<size_t>(query.offset, INT64_MAX)));
      if (query.name) {
        q->bind(7, *query.name);
        q->bind(8, query.only_active ? 1 : 0);
      }
      TagPage page;
      while (q->executeStep()) {
        if (page.rows.size() == query.limit) {
          page.more = true;
          break;
        }
        TagPageRow row;
        row.id = q->getColumn(0).getInt64();
        row.name = q->getColumn(1).getString();
        auto digest = Digest::Parse(q->getColumn(2).getString());
        if (!digest.ok()) return digest.status();
        row.manifest = *digest;
        row.media_type = q->getColumn(3).getString();
        row.start_at = q->getColumn(4).getInt64();
        if (!q->getColumn(5).isNull()) row.end_at = q->getColumn(5).getInt64();
        if (!q->getColumn(6).isNull()) {
          row.layers_size = static_cast<uint64_t>(q->getColumn(6).getInt64());
        }
        if (!q->getColumn(7).isNull()) row.expires_at = q->getColumn(7).getInt64();
        row.immutable = q->getColumn(8).getInt() != 0;
        page.rows.push_back(std::move(row));
      }
      if (page.rows.empty()) {
        // Only an empty page asks whether the repository exists.
        auto r = c.Prepare("SELECT 1 FROM repository WHERE name = ?");
        r->bind(1, Str(repository));
        if (!r->executeStep()) return Out();
      }
      return Out(std::move(page));
    });
  }

  Result<std::string> ExplainTagPage(const TagPageQuery& query) override {
    return Explain(TagPageSql(query));
  }

  Result<std::string> ExplainTagNames() override { return Explain(kTagNamesSql); }

  Result<std::optional<Digest>> PutTag(std::string_view repository, std::string_view tag,
                                       const Digest& digest, int64_t now,
                                       const TagAudit& audit) override {
    using Out = std::optional<Digest>;
    Out previous;
    Status s = group_commits_.Run([&](Connection& c) -> Status {
      int64_t repo = 0;
      int64_t manifest_id = 0;
      {
        auto q = c.Prepare(
            "SELECT r.id, m.id FROM repository r LEFT JOIN manifest m ON m.repository_id = r.id"
            " AND m.digest = ? AND m.deleted_at IS NULL WHERE r.name = ?");
        q->bind(1, digest.str());
        q->bind(2, Str(repository));
        if (!q->executeStep()) {
          return Status::NotFound(Subject::kRepository,
                                  "repository " + Str(repository) + " is unknown");
        }
        repo = q->getColumn(0).getInt64();
        if (q->getColumn(1).isNull()) {
          return Status::NotFound(
              Subject::kManifest,
              "manifest " + digest.str() + " is not in repository " + Str(repository));
        }
        manifest_id = q->getColumn(1).getInt64();
      }
      auto moved = RetargetTag(c, repo, tag, manifest_id, now);
      if (!moved.ok()) return moved.status();
      const PreviousTarget& before = *moved;
      if (before.manifest_id != 0) {
        auto d = Digest::Parse(before.digest);
        if (!d.ok()) return d.status();
        previous = *d;
      }
      if (audit) {
        if (std::optional<AuditRow> row = audit(previous)) InsertAudit(c, *row);
      }
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return previous;
  }

  Result<std::optional<ManifestDetailRow>> FindManifestDetail(std::string_view repository,
                                                              const Digest& digest) override {
    using Out = std::optional<ManifestDetailRow>;
    return Read<Out>([&](Connection& c) -> Result<Out> {
      auto q = c.Prepare(
          "SELECT m.id, m.digest, m.media_type, m.content, m.created_at FROM manifest m"
          " JOIN repository r ON r.id = m.repository_id WHERE r.name = ? AND m.digest = ?"
          " AND m.deleted_at IS NULL");
      q->bind(1, Str(repository));
      q->bind(2, digest.str());
      if (!q->executeStep()) return Out();
      ManifestDetailRow row;
      row.id = q->getColumn(0).getInt64();
      auto d = Digest::Parse(q->getColumn(1).getString());
      if (!d.ok()) return d.status();
      row.digest = *d;
      row.media_type = q->getColumn(2).getString();
      auto content = q->getColumn(3);
      row.content.assign(static_cast<const char*>(content.getBlob()),
                         static_cast<size_t>(content.getBytes()));
      row.created_at = q->getColumn(4).getInt64();
      return Out(std::move(row));
    });
  }

  Result<std::optional<RepositoryStatsRow>> RepositoryStats(std::string_view repository) override {
    using Out = std::optional<RepositoryStatsRow>;
    return Read<Out>([&](Connection& c) -> Result<Out> {
      // The count walks tag_live's entries of this repository (no table
      // rows); the last change is tag_changed's first entry.
      auto q = c.Prepare(
          "SELECT (SELECT COUNT(*) FROM tag t INDEXED BY tag_live"
          "  WHERE t.repository_id = r.id AND t.end_at IS NULL),"
          " (SELECT COALESCE(t.end_at, t.start_at) FROM tag t"
          "  WHERE t.repository_id = r.id ORDER BY COALESCE(t.end_at, t.start_at) DESC LIMIT 1)"
          " FROM repository r WHERE r.name = ?");
      q->bind(1, Str(repository));
      if (!q->executeStep()) return Out();
      RepositoryStatsRow row;
      row.live_tags = static_cast<uint64_t>(q->getColumn(0).getInt64());
      if (!q->getColumn(1).isNull()) row.last_tag_change = q->getColumn(1).getInt64();
      return Out(row);
    });
  }

  Result<uint64_t> TotalBlobBytes() override {
    return Read<uint64_t>([&](Connection& c) -> Result<uint64_t> {
      auto q = c.Prepare("SELECT COALESCE(SUM(size), 0) FROM blob");
      if (!q->executeStep()) return uint64_t{0};
      return static_cast<uint64_t>(q->getColumn(0).getInt64());
    });
  }

  Result<uint64_t> CountUploads() override {
    return Read<uint64_t>([&](Connection& c) -> Result<uint64_t> {
      auto q = c.Prepare("SELECT COUNT(*) FROM upload");
      if (!q->executeStep()) return uint64_t{0};
      return static_cast<uint64_t>(q->getColumn(0).getInt64());
    });
  }

  Status Ping() override {
    // Reads the schema (a shared lock on the file, unlike SELECT 1), giving
    // up quickly when another process holds the database: a probe must
    // answer within its deadline, not wait out the 10 s busy timeout.
    Result<int> read = Read<int>([&](Connection& c) -> Result<int> {
      c.SetBusyTimeout(std::chrono::milliseconds(250));
      struct Restore {
        Connection& c;
        ~Restore() { c.SetBusyTimeout(Connection::kBusyTimeout); }
      } restore{c};
      // A query of the catalog: it touches the database's pages, as
      // `SELECT 1` would not on SQLite.
      auto q = c.Prepare("SELECT count(*) FROM sqlite_master",
                         "SELECT count(*) FROM pg_catalog.pg_class");
      return q->executeStep() ? q->getColumn(0).getInt() : 0;
    });
    return read.ok() ? Status::Ok() : read.status();
  }

  // ---- manifest labels ----

  Result<std::vector<LabelRow>> ListLabels(std::string_view repository, const Digest& manifest,
                                           std::string_view key_prefix) override {
    using Out = std::vector<LabelRow>;
    return Read<Out>([&](Connection& c) -> Result<Out> {
      auto id = FindLiveManifestId(c, repository, manifest);
      if (!id.ok()) return id.status();
      // substr() rather than LIKE: keys may hold '_' and LIKE ignores case.
      auto q = c.Prepare(
          "SELECT uuid, key, value, media_type, source, created_at FROM manifest_label"
          " WHERE manifest_id = ? AND substr(key, 1, length(?2)) = ?2 ORDER BY id");
      q->bind(1, *id);
      q->bind(2, Str(key_prefix));
      Out out;
      while (q->executeStep()) out.push_back(ReadLabelRow(q));
      return out;
    });
  }

  Result<LabelRow> FindLabel(std::string_view repository, const Digest& manifest,
                             std::string_view uuid) override {
    return Read<LabelRow>([&](Connection& c) -> Result<LabelRow> {
      auto id = FindLiveManifestId(c, repository, manifest);
      if (!id.ok()) return id.status();
      auto q = c.Prepare(
          "SELECT uuid, key, value, media_type, source, created_at FROM manifest_label"
          " WHERE uuid = ? AND manifest_id = ?");
      q->bind(1, Str(uuid));
      q->bind(2, *id);
      if (!q->executeStep()) return UnknownLabel(uuid);
      return ReadLabelRow(q);
    });
  }

  Status InsertLabel(std::string_view repository, const Digest& manifest,
                     const LabelRow& label) override {
    return Write([&](Connection& c) -> Status {
      WriteTransaction tx(c);
      auto id = FindLiveManifestId(c, repository, manifest);
      if (!id.ok()) return id.status();
      auto ins = c.Prepare(
          "INSERT INTO manifest_label(uuid, manifest_id, key, value, media_type, source,"
          " created_at) VALUES(?, ?, ?, ?, ?, ?, ?)");
      ins->bind(1, label.uuid);
      ins->bind(2, *id);
      ins->bind(3, label.key);
      ins->bind(4, label.value);
      ins->bind(5, label.media_type);
      ins->bind(6, label.source);
      ins->bind(7, label.created_at);
      ins->exec();
      tx.Commit();
      return Status::Ok();
    });
  }

  Result<LabelRow> DeleteApiLabel(std::string_view repository, const Digest& manifest,
                                  std::string_view uuid) override {
    LabelRow row;
    Status s = Write([&](Connection& c) -> Status {
      WriteTransaction tx(c);
      auto id = FindLiveManifestId(c, repository, manifest);
      if (!id.ok()) return id.status();
      {
        auto q = c.Prepare(
            "SELECT uuid, key, value, media_type, source, created_at FROM manifest_label"
            " WHERE uuid = ? AND manifest_id = ?");
        q->bind(1, Str(uuid));
        q->bind(2, *id);
        if (!q->executeStep()) return UnknownLabel(uuid);
        row = ReadLabelRow(q);
      }
      if (row.source != "api") {
        return Status::InvalidArgument(Subject::kNone, "label " + row.uuid + " comes from the " +
                                                           row.source + " and cannot be deleted");
      }
      auto del = c.Prepare("DELETE FROM manifest_label WHERE uuid = ?");
      del->bind(1, Str(uuid));
      del->exec();
      tx.Commit();
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return row;
  }

  // ---- garbage collection (the SQL is in gc_queries.cpp) ----

  Result<GarbageEstimate> EstimateGarbage(const GcCutoffs& cutoffs,
                                          int64_t uploads_idle_since) override {
    return Read<GarbageEstimate>([&](Connection& c) -> Result<GarbageEstimate> {
      return gc::EstimateGarbage(c, cutoffs, uploads_idle_since);
    });
  }

  Result<uint64_t> ExpireTagHistory(const GcCutoffs& cutoffs, size_t limit) override {
    return WriteValue<uint64_t>(
        [&](Connection& c) { return gc::ExpireTagHistory(c, cutoffs, limit); });
  }

  Result<std::vector<int64_t>> FindDeadManifests(const GcCutoffs& cutoffs) override {
    return Read<std::vector<int64_t>>([&](Connection& c) -> Result<std::vector<int64_t>> {
      return gc::FindDeadManifests(c, cutoffs);
    });
  }

  Result<ManifestSweep> DeleteDeadManifests(const std::vector<int64_t>& ids,
                                            const GcCutoffs& cutoffs) override {
    return WriteValue<ManifestSweep>(
        [&](Connection& c) { return gc::DeleteDeadManifests(c, ids, cutoffs); });
  }

  Result<std::vector<BlobLinkKey>> FindDeadBlobLinks(const GcCutoffs& cutoffs,
                                                     const BlobLinkKey& after,
                                                     size_t limit) override {
    return Read<std::vector<BlobLinkKey>>([&](Connection& c) -> Result<std::vector<BlobLinkKey>> {
      return gc::FindDeadBlobLinks(c, cutoffs, after, limit);
    });
  }

  Result<uint64_t> DeleteDeadBlobLinks(const std::vector<BlobLinkKey>& links,
                                       const GcCutoffs& cutoffs) override {
    return WriteValue<uint64_t>(
        [&](Connection& c) { return gc::DeleteDeadBlobLinks(c, links, cutoffs); });
  }

  Result<std::vector<BlobRow>> FindDeadBlobs(const GcCutoffs& cutoffs, std::string_view after,
                                             size_t limit) override {
    return Read<std::vector<BlobRow>>([&](Connection& c) -> Result<std::vector<BlobRow>> {
      return gc::FindDeadBlobs(c, cutoffs, after, limit);
    });
  }

  Result<std::vector<BlobRow>> DeleteDeadBlobs(const std::vector<Digest>& digests,
                                               const GcCutoffs& cutoffs) override {
    return WriteValue<std::vector<BlobRow>>(
        [&](Connection& c) { return gc::DeleteDeadBlobs(c, digests, cutoffs); });
  }

  Result<std::vector<Digest>> FindUnrecordedBlobs(const std::vector<Digest>& digests) override {
    return Read<std::vector<Digest>>([&](Connection& c) -> Result<std::vector<Digest>> {
      return gc::FindUnrecordedBlobs(c, digests);
    });
  }

  Result<std::vector<std::string>> FindIdleUploads(int64_t idle_since, std::string_view after,
                                                   size_t limit) override {
    return Read<std::vector<std::string>>([&](Connection& c) -> Result<std::vector<std::string>> {
      return gc::FindIdleUploads(c, idle_since, after, limit);
    });
  }

  Result<std::vector<std::string>> DeleteIdleUploads(const std::vector<std::string>& ids,
                                                     int64_t idle_since) override {
    return WriteValue<std::vector<std::string>>(
        [&](Connection& c) { return gc::DeleteIdleUploads(c, ids, idle_since); });
  }

 private:
  // The id of the not deleted manifest `digest` of `repository`:
  // NotFound(kRepository) or NotFound(kManifest) otherwise.
  static Result<int64_t> FindLiveManifestId(Connection& c, std::string_view repository,
                                            const Digest& digest) {
    auto q = c.Prepare(
        "SELECT m.id FROM repository r LEFT JOIN manifest m ON m.repository_id = r.id"
        " AND m.digest = ? AND m.deleted_at IS NULL WHERE r.name = ?");
    q->bind(1, digest.str());
    q->bind(2, Str(repository));
    if (!q->executeStep()) {
      return Status::NotFound(Subject::kRepository,
                              "repository " + Str(repository) + " is unknown");
    }
    if (q->getColumn(0).isNull()) {
      return Status::NotFound(Subject::kManifest, "manifest " + digest.str() + " is unknown");
    }
    return q->getColumn(0).getInt64();
  }

  static Status UnknownLabel(std::string_view uuid) {
    return Status::NotFound(Subject::kNone, "label " + Str(uuid) + " is unknown");
  }

  // (uuid, key, value, media_type, source, created_at)
  static LabelRow ReadLabelRow(Stmt& q) {
    LabelRow row;
    row.uuid = q->getColumn(0).getString();
    row.key = q->getColumn(1).getString();
    row.value = q->getColumn(2).getString();
    row.media_type = q->getColumn(3).getString();
    row.source = q->getColumn(4).getString();
    row.created_at = q->getColumn(5).getInt64();
    return row;
  }

  // Rows of (name, digest, start_at, end_at) from a repository LEFT JOIN: no
  // row means an unknown repository, a NULL name one without matching rows.
  static Result<std::optional<std::vector<TagRow>>> ReadTagRows(Stmt& q) {
    using Out = std::optional<std::vector<TagRow>>;
    bool repository_found = false;
    std::vector<TagRow> rows;
    while (q->executeStep()) {
      repository_found = true;
      if (q->getColumn(0).isNull()) break;
      TagRow row;
      row.name = q->getColumn(0).getString();
      auto digest = Digest::Parse(q->getColumn(1).getString());
      if (!digest.ok()) return digest.status();
      row.manifest = *digest;
      row.start_at = q->getColumn(2).getInt64();
      if (!q->getColumn(3).isNull()) row.end_at = q->getColumn(3).getInt64();
      rows.push_back(std::move(row));
    }
    if (!repository_found) return Out();
    return Out(std::move(rows));
  }

  // SQLite's EXPLAIN QUERY PLAN of `sql`, one detail line per row.
  Result<std::string> Explain(std::string_view sql) {
    if (pool_.dialect() != Dialect::kSqlite) {
      return Status::Unsupported(Subject::kNone, "query plans are read from SQLite only");
    }
    return Read<std::string>([&](Connection& c) -> Result<std::string> {
      SQLite::Statement q(static_cast<SqliteConnection&>(c).db(),
                          "EXPLAIN QUERY PLAN " + std::string(sql));
      std::string plan;
      while (q.executeStep()) {
        plan += q.getColumn(3).getString();
        plan += '\n';
      }
      return plan;
    });
  }

  template <typename T, typename F>
  Result<T> Read(F&& f) {
    try {
      auto lease = pool_.AcquireReader();
      return f(*lease);
    } catch (const std::exception& e) {
      return FromException(e);
    }
  }

  template <typename F>
  Status Write(F&& f) {
    return WriteWith(Connection::Sync::kDurable, CacheEffect::kInvalidates, std::forward<F>(f));
  }

  // Upload-session bookkeeping, which no cache reads. A new session (POST) is
  // committed to the WAL without an fsync: it survives a process crash but
  // maybe not a power loss, which costs the client nothing it was promised
  // (no bytes yet). The next durable commit fsyncs these frames too.
  template <typename F>
  Status WriteRelaxed(F&& f) {
    return WriteWith(Connection::Sync::kRelaxed, CacheEffect::kNone, std::forward<F>(f));
  }
  // An acknowledged chunk's offset (PATCH): durable, still nothing cached.
  template <typename F>
  Status WriteUploadDurably(F&& f) {
    return WriteWith(Connection::Sync::kDurable, CacheEffect::kNone, std::forward<F>(f));
  }

  // Writes that may change what read caches hold (tags, manifests, blob
  // links, repositories) invalidate them, even when `f` fails: it may have
  // committed part of its work before failing, and a spare invalidation is
  // cheap.
  template <typename F>
  Status WriteWith(Connection::Sync mode, CacheEffect effect, F&& f) {
    const bool invalidate = effect == CacheEffect::kInvalidates;
    try {
      auto lock = pool_.LockWriter();
      pool_.writer().SetSynchronous(mode);
      Status s = f(pool_.writer());
      if (invalidate) pool_.InvalidateCaches();
      return s;
    } catch (const std::exception& e) {
      if (invalidate) pool_.InvalidateCaches();
      return FromException(e);
    }
  }

  // A write whose body returns a value (and throws on failure). Durable like
  // Write: GC deletes files right after its row deletes commit, so those
  // commits must survive a power loss, or a row could come back without its file.
  template <typename T, typename F>
  Result<T> WriteValue(F&& f) {
    try {
      auto lock = pool_.LockWriter();
      pool_.writer().SetSynchronous(Connection::Sync::kDurable);
      Result<T> out = f(pool_.writer());
      pool_.InvalidateCaches();
      return out;
    } catch (const std::exception& e) {
      pool_.InvalidateCaches();
      return FromException(e);
    }
  }

  ConnectionPool pool_;
  GroupCommit group_commits_;
};

}  // namespace

Result<std::string> DatabasePathFor(const Options& options) {
  std::string path = options.database_path;
  if (!options.data_dir.empty()) {
    if (std::error_code ec = core::CreatePrivateDirectories(options.data_dir)) {
      return Status::Unavailable("cannot create data dir " + options.data_dir + ": " +
                                 ec.message());
    }
    if (path.empty()) path = (std::filesystem::path(options.data_dir) / "quay.db").string();
  } else if (path.empty()) {
    path = ":memory:";
  }
  return path;
}

Result<std::unique_ptr<Database>> Database::Open(const std::string& path, bool durable) {
  try {
    auto db = std::make_unique<SqliteDatabase>(path, durable);
    db->Init();
    return std::unique_ptr<Database>(std::move(db));
  } catch (const std::exception& e) {
    return FromException(e);
  }
}

}  // namespace quay::db
