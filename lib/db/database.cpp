#include "db/database.h"

#include <chrono>
#include <exception>

#include <sqlite3.h>

#include "db/connection.h"
#include "db/schema.h"

namespace quay::db {
namespace {

// Digests and tags are grammar-checked before they reach here (only
// [a-z0-9:] and [A-Za-z0-9._-]), so quoting them needs no escaping. Lists go
// to SQLite as one JSON array bound to json_each(): one query per list, never
// one query per item.
std::string JsonArray(const std::vector<Digest>& digests) {
  std::string out = "[";
  for (size_t i = 0; i < digests.size(); ++i) {
    if (i) out += ',';
    out += '"';
    out += digests[i].str();
    out += '"';
  }
  out += ']';
  return out;
}

Status FromException(const std::exception& e) {
  if (const auto* se = dynamic_cast<const SQLite::Exception*>(&e)) {
    const int code = se->getErrorCode();
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
      return Status::Unavailable(std::string("database busy: ") + se->what());
    }
    if (code == SQLITE_FULL || code == SQLITE_IOERR) {
      return Status::Unavailable(std::string("database i/o failure: ") + se->what());
    }
  }
  return Status::Internal(std::string("database error: ") + e.what());
}

std::string Str(std::string_view v) { return std::string(v); }

// Commits on Commit(), rolls back otherwise: a failure anywhere in a write
// leaves the database as it was.
class WriteTransaction {
 public:
  explicit WriteTransaction(Connection& c) : c_(c) { c_.db().exec("BEGIN IMMEDIATE"); }
  ~WriteTransaction() {
    if (!done_) {
      try {
        c_.db().exec("ROLLBACK");
      } catch (...) {
        // The connection reports the failure on its next use.
      }
    }
  }
  void Commit() {
    c_.db().exec("COMMIT");
    done_ = true;
  }

 private:
  Connection& c_;
  bool done_ = false;
};

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

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(const std::string& path, bool durable) : pool_(path, durable) {}

  void Init() {
    auto lock = pool_.LockWriter();
    const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    Migrate(pool_.writer().db(), now);
  }

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
    return Write([&](Connection& c) {
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
      auto q = c.Prepare(
          "SELECT id, repository, byte_offset, created_at FROM upload WHERE id = ?");
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

  Status SaveUploadOffset(std::string_view id, uint64_t offset, int64_t now) override {
    return Write([&](Connection& c) {
      auto up = c.Prepare("UPDATE upload SET byte_offset = ?, updated_at = ? WHERE id = ?");
      up->bind(1, static_cast<int64_t>(offset));
      up->bind(2, now);
      up->bind(3, Str(id));
      if (up->exec() != 1) return Status::NotFound(Subject::kUpload, "upload session ended");
      return Status::Ok();
    });
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
    return Write([&](Connection& c) {
      WriteTransaction tx(c);
      const int64_t repo = EnsureRepository(c, repository, now);
      {
        auto ins = c.Prepare("INSERT OR IGNORE INTO blob(digest, size, created_at) VALUES(?, ?, ?)");
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
        auto del = c.Prepare("DELETE FROM upload WHERE id = ?");
        del->bind(1, Str(upload_id));
        del->exec();
      }
      tx.Commit();
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
    return Write([&](Connection& c) -> Status {
      WriteTransaction tx(c);
      const int64_t repo = EnsureRepository(c, repository, now);
      const std::string blobs = JsonArray(m.blobs);
      const std::string children = JsonArray(m.children);
      // The reference checks run inside the write transaction, so nothing can
      // unlink a blob between the check and the insert.
      if (!m.blobs.empty()) {
        auto missing = c.Prepare(
            "SELECT j.value FROM json_each(?) j WHERE NOT EXISTS ("
            " SELECT 1 FROM repository_blob rb WHERE rb.repository_id = ? AND rb.digest = j.value)"
            " LIMIT 1");
        missing->bind(1, blobs);
        missing->bind(2, repo);
        if (missing->executeStep()) {
          return Status::NotFound(Subject::kReference,
                                  "blob " + missing->getColumn(0).getString() +
                                      " is not in repository " + Str(repository));
        }
      }
      if (!m.children.empty()) {
        auto missing = c.Prepare(
            "SELECT j.value FROM json_each(?) j WHERE NOT EXISTS ("
            " SELECT 1 FROM manifest m WHERE m.repository_id = ? AND m.digest = j.value)"
            " LIMIT 1");
        missing->bind(1, children);
        missing->bind(2, repo);
        if (missing->executeStep()) {
          return Status::NotFound(Subject::kReference,
                                  "manifest " + missing->getColumn(0).getString() +
                                      " is not in repository " + Str(repository));
        }
      }
      {
        auto ins = c.Prepare(
            "INSERT INTO manifest(repository_id, digest, media_type, artifact_type,"
            " subject_digest, size, content, created_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(repository_id, digest) DO NOTHING");
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
        auto ins = c.Prepare(
            "INSERT OR IGNORE INTO manifest_blob(manifest_id, digest)"
            " SELECT ?, value FROM json_each(?)");
        ins->bind(1, manifest_id);
        ins->bind(2, blobs);
        ins->exec();
      }
      if (!m.children.empty()) {
        auto ins = c.Prepare(
            "INSERT OR IGNORE INTO manifest_child(parent_id, child_id)"
            " SELECT ?, id FROM manifest WHERE repository_id = ? AND digest IN"
            " (SELECT value FROM json_each(?))");
        ins->bind(1, manifest_id);
        ins->bind(2, repo);
        ins->bind(3, children);
        ins->exec();
      }
      if (!m.tag.empty()) {
        // Moving a tag closes its live row and opens a new one (tag history);
        // re-pushing the same manifest under the same tag changes nothing.
        int64_t current = 0;
        {
          auto q = c.Prepare(
              "SELECT manifest_id FROM tag WHERE repository_id = ? AND name = ? AND end_at IS NULL");
          q->bind(1, repo);
          q->bind(2, m.tag);
          if (q->executeStep()) current = q->getColumn(0).getInt64();
        }
        if (current != manifest_id) {
          if (current != 0) {
            auto end = c.Prepare(
                "UPDATE tag SET end_at = ? WHERE repository_id = ? AND name = ? AND end_at IS NULL");
            end->bind(1, now);
            end->bind(2, repo);
            end->bind(3, m.tag);
            end->exec();
          }
          auto ins = c.Prepare(
              "INSERT INTO tag(repository_id, name, manifest_id, start_at) VALUES(?, ?, ?, ?)");
          ins->bind(1, repo);
          ins->bind(2, m.tag);
          ins->bind(3, manifest_id);
          ins->bind(4, now);
          ins->exec();
        }
      }
      tx.Commit();
      return Status::Ok();
    });
  }

  Result<std::optional<ManifestRow>> FindManifestByDigest(std::string_view repository,
                                                          const Digest& digest) override {
    return Read<std::optional<ManifestRow>>(
        [&](Connection& c) -> Result<std::optional<ManifestRow>> {
          auto q = c.Prepare(
              "SELECT m.id, m.digest, m.media_type, m.content FROM manifest m"
              " JOIN repository r ON r.id = m.repository_id WHERE r.name = ? AND m.digest = ?");
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
              " JOIN manifest m ON m.id = t.manifest_id WHERE r.name = ? AND t.name = ?");
          q->bind(1, Str(repository));
          q->bind(2, Str(tag));
          return ReadManifestRow(q);
        });
  }

 private:
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
    try {
      auto lock = pool_.LockWriter();
      return f(pool_.writer());
    } catch (const std::exception& e) {
      return FromException(e);
    }
  }

  ConnectionPool pool_;
};

}  // namespace

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
