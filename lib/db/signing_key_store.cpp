#include "db/signing_key_store.h"

#include "db/connection.h"
#include "db/store_support.h"

namespace quay::db {
namespace {

#define QUAY_SIGNING_KEY_COLUMNS                                                 \
  "SELECT kid, service, algorithm, private_key_pem, public_key_pem, created_at," \
  " expires_at, rotated_at FROM signing_key "

SigningKeyRow ReadKey(Stmt& q) {
  SigningKeyRow row;
  row.kid = q->getColumn(0).getString();
  row.service = q->getColumn(1).getString();
  row.algorithm = q->getColumn(2).getString();
  row.private_key_pem = q->getColumn(3).getString();
  row.public_key_pem = q->getColumn(4).getString();
  row.created_at = q->getColumn(5).getInt64();
  if (!q->getColumn(6).isNull()) row.expires_at = q->getColumn(6).getInt64();
  if (!q->getColumn(7).isNull()) row.rotated_at = q->getColumn(7).getInt64();
  return row;
}

// A JSON object {"kid": ..., "service": ...}; kids and services are opaque
// text, so they are escaped.
std::string KeyMetadata(const std::string& kid, const std::string& service) {
  auto quote = [](const std::string& s) {
    std::string out = "\"";
    for (char ch : s) {
      if (ch == '"' || ch == '\\') out += '\\';
      if (static_cast<unsigned char>(ch) >= 0x20) out += ch;
    }
    return out + "\"";
  };
  return "{\"kid\":" + quote(kid) + ",\"service\":" + quote(service) + "}";
}

}  // namespace

Status SigningKeyRows::Insert(const SigningKeyRow& row, const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    {
      auto q = c.Prepare("SELECT 1 FROM signing_key WHERE kid = ?");
      q->bind(1, row.kid);
      if (q->executeStep()) return Status::Conflict(Subject::kNone, "signing key exists");
    }
    auto ins = c.Prepare(
        "INSERT INTO signing_key(kid, service, algorithm, private_key_pem, public_key_pem,"
        " created_at, expires_at, rotated_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?)");
    ins->bind(1, row.kid);
    ins->bind(2, row.service);
    ins->bind(3, row.algorithm);
    ins->bind(4, row.private_key_pem);
    ins->bind(5, row.public_key_pem);
    ins->bind(6, static_cast<int64_t>(row.created_at));
    BindOptional(ins, 7, row.expires_at);
    BindOptional(ins, 8, row.rotated_at);
    ins->exec();
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

Result<std::optional<SigningKeyRow>> SigningKeyRows::Find(std::string_view kid) {
  return ReadOn<std::optional<SigningKeyRow>>(pool_, [&](Connection& c) {
    auto q = c.Prepare(QUAY_SIGNING_KEY_COLUMNS "WHERE kid = ?");
    q->bind(1, Str(kid));
    if (!q->executeStep()) return std::optional<SigningKeyRow>();
    return std::optional<SigningKeyRow>(ReadKey(q));
  });
}

Result<std::vector<SigningKeyRow>> SigningKeyRows::List(std::string_view service,
                                                        bool include_expired, int64_t now) {
  return ReadOn<std::vector<SigningKeyRow>>(pool_, [&](Connection& c) {
    auto q = c.Prepare(QUAY_SIGNING_KEY_COLUMNS
                       "WHERE (?1 = '' OR service = ?1)"
                       " AND (?2 <> 0 OR expires_at IS NULL OR expires_at > ?3)"
                       " ORDER BY created_at DESC, kid");
    q->bind(1, Str(service));
    q->bind(2, include_expired ? 1 : 0);
    q->bind(3, static_cast<int64_t>(now));
    std::vector<SigningKeyRow> out;
    while (q->executeStep()) out.push_back(ReadKey(q));
    return out;
  });
}

Result<std::optional<SigningKeyRow>> SigningKeyRows::Current(std::string_view service,
                                                             int64_t now) {
  return ReadOn<std::optional<SigningKeyRow>>(pool_, [&](Connection& c) {
    auto q = c.Prepare(QUAY_SIGNING_KEY_COLUMNS
                       "WHERE service = ? AND private_key_pem <> '' AND rotated_at IS NULL"
                       " AND (expires_at IS NULL OR expires_at > ?)"
                       " ORDER BY created_at DESC, kid LIMIT 1");
    q->bind(1, Str(service));
    q->bind(2, static_cast<int64_t>(now));
    if (!q->executeStep()) return std::optional<SigningKeyRow>();
    return std::optional<SigningKeyRow>(ReadKey(q));
  });
}

Status SigningKeyRows::Retire(std::string_view kid, int64_t now, std::optional<int64_t> expires_at,
                              const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    auto up = c.Prepare(
        "UPDATE signing_key SET rotated_at = COALESCE(rotated_at, ?),"
        " expires_at = COALESCE(?, expires_at) WHERE kid = ?");
    up->bind(1, static_cast<int64_t>(now));
    BindOptional(up, 2, expires_at);
    up->bind(3, Str(kid));
    if (up->exec() == 0) return Status::NotFound(Subject::kNone, "unknown signing key");
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

Result<uint64_t> SigningKeyRows::DeleteExpired(int64_t now, const AuditRow& audit_template) {
  return WriteOn<uint64_t>(pool_, [&](Connection& c) -> Result<uint64_t> {
    std::vector<std::pair<std::string, std::string>> expired;
    {
      auto q = c.Prepare("SELECT kid, service FROM signing_key WHERE expires_at <= ?");
      q->bind(1, static_cast<int64_t>(now));
      while (q->executeStep()) {
        expired.emplace_back(q->getColumn(0).getString(), q->getColumn(1).getString());
      }
    }
    for (const auto& [kid, service] : expired) {
      auto del = c.Prepare("DELETE FROM signing_key WHERE kid = ?");
      del->bind(1, kid);
      del->exec();
      AuditRow row = audit_template;
      row.metadata = KeyMetadata(kid, service);
      InsertAudit(c, row);
    }
    return static_cast<uint64_t>(expired.size());
  });
}

Result<std::vector<std::pair<std::string, std::string>>> SigningKeyRows::ListPrivateKeys() {
  using Out = std::vector<std::pair<std::string, std::string>>;
  return ReadOn<Out>(pool_, [&](Connection& c) {
    auto q = c.Prepare("SELECT kid, private_key_pem FROM signing_key WHERE private_key_pem <> ''");
    Out out;
    while (q->executeStep()) {
      out.emplace_back(q->getColumn(0).getString(), q->getColumn(1).getString());
    }
    return out;
  });
}

Result<bool> SigningKeyRows::ReplacePrivateKey(std::string_view kid, std::string_view expected,
                                               std::string_view replacement) {
  return WriteOn<bool>(
      pool_,
      [&](Connection& c) -> Result<bool> {
        auto up = c.Prepare(
            "UPDATE signing_key SET private_key_pem = ? WHERE kid = ? AND private_key_pem = ?");
        up->bind(1, Str(replacement));
        up->bind(2, Str(kid));
        up->bind(3, Str(expected));
        return up->exec() == 1;
      },
      CacheEffect::kNone);
}

}  // namespace quay::db
