#include "db/identity_store.h"

#include <algorithm>
#include <climits>
#include <stdexcept>

#include "core/json_text.h"
#include "db/connection.h"
#include "db/sql_support.h"
#include "db/store_support.h"

namespace quay::db {
namespace {

const char* KindText(AccountKind k) {
  switch (k) {
    case AccountKind::kUser:
      return "user";
    case AccountKind::kOrg:
      return "org";
    case AccountKind::kRobot:
      return "robot";
  }
  return "user";
}

AccountKind KindFromText(const std::string& s) {
  if (s == "org") return AccountKind::kOrg;
  if (s == "robot") return AccountKind::kRobot;
  return AccountKind::kUser;
}

std::string BlobText(const Column& col) {
  if (col.isNull()) return {};
  return std::string(static_cast<const char*>(col.getBlob()), static_cast<size_t>(col.getBytes()));
}

int64_t LimitPlusOne(size_t limit) {
  return static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX - 1)) + 1;
}

#define QUAY_ACCOUNT_COLUMNS                                                        \
  "SELECT id, name, kind, email, password_hash, token_hash, owner_id, description," \
  " enabled, created_at, uuid FROM account "

AccountRow ReadAccount(Stmt& q) {
  AccountRow row;
  row.id = q->getColumn(0).getInt64();
  row.name = q->getColumn(1).getString();
  row.kind = KindFromText(q->getColumn(2).getString());
  row.email = q->getColumn(3).getString();
  row.password_hash = q->getColumn(4).getString();
  row.token_hash = BlobText(q->getColumn(5));
  if (!q->getColumn(6).isNull()) row.owner_id = q->getColumn(6).getInt64();
  row.description = q->getColumn(7).getString();
  row.enabled = q->getColumn(8).getInt() != 0;
  row.created_at = q->getColumn(9).getInt64();
  if (!q->getColumn(10).isNull()) row.uuid = q->getColumn(10).getString();
  return row;
}

std::optional<AccountRow> AccountByName(Connection& c, std::string_view name) {
  auto q = c.Prepare(QUAY_ACCOUNT_COLUMNS "WHERE name = ?");
  q->bind(1, Str(name));
  if (!q->executeStep()) return std::nullopt;
  return ReadAccount(q);
}

std::optional<AccountRow> AccountById(Connection& c, int64_t id) {
  auto q = c.Prepare(QUAY_ACCOUNT_COLUMNS "WHERE id = ?");
  q->bind(1, static_cast<int64_t>(id));
  if (!q->executeStep()) return std::nullopt;
  return ReadAccount(q);
}

// Inserts the row and returns it with its id and its new uuid (drawn here,
// never taken from `row`: no caller may choose or reuse one).
AccountRow InsertAccountRow(Connection& c, const AccountRow& row) {
  auto ins = c.Prepare(
      "INSERT INTO account(name, kind, email, password_hash, token_hash, owner_id, description,"
      " enabled, created_at, uuid) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, lower(hex(randomblob(16))))"
      " RETURNING id, uuid");
  ins->bind(1, row.name);
  ins->bind(2, KindText(row.kind));
  ins->bind(3, row.email);
  if (row.password_hash.empty()) {
    ins->bind(4);
  } else {
    ins->bind(4, row.password_hash);
  }
  if (row.token_hash.empty()) {
    ins->bind(5);
  } else {
    ins->bind(5, row.token_hash.data(), static_cast<int>(row.token_hash.size()));
  }
  BindOptional(ins, 6, row.owner_id);
  ins->bind(7, row.description);
  ins->bind(8, row.enabled ? 1 : 0);
  ins->bind(9, static_cast<int64_t>(row.created_at));
  AccountRow out = row;
  if (!ins->executeStep()) throw std::runtime_error("account insert returned no row");
  out.id = ins->getColumn(0).getInt64();
  out.uuid = ins->getColumn(1).getString();
  return out;
}

#define QUAY_TEAM_COLUMNS "SELECT id, org_id, name, role, description FROM team "

TeamRow ReadTeam(Stmt& q) {
  TeamRow row;
  row.id = q->getColumn(0).getInt64();
  row.org_id = q->getColumn(1).getInt64();
  row.name = q->getColumn(2).getString();
  row.role = q->getColumn(3).getInt();
  row.description = q->getColumn(4).getString();
  return row;
}

TokenRow ReadToken(Stmt& q, bool oauth) {
  // Columns: id, uuid, account_id, user, title/application, scopes,
  // secret_hash, created_at, expires_at, last_used_at, application_id,
  // client_id, the user's account uuid.
  TokenRow row;
  row.id = q->getColumn(0).getInt64();
  row.uuid = q->getColumn(1).getString();
  row.account_id = q->getColumn(2).getInt64();
  row.user = q->getColumn(3).getString();
  row.title = q->getColumn(4).getString();
  if (oauth) row.scopes = static_cast<uint16_t>(q->getColumn(5).getInt());
  row.secret_hash = BlobText(q->getColumn(6));
  row.created_at = q->getColumn(7).getInt64();
  if (!q->getColumn(8).isNull()) row.expires_at = q->getColumn(8).getInt64();
  if (!q->getColumn(9).isNull()) row.last_used_at = q->getColumn(9).getInt64();
  if (!q->getColumn(10).isNull()) row.application_id = q->getColumn(10).getInt64();
  if (!q->getColumn(11).isNull()) row.client_id = q->getColumn(11).getString();
  if (!q->getColumn(12).isNull()) row.user_uuid = q->getColumn(12).getString();
  return row;
}

#define QUAY_APP_TOKEN_COLUMNS                                                          \
  "SELECT t.id, t.uuid, t.account_id, a.name, t.title, 0, t.secret_hash, t.created_at," \
  " t.expires_at, t.last_used_at, NULL, NULL, a.uuid FROM app_token t JOIN account a"   \
  " ON a.id = t.account_id "
#define QUAY_OAUTH_TOKEN_COLUMNS                                                       \
  "SELECT t.id, t.uuid, t.account_id, a.name, t.application, t.scopes,"                \
  " t.secret_hash, t.created_at, t.expires_at, NULL, t.application_id, app.client_id," \
  " a.uuid FROM oauth_token t JOIN account a ON a.id = t.account_id"                   \
  " LEFT JOIN oauth_application app ON app.id = t.application_id "

}  // namespace

// ---- accounts ----

Result<std::optional<AccountRow>> IdentityStore::FindAccount(std::string_view name) {
  const uint64_t generation = pool_.CacheGeneration();
  if (auto hit = accounts_.Get(name, generation)) return std::optional<AccountRow>(std::move(*hit));
  auto row = ReadOn<std::optional<AccountRow>>(
      pool_, [&](Connection& c) { return AccountByName(c, name); });
  if (row.ok() && *row) {
    const AccountRow& a = **row;
    accounts_.Put(name, generation, a,
                  sizeof(AccountRow) + name.size() + a.name.size() + a.uuid.size() +
                      a.email.size() + a.password_hash.size() + a.token_hash.size() +
                      a.description.size());
  }
  return row;
}

Result<AccountRow> IdentityStore::InsertAccount(const AccountRow& row, const AuditRow& audit) {
  return WriteOn<AccountRow>(pool_, [&](Connection& c) -> Result<AccountRow> {
    if (AccountByName(c, row.name)) return Status::Conflict(Subject::kNone, "name already taken");
    AccountRow out = InsertAccountRow(c, row);
    InsertAudit(c, audit);
    return out;
  });
}

Result<AccountRow> IdentityStore::InsertOrganization(const AccountRow& org,
                                                     std::string_view owners_team, int64_t owner_id,
                                                     const AuditRow& audit) {
  return WriteOn<AccountRow>(pool_, [&](Connection& c) -> Result<AccountRow> {
    if (AccountByName(c, org.name)) return Status::Conflict(Subject::kNone, "name already taken");
    AccountRow out = InsertAccountRow(c, org);
    auto team = c.Prepare(
        "INSERT INTO team(org_id, name, role, description, created_at) VALUES(?, ?, 2, '', ?)"
        " RETURNING id");
    team->bind(1, static_cast<int64_t>(out.id));
    team->bind(2, Str(owners_team));
    team->bind(3, static_cast<int64_t>(org.created_at));
    const int64_t team_id = InsertedId(team);
    auto member = c.Prepare("INSERT INTO team_member(team_id, account_id) VALUES(?, ?)");
    member->bind(1, static_cast<int64_t>(team_id));
    member->bind(2, static_cast<int64_t>(owner_id));
    member->exec();
    InsertAudit(c, audit);
    return out;
  });
}

Status IdentityStore::UpdatePassword(std::string_view name, std::string_view hash,
                                     const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    auto up = c.Prepare("UPDATE account SET password_hash = ? WHERE name = ? AND kind = 'user'");
    up->bind(1, Str(hash));
    up->bind(2, Str(name));
    if (up->exec() == 0) return Status::NotFound(Subject::kNone, "unknown user");
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

Status IdentityStore::UpdateEnabled(std::string_view name, bool enabled, const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    auto up = c.Prepare("UPDATE account SET enabled = ? WHERE name = ? AND kind = 'user'");
    up->bind(1, enabled ? 1 : 0);
    up->bind(2, Str(name));
    if (up->exec() == 0) return Status::NotFound(Subject::kNone, "unknown user");
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

Status IdentityStore::UpdateRobotToken(int64_t robot_id, std::string_view token_hash,
                                       const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    auto up = c.Prepare("UPDATE account SET token_hash = ? WHERE id = ? AND kind = 'robot'");
    up->bind(1, token_hash.data(), static_cast<int>(token_hash.size()));
    up->bind(2, static_cast<int64_t>(robot_id));
    if (up->exec() == 0) return Status::NotFound(Subject::kNone, "unknown robot");
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

Status IdentityStore::DeleteAccount(int64_t id, const AuditRow& audit) {
  // Foreign keys cascade: robots of the account, teams and memberships,
  // permissions, prototypes and tokens go with it.
  return WriteStatusOn(pool_, [&](Connection& c) {
    auto del = c.Prepare("DELETE FROM account WHERE id = ?");
    del->bind(1, static_cast<int64_t>(id));
    if (del->exec() == 0) return Status::NotFound(Subject::kNone, "unknown account");
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

Result<std::vector<std::string>> IdentityStore::DeleteNamespace(
    std::string_view ns, std::optional<int64_t> account_id, const std::optional<AuditRow>& audit) {
  const std::string low = std::string(ns) + "/";
  const std::string high = std::string(ns) + "0";
  std::vector<std::string> uploads;
  Status s = WriteStatusOn(pool_, [&](Connection& c) {
    uploads.clear();
    // Set-based, children before parents (foreign keys are on), as
    // Database::DeleteRepository does for one repository.
    static constexpr const char* kDeletes[] = {
        "DELETE FROM tag WHERE repository_id IN (SELECT id FROM repository"
        " WHERE name >= ?1 AND name < ?2)",
        "DELETE FROM manifest_child WHERE parent_id IN (SELECT m.id FROM manifest m"
        " JOIN repository r ON r.id = m.repository_id WHERE r.name >= ?1 AND r.name < ?2)",
        "DELETE FROM manifest_blob WHERE manifest_id IN (SELECT m.id FROM manifest m"
        " JOIN repository r ON r.id = m.repository_id WHERE r.name >= ?1 AND r.name < ?2)",
        "DELETE FROM manifest_label WHERE manifest_id IN (SELECT m.id FROM manifest m"
        " JOIN repository r ON r.id = m.repository_id WHERE r.name >= ?1 AND r.name < ?2)",
        "DELETE FROM manifest WHERE repository_id IN (SELECT id FROM repository"
        " WHERE name >= ?1 AND name < ?2)",
        "DELETE FROM repository_blob WHERE repository_id IN (SELECT id FROM repository"
        " WHERE name >= ?1 AND name < ?2)",
        "DELETE FROM repository WHERE name >= ?1 AND name < ?2",
    };
    for (const char* sql : kDeletes) {
      auto del = c.Prepare(sql);
      del->bind(1, low);
      del->bind(2, high);
      del->exec();
    }
    {
      auto del =
          c.Prepare("DELETE FROM upload WHERE repository >= ?1 AND repository < ?2 RETURNING id");
      del->bind(1, low);
      del->bind(2, high);
      while (del->executeStep()) uploads.push_back(del->getColumn(0).getString());
    }
    if (account_id) {
      auto del = c.Prepare("DELETE FROM account WHERE id = ?");
      del->bind(1, static_cast<int64_t>(*account_id));
      if (del->exec() == 0) return Status::NotFound(Subject::kNone, "unknown account");
    }
    if (audit) InsertAudit(c, *audit);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return uploads;
}

Result<std::pair<std::vector<std::string>, bool>> IdentityStore::ListAccounts(
    AccountKind kind, size_t limit, std::string_view after) {
  using Out = std::pair<std::vector<std::string>, bool>;
  return ReadOn<Out>(pool_, [&](Connection& c) {
    auto q =
        c.Prepare("SELECT name FROM account WHERE kind = ? AND name > ? ORDER BY name LIMIT ?");
    q->bind(1, KindText(kind));
    q->bind(2, Str(after));
    q->bind(3, LimitPlusOne(limit));
    Out out;
    while (q->executeStep()) out.first.push_back(q->getColumn(0).getString());
    if (out.first.size() > limit) {
      out.first.resize(limit);
      out.second = true;
    }
    return out;
  });
}

Result<std::vector<AccountRow>> IdentityStore::ListRobots(int64_t owner_id) {
  return ReadOn<std::vector<AccountRow>>(pool_, [&](Connection& c) {
    auto q = c.Prepare(QUAY_ACCOUNT_COLUMNS "WHERE owner_id = ? AND kind = 'robot' ORDER BY name");
    q->bind(1, static_cast<int64_t>(owner_id));
    std::vector<AccountRow> out;
    while (q->executeStep()) out.push_back(ReadAccount(q));
    return out;
  });
}

// ---- teams ----

Result<std::optional<TeamRow>> IdentityStore::FindTeam(int64_t org_id, std::string_view name) {
  return ReadOn<std::optional<TeamRow>>(pool_, [&](Connection& c) {
    auto q = c.Prepare(QUAY_TEAM_COLUMNS "WHERE org_id = ? AND name = ?");
    q->bind(1, static_cast<int64_t>(org_id));
    q->bind(2, Str(name));
    if (!q->executeStep()) return std::optional<TeamRow>();
    return std::optional<TeamRow>(ReadTeam(q));
  });
}

Result<TeamRow> IdentityStore::InsertTeam(const TeamRow& row, int64_t now, const AuditRow& audit) {
  return WriteOn<TeamRow>(pool_, [&](Connection& c) -> Result<TeamRow> {
    {
      auto q = c.Prepare("SELECT 1 FROM team WHERE org_id = ? AND name = ?");
      q->bind(1, static_cast<int64_t>(row.org_id));
      q->bind(2, row.name);
      if (q->executeStep()) return Status::Conflict(Subject::kNone, "team exists");
    }
    auto ins = c.Prepare(
        "INSERT INTO team(org_id, name, role, description, created_at) VALUES(?, ?, ?, ?, ?)"
        " RETURNING id");
    ins->bind(1, static_cast<int64_t>(row.org_id));
    ins->bind(2, row.name);
    ins->bind(3, row.role);
    ins->bind(4, row.description);
    ins->bind(5, static_cast<int64_t>(now));
    TeamRow out = row;
    out.id = InsertedId(ins);
    InsertAudit(c, audit);
    return out;
  });
}

Status IdentityStore::UpdateTeamRole(int64_t team_id, int role, const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    auto up = c.Prepare("UPDATE team SET role = ? WHERE id = ?");
    up->bind(1, role);
    up->bind(2, static_cast<int64_t>(team_id));
    if (up->exec() == 0) return Status::NotFound(Subject::kNone, "unknown team");
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

Status IdentityStore::DeleteTeam(int64_t team_id, const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    auto del = c.Prepare("DELETE FROM team WHERE id = ?");
    del->bind(1, static_cast<int64_t>(team_id));
    if (del->exec() == 0) return Status::NotFound(Subject::kNone, "unknown team");
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

Result<bool> IdentityStore::AddTeamMember(int64_t team_id, int64_t account_id,
                                          const AuditRow& audit) {
  return WriteOn<bool>(pool_, [&](Connection& c) -> Result<bool> {
    auto ins = c.Prepare("INSERT OR IGNORE INTO team_member(team_id, account_id) VALUES(?, ?)");
    ins->bind(1, static_cast<int64_t>(team_id));
    ins->bind(2, static_cast<int64_t>(account_id));
    if (ins->exec() == 0) return false;
    InsertAudit(c, audit);
    return true;
  });
}

Status IdentityStore::RemoveTeamMember(int64_t team_id, int64_t account_id, const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    auto del = c.Prepare("DELETE FROM team_member WHERE team_id = ? AND account_id = ?");
    del->bind(1, static_cast<int64_t>(team_id));
    del->bind(2, static_cast<int64_t>(account_id));
    if (del->exec() == 0) return Status::NotFound(Subject::kNone, "not a member of the team");
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

Result<std::vector<TeamRow>> IdentityStore::ListTeams(int64_t org_id) {
  return ReadOn<std::vector<TeamRow>>(pool_, [&](Connection& c) {
    auto q = c.Prepare(QUAY_TEAM_COLUMNS "WHERE org_id = ? ORDER BY name");
    q->bind(1, static_cast<int64_t>(org_id));
    std::vector<TeamRow> out;
    while (q->executeStep()) out.push_back(ReadTeam(q));
    return out;
  });
}

Result<std::vector<std::string>> IdentityStore::ListTeamMembers(int64_t team_id) {
  return ReadOn<std::vector<std::string>>(pool_, [&](Connection& c) {
    auto q = c.Prepare(
        "SELECT a.name FROM team_member m JOIN account a ON a.id = m.account_id"
        " WHERE m.team_id = ? ORDER BY a.name");
    q->bind(1, static_cast<int64_t>(team_id));
    std::vector<std::string> out;
    while (q->executeStep()) out.push_back(q->getColumn(0).getString());
    return out;
  });
}

// ---- repositories ----

namespace {

std::optional<RepositoryRow> RepositoryByName(Connection& c, std::string_view name) {
  auto q = c.Prepare(
      "SELECT r.id, r.name, s.repository_id IS NOT NULL, COALESCE(CASE WHEN s.visibility = "
      "'public' THEN 1 END, 0),"
      " COALESCE(s.description, ''), r.created_at FROM repository r"
      " LEFT JOIN repository_settings s ON s.repository_id = r.id WHERE r.name = ?");
  q->bind(1, Str(name));
  if (!q->executeStep()) return std::nullopt;
  RepositoryRow row;
  row.id = q->getColumn(0).getInt64();
  row.name = q->getColumn(1).getString();
  row.has_settings = q->getColumn(2).getInt() != 0;
  row.is_public = q->getColumn(3).getInt() != 0;
  row.description = q->getColumn(4).getString();
  row.created_at = q->getColumn(5).getInt64();
  return row;
}

}  // namespace

Result<std::optional<RepositoryRow>> IdentityStore::FindRepository(std::string_view name) {
  const uint64_t generation = pool_.CacheGeneration();
  if (auto hit = repositories_.Get(name, generation)) {
    return std::optional<RepositoryRow>(std::move(*hit));
  }
  auto row = ReadOn<std::optional<RepositoryRow>>(
      pool_, [&](Connection& c) { return RepositoryByName(c, name); });
  if (row.ok() && *row) {
    const RepositoryRow& r = **row;
    repositories_.Put(name, generation, r,
                      sizeof(RepositoryRow) + name.size() + r.name.size() + r.description.size());
  }
  return row;
}

Result<bool> IdentityStore::CreateRepository(const NewRepository& repo, const AuditRow& audit) {
  return WriteOn<bool>(pool_, [&](Connection& c) -> Result<bool> {
    int64_t id = 0;
    if (auto existing = RepositoryByName(c, repo.name)) {
      if (existing->has_settings || !repo.adopt) return false;
      id = existing->id;
    } else {
      auto ins = c.Prepare("INSERT INTO repository(name, created_at) VALUES(?, ?) RETURNING id");
      ins->bind(1, repo.name);
      ins->bind(2, static_cast<int64_t>(repo.now));
      id = InsertedId(ins);
    }
    {
      auto ins = c.Prepare(
          "INSERT INTO repository_settings(repository_id, visibility, description)"
          " VALUES(?, ?, ?)");
      ins->bind(1, static_cast<int64_t>(id));
      ins->bind(2, repo.is_public ? "public" : "private");
      ins->bind(3, repo.description);
      ins->exec();
    }
    if (repo.creator_id != 0) {
      // Quay's create_repository: the creating user (or robot) administers
      // what it created - a "creator" team member has no other grant on it.
      auto ins = c.Prepare(
          "INSERT INTO repository_permission(repository_id, account_id, role) VALUES(?, ?, 3)"
          " ON CONFLICT(repository_id, account_id) WHERE account_id IS NOT NULL"
          " DO UPDATE SET role = 3");
      ins->bind(1, static_cast<int64_t>(id));
      ins->bind(2, static_cast<int64_t>(repo.creator_id));
      ins->exec();
    }
    if (repo.org_id != 0) {
      // Default permissions: every prototype of the org whose activating user
      // is unset or is the creator; the strongest role wins per delegate, and
      // an existing (stronger or not) grant is kept.
      auto ins = c.Prepare(
          "INSERT OR IGNORE INTO repository_permission(repository_id, account_id, team_id, role)"
          " SELECT ?1, delegate_account_id, delegate_team_id, MAX(role)"
          " FROM permission_prototype WHERE org_id = ?2"
          " AND (activating_account_id IS NULL OR activating_account_id = ?3)"
          " GROUP BY delegate_account_id, delegate_team_id");
      ins->bind(1, static_cast<int64_t>(id));
      ins->bind(2, static_cast<int64_t>(repo.org_id));
      ins->bind(3, static_cast<int64_t>(repo.creator_id));
      ins->exec();
    }
    InsertAudit(c, audit);
    return true;
  });
}

Status IdentityStore::UpdateRepositorySettings(int64_t repository_id, bool is_public,
                                               std::string_view description,
                                               const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    auto up = c.Prepare(
        "INSERT INTO repository_settings(repository_id, visibility, description) VALUES(?, ?, ?)"
        " ON CONFLICT(repository_id) DO UPDATE SET visibility = excluded.visibility,"
        " description = excluded.description");
    up->bind(1, static_cast<int64_t>(repository_id));
    up->bind(2, is_public ? "public" : "private");
    up->bind(3, Str(description));
    up->exec();
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

// A repository is visible when any of these holds: the filter says
// everything (superusers who read all); it is public and public ones count;
// it is in the account's own namespace; the account or one of its teams has a
// grant on it; the account is in an admin team of its namespace org. The scan
// walks repository names in order from `after`, so a page costs at most the
// rows between two visible names.
Result<std::pair<std::vector<std::string>, bool>> IdentityStore::ListVisibleRepositories(
    const VisibleFilter& filter, size_t limit, std::string_view after) {
  using Out = std::pair<std::vector<std::string>, bool>;
  return ReadOn<Out>(pool_, [&](Connection& c) {
    auto q = c.Prepare(
        "SELECT r.name FROM repository r WHERE r.name > ?1 AND ("
        " ?2 <> 0"
        " OR (?3 <> 0 AND EXISTS (SELECT 1 FROM repository_settings s"
        "     WHERE s.repository_id = r.id AND s.visibility = 'public'))"
        " OR (?5 <> '' AND substr(r.name, 1, length(?5) + 1) = ?5 || '/')"
        " OR (?4 <> 0 AND EXISTS (SELECT 1 FROM repository_permission p"
        "     WHERE p.repository_id = r.id AND (p.account_id = ?4 OR p.team_id IN"
        "     (SELECT team_id FROM team_member WHERE account_id = ?4))))"
        " OR (?4 <> 0 AND EXISTS (SELECT 1 FROM team_member m JOIN team t ON t.id = m.team_id"
        "     JOIN account o ON o.id = t.org_id WHERE m.account_id = ?4 AND t.role = 2"
        "     AND substr(r.name, 1, length(o.name) + 1) = o.name || '/'))"
        ") ORDER BY r.name LIMIT ?6");
    q->bind(1, Str(after));
    q->bind(2, filter.everything ? 1 : 0);
    q->bind(3, filter.public_ones ? 1 : 0);
    q->bind(4, static_cast<int64_t>(filter.account_id));
    q->bind(5, filter.own_namespace);
    q->bind(6, LimitPlusOne(limit));
    Out out;
    while (q->executeStep()) out.first.push_back(q->getColumn(0).getString());
    if (out.first.size() > limit) {
      out.first.resize(limit);
      out.second = true;
    }
    return out;
  });
}

// ---- permissions ----

Status IdentityStore::UpsertPermission(int64_t repository_id, std::optional<int64_t> account_id,
                                       std::optional<int64_t> team_id, int role,
                                       const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    if (account_id) {
      auto up = c.Prepare(
          "INSERT INTO repository_permission(repository_id, account_id, role) VALUES(?, ?, ?)"
          " ON CONFLICT(repository_id, account_id) WHERE account_id IS NOT NULL"
          " DO UPDATE SET role = excluded.role");
      up->bind(1, static_cast<int64_t>(repository_id));
      up->bind(2, static_cast<int64_t>(*account_id));
      up->bind(3, role);
      up->exec();
    } else {
      auto up = c.Prepare(
          "INSERT INTO repository_permission(repository_id, team_id, role) VALUES(?, ?, ?)"
          " ON CONFLICT(repository_id, team_id) WHERE team_id IS NOT NULL"
          " DO UPDATE SET role = excluded.role");
      up->bind(1, static_cast<int64_t>(repository_id));
      up->bind(2, static_cast<int64_t>(team_id.value_or(0)));
      up->bind(3, role);
      up->exec();
    }
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

Status IdentityStore::DeletePermission(int64_t repository_id, std::optional<int64_t> account_id,
                                       std::optional<int64_t> team_id, const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    int changed = 0;
    if (account_id) {
      auto del =
          c.Prepare("DELETE FROM repository_permission WHERE repository_id = ? AND account_id = ?");
      del->bind(1, static_cast<int64_t>(repository_id));
      del->bind(2, static_cast<int64_t>(*account_id));
      changed = del->exec();
    } else {
      auto del =
          c.Prepare("DELETE FROM repository_permission WHERE repository_id = ? AND team_id = ?");
      del->bind(1, static_cast<int64_t>(repository_id));
      del->bind(2, static_cast<int64_t>(team_id.value_or(0)));
      changed = del->exec();
    }
    if (changed == 0) return Status::NotFound(Subject::kNone, "no such permission");
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

Result<std::vector<PermissionRow>> IdentityStore::ListPermissions(int64_t repository_id) {
  return ReadOn<std::vector<PermissionRow>>(pool_, [&](Connection& c) {
    auto q = c.Prepare(
        "SELECT 0, a.name, a.kind, p.role FROM repository_permission p"
        " JOIN account a ON a.id = p.account_id WHERE p.repository_id = ?1"
        " UNION ALL"
        " SELECT 1, t.name, 'user', p.role FROM repository_permission p"
        " JOIN team t ON t.id = p.team_id WHERE p.repository_id = ?1"
        " ORDER BY 1, 2");
    q->bind(1, static_cast<int64_t>(repository_id));
    std::vector<PermissionRow> out;
    while (q->executeStep()) {
      PermissionRow row;
      row.is_team = q->getColumn(0).getInt() != 0;
      row.name = q->getColumn(1).getString();
      row.account_kind = KindFromText(q->getColumn(2).getString());
      row.role = q->getColumn(3).getInt();
      out.push_back(std::move(row));
    }
    return out;
  });
}

// ---- prototypes ----

Status IdentityStore::InsertPrototype(std::string_view uuid, int64_t org_id,
                                      std::optional<int64_t> activating_id,
                                      std::optional<int64_t> delegate_account_id,
                                      std::optional<int64_t> delegate_team_id, int role,
                                      int64_t now, const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    auto ins = c.Prepare(
        "INSERT INTO permission_prototype(uuid, org_id, activating_account_id,"
        " delegate_account_id, delegate_team_id, role, created_at) VALUES(?, ?, ?, ?, ?, ?, ?)");
    ins->bind(1, Str(uuid));
    ins->bind(2, static_cast<int64_t>(org_id));
    BindOptional(ins, 3, activating_id);
    BindOptional(ins, 4, delegate_account_id);
    BindOptional(ins, 5, delegate_team_id);
    ins->bind(6, role);
    ins->bind(7, static_cast<int64_t>(now));
    ins->exec();
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

Status IdentityStore::DeletePrototype(int64_t org_id, std::string_view uuid,
                                      const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    auto del = c.Prepare("DELETE FROM permission_prototype WHERE org_id = ? AND uuid = ?");
    del->bind(1, static_cast<int64_t>(org_id));
    del->bind(2, Str(uuid));
    if (del->exec() == 0) return Status::NotFound(Subject::kNone, "unknown prototype");
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

Result<std::vector<PrototypeRow>> IdentityStore::ListPrototypes(int64_t org_id) {
  return ReadOn<std::vector<PrototypeRow>>(pool_, [&](Connection& c) {
    auto q = c.Prepare(
        "SELECT p.uuid, act.name, p.delegate_team_id IS NOT NULL, COALESCE(t.name, d.name),"
        " COALESCE(d.kind, 'user'), p.role FROM permission_prototype p"
        " LEFT JOIN account act ON act.id = p.activating_account_id"
        " LEFT JOIN account d ON d.id = p.delegate_account_id"
        " LEFT JOIN team t ON t.id = p.delegate_team_id"
        " WHERE p.org_id = ? ORDER BY p.id");
    q->bind(1, static_cast<int64_t>(org_id));
    std::vector<PrototypeRow> out;
    while (q->executeStep()) {
      PrototypeRow row;
      row.uuid = q->getColumn(0).getString();
      if (!q->getColumn(1).isNull()) row.activating_user = q->getColumn(1).getString();
      row.delegate_is_team = q->getColumn(2).getInt() != 0;
      row.delegate_name = q->getColumn(3).getString();
      row.delegate_kind = KindFromText(q->getColumn(4).getString());
      row.role = q->getColumn(5).getInt();
      out.push_back(std::move(row));
    }
    return out;
  });
}

// ---- tokens ----

Status IdentityStore::InsertToken(bool oauth, const TokenRow& row, std::string_view lookup,
                                  const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    auto ins = oauth ? c.Prepare(
                           "INSERT INTO oauth_token(uuid, account_id, application, scopes, lookup,"
                           " secret_hash, created_at, expires_at, application_id) VALUES(?1, ?2,"
                           " ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
                     : c.Prepare(
                           "INSERT INTO app_token(uuid, account_id, title, lookup, secret_hash,"
                           " created_at, expires_at) VALUES(?1, ?2, ?3, ?5, ?6, ?7, ?8)");
    ins->bind(1, row.uuid);
    ins->bind(2, static_cast<int64_t>(row.account_id));
    ins->bind(3, row.title);
    if (oauth) ins->bind(4, static_cast<int>(row.scopes));
    ins->bind(5, Str(lookup));
    ins->bind(6, row.secret_hash.data(), static_cast<int>(row.secret_hash.size()));
    ins->bind(7, static_cast<int64_t>(row.created_at));
    BindOptional(ins, 8, row.expires_at);
    if (oauth) BindOptional(ins, 9, row.application_id);
    ins->exec();
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

Result<std::optional<TokenRow>> IdentityStore::FindTokenByLookup(bool oauth,
                                                                 std::string_view lookup) {
  return ReadOn<std::optional<TokenRow>>(pool_, [&](Connection& c) {
    auto q = oauth ? c.Prepare(QUAY_OAUTH_TOKEN_COLUMNS "WHERE t.lookup = ?")
                   : c.Prepare(QUAY_APP_TOKEN_COLUMNS "WHERE t.lookup = ?");
    q->bind(1, Str(lookup));
    if (!q->executeStep()) return std::optional<TokenRow>();
    return std::optional<TokenRow>(ReadToken(q, oauth));
  });
}

Result<std::optional<TokenRow>> IdentityStore::FindTokenByUuid(bool oauth, std::string_view uuid) {
  return ReadOn<std::optional<TokenRow>>(pool_, [&](Connection& c) {
    auto q = oauth ? c.Prepare(QUAY_OAUTH_TOKEN_COLUMNS "WHERE t.uuid = ?")
                   : c.Prepare(QUAY_APP_TOKEN_COLUMNS "WHERE t.uuid = ?");
    q->bind(1, Str(uuid));
    if (!q->executeStep()) return std::optional<TokenRow>();
    return std::optional<TokenRow>(ReadToken(q, oauth));
  });
}

// Best-effort bookkeeping on the login path: committed without an fsync of
// its own (the next durable commit carries it), so a login costs none.
Status IdentityStore::TouchAppToken(int64_t id, int64_t now) {
  try {
    auto lock = pool_.LockWriter();
    Connection& c = pool_.writer();
    c.SetSynchronous(Connection::Sync::kRelaxed);
    auto up = c.Prepare("UPDATE app_token SET last_used_at = ? WHERE id = ?");
    up->bind(1, static_cast<int64_t>(now));
    up->bind(2, static_cast<int64_t>(id));
    up->exec();
    return Status::Ok();
  } catch (const std::exception& e) {
    return FromException(e);
  }
}

Status IdentityStore::DeleteToken(bool oauth, std::string_view uuid,
                                  std::optional<int64_t> account_id, const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    auto del = oauth ? c.Prepare(
                           "DELETE FROM oauth_token WHERE uuid = ?1 AND (?2 IS NULL OR"
                           " account_id = ?2)")
                     : c.Prepare(
                           "DELETE FROM app_token WHERE uuid = ?1 AND (?2 IS NULL OR"
                           " account_id = ?2)");
    del->bind(1, Str(uuid));
    BindOptional(del, 2, account_id);
    if (del->exec() == 0) return Status::NotFound(Subject::kNone, "unknown token");
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

Result<std::vector<TokenRow>> IdentityStore::ListTokens(bool oauth, int64_t account_id) {
  return ReadOn<std::vector<TokenRow>>(pool_, [&](Connection& c) {
    auto q = oauth ? c.Prepare(QUAY_OAUTH_TOKEN_COLUMNS "WHERE t.account_id = ? ORDER BY t.id")
                   : c.Prepare(QUAY_APP_TOKEN_COLUMNS "WHERE t.account_id = ? ORDER BY t.id");
    q->bind(1, static_cast<int64_t>(account_id));
    std::vector<TokenRow> out;
    while (q->executeStep()) out.push_back(ReadToken(q, oauth));
    return out;
  });
}

// ---- authorization ----

Result<AccessFactsRow> IdentityStore::AccessFacts(std::string_view account_name,
                                                  std::string_view repository,
                                                  std::string_view namespace_name) {
  return ReadOn<AccessFactsRow>(pool_, [&](Connection& c) {
    AccessFactsRow out;
    // One snapshot: a grant revoked between two of these reads must not
    // combine with a state from before it.
    ReadTransaction snapshot(c);
    if (!account_name.empty()) out.account = AccountByName(c, account_name);
    if (out.account && out.account->owner_id)
      out.robot_owner = AccountById(c, *out.account->owner_id);
    std::optional<int64_t> repository_id;
    if (!repository.empty()) {
      auto q = c.Prepare(
          "SELECT r.id, COALESCE(CASE WHEN s.visibility = 'public' THEN 1 END, 0) FROM repository r"
          " LEFT JOIN repository_settings s ON s.repository_id = r.id WHERE r.name = ?");
      q->bind(1, Str(repository));
      if (q->executeStep()) {
        out.repository_exists = true;
        repository_id = q->getColumn(0).getInt64();
        out.repository_public = q->getColumn(1).getInt() != 0;
      }
    }
    if (out.account && repository_id) {
      auto q = c.Prepare(
          "SELECT COALESCE(MAX(role), 0) FROM repository_permission WHERE repository_id = ?1"
          " AND (account_id = ?2 OR team_id IN"
          " (SELECT team_id FROM team_member WHERE account_id = ?2))");
      q->bind(1, static_cast<int64_t>(*repository_id));
      q->bind(2, static_cast<int64_t>(out.account->id));
      if (q->executeStep()) out.granted_role = q->getColumn(0).getInt();
    }
    if (!namespace_name.empty()) {
      auto ns = AccountByName(c, namespace_name);
      if (ns && ns->kind != AccountKind::kRobot) {
        out.namespace_kind = ns->kind;
        if (ns->kind == AccountKind::kOrg && out.account) {
          auto q = c.Prepare(
              "SELECT MAX(t.role) FROM team t JOIN team_member m ON m.team_id = t.id"
              " WHERE t.org_id = ? AND m.account_id = ?");
          q->bind(1, static_cast<int64_t>(ns->id));
          q->bind(2, static_cast<int64_t>(out.account->id));
          if (q->executeStep() && !q->getColumn(0).isNull()) {
            out.org_team_role = q->getColumn(0).getInt();
          }
        }
      }
    }
    return out;
  });
}

// ---- REST API additions ----

namespace {

std::string PrefixEnd(std::string_view prefix) { return std::string(prefix) + "\x7f"; }

std::string Meta(std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  std::vector<std::pair<std::string_view, std::string_view>> v(fields);
  return core::JsonObjectText(v);
}

std::vector<GrantRow> ReadGrants(Stmt& q) {
  std::vector<GrantRow> out;
  while (q->executeStep()) out.push_back({q->getColumn(0).getString(), q->getColumn(1).getInt()});
  return out;
}

#define QUAY_NOTIFICATION_COLUMNS                                                            \
  "SELECT n.id, n.uuid, n.repository_id, r.name, n.event, n.method, n.title, n.config_json," \
  " n.event_config_json, n.number_of_failures, n.created_at FROM repository_notification n"  \
  " JOIN repository r ON r.id = n.repository_id "

NotificationRow ReadNotification(Stmt& q) {
  NotificationRow n;
  n.id = q->getColumn(0).getInt64();
  n.uuid = q->getColumn(1).getString();
  n.repository_id = q->getColumn(2).getInt64();
  n.repository = q->getColumn(3).getString();
  n.event = q->getColumn(4).getString();
  n.method = q->getColumn(5).getString();
  n.title = q->getColumn(6).getString();
  n.config_json = q->getColumn(7).getString();
  n.event_config_json = q->getColumn(8).getString();
  n.number_of_failures = q->getColumn(9).getInt();
  n.created_at = q->getColumn(10).getInt64();
  return n;
}

#define QUAY_APPLICATION_COLUMNS                                                 \
  "SELECT app.id, app.client_id, app.org_id, o.name, app.name, app.description," \
  " app.application_uri, app.redirect_uri, app.avatar_email, app.secret_sealed," \
  " app.created_at FROM oauth_application app JOIN account o ON o.id = app.org_id "

ApplicationRow ReadApplication(Stmt& q, int base = 0) {
  ApplicationRow a;
  a.id = q->getColumn(base + 0).getInt64();
  a.client_id = q->getColumn(base + 1).getString();
  a.org_id = q->getColumn(base + 2).getInt64();
  a.organization = q->getColumn(base + 3).getString();
  a.name = q->getColumn(base + 4).getString();
  a.description = q->getColumn(base + 5).getString();
  a.application_uri = q->getColumn(base + 6).getString();
  a.redirect_uri = q->getColumn(base + 7).getString();
  a.avatar_email = q->getColumn(base + 8).getString();
  a.secret_sealed = q->getColumn(base + 9).getString();
  a.created_at = q->getColumn(base + 10).getInt64();
  return a;
}

}  // namespace

Result<std::optional<AccountRow>> IdentityStore::FindAccountById(int64_t id) {
  return ReadOn<std::optional<AccountRow>>(pool_,
                                           [&](Connection& c) { return AccountById(c, id); });
}

Result<AccountRow> IdentityStore::InsertFirstUser(const AccountRow& row, const AuditRow& audit) {
  return WriteOn<AccountRow>(pool_, [&](Connection& c) -> Result<AccountRow> {
    auto any = c.Prepare("SELECT EXISTS (SELECT 1 FROM account WHERE kind = 'user')");
    if (any->executeStep() && any->getColumn(0).getInt() != 0) {
      return Status::Conflict(Subject::kNone, "users already exist");
    }
    AccountRow out = InsertAccountRow(c, row);
    InsertAudit(c, audit);
    return out;
  });
}

Status IdentityStore::UpdateEmail(int64_t account_id, std::string_view email,
                                  const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    auto up = c.Prepare("UPDATE account SET email = ? WHERE id = ?");
    up->bind(1, Str(email));
    up->bind(2, static_cast<int64_t>(account_id));
    if (up->exec() == 0) return Status::NotFound(Subject::kNone, "unknown account");
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

Result<std::vector<GrantRow>> IdentityStore::ListAccountGrants(int64_t account_id) {
  return ReadOn<std::vector<GrantRow>>(pool_, [&](Connection& c) {
    auto q = c.Prepare(
        "SELECT r.name, p.role FROM repository_permission p JOIN repository r"
        " ON r.id = p.repository_id WHERE p.account_id = ? ORDER BY r.name");
    q->bind(1, static_cast<int64_t>(account_id));
    return ReadGrants(q);
  });
}

Result<std::vector<GrantRow>> IdentityStore::ListTeamGrants(int64_t team_id) {
  return ReadOn<std::vector<GrantRow>>(pool_, [&](Connection& c) {
    auto q = c.Prepare(
        "SELECT r.name, p.role FROM repository_permission p JOIN repository r"
        " ON r.id = p.repository_id WHERE p.team_id = ? ORDER BY r.name");
    q->bind(1, static_cast<int64_t>(team_id));
    return ReadGrants(q);
  });
}

Result<std::vector<std::string>> IdentityStore::AccountsWithPrefix(AccountKind kind,
                                                                   std::string_view prefix,
                                                                   size_t limit) {
  return ReadOn<std::vector<std::string>>(pool_, [&](Connection& c) {
    auto q = c.Prepare(
        "SELECT name FROM account WHERE kind = ? AND name >= ? AND name < ?"
        " ORDER BY name LIMIT ?");
    q->bind(1, KindText(kind));
    q->bind(2, Str(prefix));
    q->bind(3, PrefixEnd(prefix));
    q->bind(4, static_cast<int64_t>(limit));
    std::vector<std::string> out;
    while (q->executeStep()) out.push_back(q->getColumn(0).getString());
    return out;
  });
}

Result<std::vector<std::string>> IdentityStore::TeamsWithPrefix(int64_t org_id,
                                                                std::string_view prefix,
                                                                size_t limit) {
  return ReadOn<std::vector<std::string>>(pool_, [&](Connection& c) {
    auto q = c.Prepare(
        "SELECT name FROM team WHERE org_id = ? AND name >= ? AND name < ?"
        " ORDER BY name LIMIT ?");
    q->bind(1, static_cast<int64_t>(org_id));
    q->bind(2, Str(prefix));
    q->bind(3, PrefixEnd(prefix));
    q->bind(4, static_cast<int64_t>(limit));
    std::vector<std::string> out;
    while (q->executeStep()) out.push_back(q->getColumn(0).getString());
    return out;
  });
}

Result<std::vector<std::pair<std::string, bool>>> IdentityStore::OrganizationsOf(
    int64_t account_id) {
  using Out = std::vector<std::pair<std::string, bool>>;
  return ReadOn<Out>(pool_, [&](Connection& c) {
    auto q = c.Prepare(
        "SELECT o.name, MAX(CASE WHEN t.role = 2 THEN 1 ELSE 0 END) FROM team_member m JOIN team t "
        "ON t.id = m.team_id"
        " JOIN account o ON o.id = t.org_id WHERE m.account_id = ? GROUP BY o.id"
        " ORDER BY o.name");
    q->bind(1, static_cast<int64_t>(account_id));
    Out out;
    while (q->executeStep()) {
      out.emplace_back(q->getColumn(0).getString(), q->getColumn(1).getInt() != 0);
    }
    return out;
  });
}

Result<std::vector<std::pair<std::string, std::string>>> IdentityStore::OrganizationMembers(
    int64_t org_id) {
  using Out = std::vector<std::pair<std::string, std::string>>;
  return ReadOn<Out>(pool_, [&](Connection& c) {
    auto q = c.Prepare(
        "SELECT a.name, t.name FROM team t JOIN team_member m ON m.team_id = t.id"
        " JOIN account a ON a.id = m.account_id WHERE t.org_id = ? AND a.kind = 'user'"
        " ORDER BY a.name, t.name");
    q->bind(1, static_cast<int64_t>(org_id));
    Out out;
    while (q->executeStep()) {
      out.emplace_back(q->getColumn(0).getString(), q->getColumn(1).getString());
    }
    return out;
  });
}

Status IdentityStore::RemoveOrganizationMember(int64_t org_id, const std::string& org_name,
                                               int64_t account_id, std::string_view member_name,
                                               const AuditRow& team_audit,
                                               const AuditRow& permission_audit) {
  return WriteStatusOn(pool_, [&](Connection& c) -> Status {
    std::vector<std::string> teams;
    bool in_admin_team = false;
    {
      auto q = c.Prepare(
          "SELECT t.name, t.role FROM team_member m JOIN team t ON t.id = m.team_id"
          " WHERE t.org_id = ? AND m.account_id = ? ORDER BY t.name");
      q->bind(1, static_cast<int64_t>(org_id));
      q->bind(2, static_cast<int64_t>(account_id));
      while (q->executeStep()) {
        teams.push_back(q->getColumn(0).getString());
        in_admin_team = in_admin_team || q->getColumn(1).getInt() == 2;
      }
    }
    if (teams.empty()) return Status::NotFound(Subject::kNone, "not a member of the organization");
    if (in_admin_team) {
      auto q = c.Prepare(
          "SELECT EXISTS (SELECT 1 FROM team_member m JOIN team t ON t.id = m.team_id"
          " JOIN account a ON a.id = m.account_id WHERE t.org_id = ? AND t.role = 2"
          " AND a.kind = 'user' AND m.account_id <> ?)");
      q->bind(1, static_cast<int64_t>(org_id));
      q->bind(2, static_cast<int64_t>(account_id));
      if (q->executeStep() && q->getColumn(0).getInt() == 0) {
        return Status::InvalidArgument(Subject::kNone,
                                       "cannot remove the last admin of the organization");
      }
    }
    std::vector<std::string> repositories;
    {
      auto q = c.Prepare(
          "SELECT r.name FROM repository_permission p JOIN repository r ON r.id = p.repository_id"
          " WHERE p.account_id = ?1 AND r.name >= ?2 AND r.name < ?3 ORDER BY r.name");
      q->bind(1, static_cast<int64_t>(account_id));
      q->bind(2, org_name + "/");
      q->bind(3, org_name + "0");
      while (q->executeStep()) repositories.push_back(q->getColumn(0).getString());
    }
    auto del = c.Prepare(
        "DELETE FROM team_member WHERE account_id = ?1 AND team_id IN"
        " (SELECT id FROM team WHERE org_id = ?2)");
    del->bind(1, static_cast<int64_t>(account_id));
    del->bind(2, static_cast<int64_t>(org_id));
    del->exec();
    auto perms = c.Prepare(
        "DELETE FROM repository_permission WHERE account_id = ?1 AND repository_id IN"
        " (SELECT id FROM repository WHERE name >= ?2 AND name < ?3)");
    perms->bind(1, static_cast<int64_t>(account_id));
    perms->bind(2, org_name + "/");
    perms->bind(3, org_name + "0");
    perms->exec();
    for (const auto& team : teams) {
      AuditRow row = team_audit;
      row.metadata = Meta({{"member", member_name}, {"team", team}});
      InsertAudit(c, row);
    }
    for (const auto& repo : repositories) {
      AuditRow row = permission_audit;
      row.repository = repo;
      row.metadata = Meta({{"namespace", org_name},
                           {"repo", std::string_view(repo).substr(org_name.size() + 1)},
                           {"username", member_name}});
      InsertAudit(c, row);
    }
    return Status::Ok();
  });
}

Result<std::vector<TeamSummaryRow>> IdentityStore::TeamSummaries(int64_t org_id,
                                                                 int64_t viewer_id) {
  return ReadOn<std::vector<TeamSummaryRow>>(pool_, [&](Connection& c) {
    auto q = c.Prepare(
        "SELECT t.id, t.org_id, t.name, t.role, t.description,"
        " (SELECT COUNT(*) FROM team_member m WHERE m.team_id = t.id),"
        " EXISTS (SELECT 1 FROM team_member m WHERE m.team_id = t.id AND m.account_id = ?2)"
        " FROM team t WHERE t.org_id = ?1 ORDER BY t.name");
    q->bind(1, static_cast<int64_t>(org_id));
    q->bind(2, static_cast<int64_t>(viewer_id));
    std::vector<TeamSummaryRow> out;
    while (q->executeStep()) {
      TeamSummaryRow row;
      row.team = ReadTeam(q);
      row.member_count = q->getColumn(5).getInt64();
      row.is_member = q->getColumn(6).getInt() != 0;
      out.push_back(std::move(row));
    }
    return out;
  });
}

Status IdentityStore::UpdateTeam(int64_t team_id, const std::optional<std::string>& description,
                                 std::optional<int> role, const std::vector<AuditRow>& audits) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    if (description) {
      auto up = c.Prepare("UPDATE team SET description = ? WHERE id = ?");
      up->bind(1, *description);
      up->bind(2, static_cast<int64_t>(team_id));
      up->exec();
    }
    if (role) {
      auto up = c.Prepare("UPDATE team SET role = ? WHERE id = ?");
      up->bind(1, *role);
      up->bind(2, static_cast<int64_t>(team_id));
      up->exec();
    }
    for (const auto& a : audits) InsertAudit(c, a);
    return Status::Ok();
  });
}

Status IdentityStore::UpdatePrototypeRole(int64_t org_id, std::string_view uuid, int role,
                                          const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    auto up = c.Prepare("UPDATE permission_prototype SET role = ? WHERE org_id = ? AND uuid = ?");
    up->bind(1, role);
    up->bind(2, static_cast<int64_t>(org_id));
    up->bind(3, Str(uuid));
    if (up->exec() == 0) return Status::NotFound(Subject::kNone, "unknown prototype");
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

// Two plans, both bounded by the page and the principal's own grants, never
// by the number of repositories (nor of tags: last_modified is the newest
// tag start, as Quay's, one step down the tag_started index):
// - starred_by: the user's stars (one index range), each checked against the
//   visibility rule;
// - otherwise a union of ordered, limited index ranges, one per source of
//   visibility (everything; public ones by name; the own namespace; direct
//   and team grants; namespaces of orgs with an admin team membership), each
//   already restricted to the filters, so the first `limit` of the union are
//   the page. `public_only` keeps the public source only.
Result<std::pair<std::vector<RepositoryListingRow>, bool>> IdentityStore::ListRepositories(
    const ListingQuery& query, size_t limit, std::string_view after) {
  using Out = std::pair<std::vector<RepositoryListingRow>, bool>;
  return ReadOn<Out>(pool_, [&](Connection& c) {
    const std::string lo = query.namespace_name.empty() ? "" : query.namespace_name + "/";
    const std::string hi = query.namespace_name.empty() ? "\x7f" : query.namespace_name + "0";
    // Built once: Prepare caches by the text's address.
    static const std::string kColumns =
        "SELECT r.name, COALESCE(s.description, ''), COALESCE(CASE WHEN s.visibility = 'public' "
        "THEN 1 END, 0),"
        " (SELECT MAX(t.start_at) FROM tag t WHERE t.repository_id = r.id),"
        " EXISTS (SELECT 1 FROM star st WHERE st.account_id = :viewer"
        "         AND st.repository_id = r.id),"
        " COALESCE((SELECT CASE WHEN a.kind = 'org' THEN 1 ELSE 0 END FROM account a"
        "           WHERE a.name = substr(r.name, 1, instr(r.name, '/') - 1)), 0),"
        " (SELECT COUNT(*) FROM star sc WHERE sc.repository_id = r.id)";
    // The search filter on a source over `repository r` (descriptions are
    // in the settings row) and on the public source over the settings.
    static const std::string kMatch =
        " AND (:search = '' OR substr(r.name, instr(r.name, '/') + 1) LIKE :pattern ESCAPE '!'"
        " OR EXISTS (SELECT 1 FROM repository_settings d WHERE d.repository_id = r.id"
        "            AND d.description LIKE :pattern ESCAPE '!'))";
    static const std::string kMatchSettings =
        " AND (:search = '' OR substr(s.name, instr(s.name, '/') + 1) LIKE :pattern ESCAPE '!'"
        " OR s.description LIKE :pattern ESCAPE '!')";
    static const std::string kStarred =
        kColumns +
        " FROM star sb JOIN repository r ON r.id = sb.repository_id"
        " LEFT JOIN repository_settings s ON s.repository_id = r.id"
        " WHERE sb.account_id = :starred AND r.name > :after AND r.name >= :lo"
        " AND r.name < :hi AND ((:public_only = 0) OR s.visibility = 'public')" +
        kMatch +
        " AND ("
        " :everything <> 0"
        " OR (:public_ones <> 0 AND s.visibility = 'public')"
        " OR (:own <> '' AND r.name >= :own || '/' AND r.name < :own || '0')"
        " OR (:account <> 0 AND EXISTS (SELECT 1 FROM repository_permission p"
        "     WHERE p.repository_id = r.id AND (p.account_id = :account OR p.team_id IN"
        "     (SELECT team_id FROM team_member WHERE account_id = :account))))"
        " OR (:account <> 0 AND EXISTS (SELECT 1 FROM team_member m JOIN team t"
        "     ON t.id = m.team_id JOIN account o ON o.id = t.org_id"
        "     WHERE m.account_id = :account AND t.role = 2"
        "     AND r.name >= o.name || '/' AND r.name < o.name || '0')))"
        " ORDER BY r.name LIMIT :n";
    static const std::string kUnion =
        std::string("WITH cand(name) AS (") +
        " SELECT name FROM (SELECT s.name FROM repository_settings s"
        "   WHERE :public_ones <> 0 AND s.visibility = 'public' AND s.name > :after"
        "   AND s.name >= :lo AND s.name < :hi" +
        kMatchSettings +
        " ORDER BY s.name LIMIT :n) AS src"
        " UNION SELECT name FROM (SELECT r.name FROM repository r"
        "   WHERE :everything <> 0 AND (:public_only = 0) AND r.name > :after AND r.name >= :lo"
        "   AND r.name < :hi" +
        kMatch +
        " ORDER BY r.name LIMIT :n) AS src"
        " UNION SELECT name FROM (SELECT r.name FROM repository r"
        "   WHERE :own <> '' AND (:public_only = 0) AND r.name > :after AND r.name >= :lo"
        "   AND r.name < :hi AND r.name >= :own || '/' AND r.name < :own || '0'" +
        kMatch +
        " ORDER BY r.name LIMIT :n) AS src"
        " UNION SELECT name FROM (SELECT r.name FROM repository_permission p"
        "   JOIN repository r ON r.id = p.repository_id"
        "   WHERE :account <> 0 AND (:public_only = 0) AND (p.account_id = :account"
        "   OR p.team_id IN (SELECT team_id FROM team_member WHERE account_id = :account))"
        "   AND r.name > :after AND r.name >= :lo AND r.name < :hi" +
        kMatch +
        " ORDER BY r.name LIMIT :n) AS src"
        " UNION SELECT name FROM (SELECT r.name FROM team_member m JOIN team t"
        "   ON t.id = m.team_id JOIN account o ON o.id = t.org_id"
        "   CROSS JOIN repository r ON r.name >= o.name || '/' AND r.name < o.name || '0'"
        "   WHERE :account <> 0 AND (:public_only = 0) AND m.account_id = :account"
        "   AND t.role = 2 AND r.name > :after AND r.name >= :lo AND r.name < :hi" +
        kMatch + " ORDER BY r.name LIMIT :n) AS src)" + kColumns +
        " FROM cand JOIN repository r ON r.name = cand.name"
        " LEFT JOIN repository_settings s ON s.repository_id = r.id"
        " ORDER BY r.name LIMIT :n";
    auto q = c.Prepare(query.starred_by != 0 ? kStarred.c_str() : kUnion.c_str());
    auto bind_if = [&](const char* name, auto value) {
      const int index = q->getIndex(name);
      if (index > 0) q->bind(index, value);
    };
    bind_if(":viewer", static_cast<int64_t>(query.star_viewer));
    bind_if(":starred", static_cast<int64_t>(query.starred_by));
    bind_if(":after", Str(after));
    bind_if(":lo", lo);
    bind_if(":hi", hi);
    bind_if(":public_only", query.public_only ? 1 : 0);
    bind_if(":everything", query.everything ? 1 : 0);
    bind_if(":public_ones", query.public_ones ? 1 : 0);
    bind_if(":own", query.own_namespace);
    bind_if(":account", static_cast<int64_t>(query.account_id));
    bind_if(":n", LimitPlusOne(limit));
    bind_if(":search", query.search);
    if (!query.search.empty()) {
      // Quay's match_like: '%text%' with the LIKE wildcards escaped by '!'.
      std::string pattern = "%";
      for (char ch : query.search) {
        if (ch == '!' || ch == '%' || ch == '_') pattern += '!';
        pattern += ch;
      }
      pattern += '%';
      bind_if(":pattern", pattern);
    } else {
      bind_if(":pattern", std::string("%"));
    }
    Out out;
    while (q->executeStep()) {
      RepositoryListingRow row;
      row.name = q->getColumn(0).getString();
      row.description = q->getColumn(1).getString();
      row.is_public = q->getColumn(2).getInt() != 0;
      if (!q->getColumn(3).isNull()) row.last_modified = q->getColumn(3).getInt64();
      row.is_starred = q->getColumn(4).getInt() != 0;
      row.namespace_is_org = q->getColumn(5).getInt() != 0;
      row.star_count = q->getColumn(6).getInt64();
      out.first.push_back(std::move(row));
    }
    if (out.first.size() > limit) {
      out.first.resize(limit);
      out.second = true;
    }
    return out;
  });
}

// ---- stars ----

Status IdentityStore::InsertStar(int64_t account_id, int64_t repository_id, int64_t now) {
  return WriteStatusOn(
      pool_,
      [&](Connection& c) {
        auto ins = c.Prepare(
            "INSERT INTO star(account_id, repository_id, created_at) VALUES(?, ?, ?)"
            " ON CONFLICT DO NOTHING");
        ins->bind(1, static_cast<int64_t>(account_id));
        ins->bind(2, static_cast<int64_t>(repository_id));
        ins->bind(3, static_cast<int64_t>(now));
        ins->exec();
        return Status::Ok();
      },
      // Repository listings are cached with their is_starred flags.
      CacheEffect::kInvalidates);
}

Status IdentityStore::DeleteStar(int64_t account_id, int64_t repository_id) {
  return WriteStatusOn(
      pool_,
      [&](Connection& c) {
        auto del = c.Prepare("DELETE FROM star WHERE account_id = ? AND repository_id = ?");
        del->bind(1, static_cast<int64_t>(account_id));
        del->bind(2, static_cast<int64_t>(repository_id));
        del->exec();
        return Status::Ok();
      },
      CacheEffect::kInvalidates);
}

Result<std::pair<std::vector<std::string>, bool>> IdentityStore::ListStarred(
    int64_t account_id, size_t limit, std::string_view after) {
  using Out = std::pair<std::vector<std::string>, bool>;
  return ReadOn<Out>(pool_, [&](Connection& c) {
    auto q = c.Prepare(
        "SELECT r.name FROM star st JOIN repository r ON r.id = st.repository_id"
        " WHERE st.account_id = ? AND r.name > ? ORDER BY r.name LIMIT ?");
    q->bind(1, static_cast<int64_t>(account_id));
    q->bind(2, Str(after));
    q->bind(3, LimitPlusOne(limit));
    Out out;
    while (q->executeStep()) out.first.push_back(q->getColumn(0).getString());
    if (out.first.size() > limit) {
      out.first.resize(limit);
      out.second = true;
    }
    return out;
  });
}

Result<std::vector<std::string>> IdentityStore::StarredAmong(int64_t account_id,
                                                             const std::string& names) {
  return ReadOn<std::vector<std::string>>(pool_, [&](Connection& c) {
    auto q = c.Prepare(
        "SELECT r.name FROM json_each(?) j JOIN repository r ON r.name = j.value"
        " JOIN star st ON st.repository_id = r.id AND st.account_id = ?");
    q->bind(1, names);
    q->bind(2, static_cast<int64_t>(account_id));
    std::vector<std::string> out;
    while (q->executeStep()) out.push_back(q->getColumn(0).getString());
    return out;
  });
}

// ---- repository notifications ----

Status IdentityStore::InsertNotification(const NotificationRow& row, const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    auto ins = c.Prepare(
        "INSERT INTO repository_notification(uuid, repository_id, event, method, title,"
        " config_json, event_config_json, number_of_failures, created_at)"
        " VALUES(?, ?, ?, ?, ?, ?, ?, 0, ?)");
    ins->bind(1, row.uuid);
    ins->bind(2, static_cast<int64_t>(row.repository_id));
    ins->bind(3, row.event);
    ins->bind(4, row.method);
    ins->bind(5, row.title);
    ins->bind(6, row.config_json);
    ins->bind(7, row.event_config_json);
    ins->bind(8, static_cast<int64_t>(row.created_at));
    ins->exec();
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

Result<std::vector<NotificationRow>> IdentityStore::ListNotifications(int64_t repository_id) {
  return ReadOn<std::vector<NotificationRow>>(pool_, [&](Connection& c) {
    auto q = c.Prepare(QUAY_NOTIFICATION_COLUMNS "WHERE n.repository_id = ? ORDER BY n.id");
    q->bind(1, static_cast<int64_t>(repository_id));
    std::vector<NotificationRow> out;
    while (q->executeStep()) out.push_back(ReadNotification(q));
    return out;
  });
}

Result<std::optional<NotificationRow>> IdentityStore::FindNotification(int64_t repository_id,
                                                                       std::string_view uuid) {
  return ReadOn<std::optional<NotificationRow>>(pool_, [&](Connection& c) {
    auto q = c.Prepare(QUAY_NOTIFICATION_COLUMNS "WHERE n.uuid = ? AND n.repository_id = ?");
    q->bind(1, Str(uuid));
    q->bind(2, static_cast<int64_t>(repository_id));
    if (!q->executeStep()) return std::optional<NotificationRow>();
    return std::optional<NotificationRow>(ReadNotification(q));
  });
}

Status IdentityStore::DeleteNotification(int64_t id, const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    auto del = c.Prepare("DELETE FROM repository_notification WHERE id = ?");
    del->bind(1, static_cast<int64_t>(id));
    if (del->exec() == 0) return Status::NotFound(Subject::kNone, "unknown notification");
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

Status IdentityStore::ResetNotification(int64_t id, const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    auto up = c.Prepare("UPDATE repository_notification SET number_of_failures = 0 WHERE id = ?");
    up->bind(1, static_cast<int64_t>(id));
    if (up->exec() == 0) return Status::NotFound(Subject::kNone, "unknown notification");
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

// ---- OAuth applications ----

Status IdentityStore::InsertApplication(const ApplicationRow& row, const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    auto ins = c.Prepare(
        "INSERT INTO oauth_application(client_id, org_id, name, description, application_uri,"
        " redirect_uri, avatar_email, secret_sealed, created_at)"
        " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)");
    ins->bind(1, row.client_id);
    ins->bind(2, static_cast<int64_t>(row.org_id));
    ins->bind(3, row.name);
    ins->bind(4, row.description);
    ins->bind(5, row.application_uri);
    ins->bind(6, row.redirect_uri);
    ins->bind(7, row.avatar_email);
    ins->bind(8, row.secret_sealed);
    ins->bind(9, static_cast<int64_t>(row.created_at));
    ins->exec();
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

Result<std::optional<ApplicationRow>> IdentityStore::FindApplication(std::string_view client_id) {
  return ReadOn<std::optional<ApplicationRow>>(pool_, [&](Connection& c) {
    auto q = c.Prepare(QUAY_APPLICATION_COLUMNS "WHERE app.client_id = ?");
    q->bind(1, Str(client_id));
    if (!q->executeStep()) return std::optional<ApplicationRow>();
    return std::optional<ApplicationRow>(ReadApplication(q));
  });
}

Result<std::vector<ApplicationRow>> IdentityStore::ListApplications(int64_t org_id) {
  return ReadOn<std::vector<ApplicationRow>>(pool_, [&](Connection& c) {
    auto q = c.Prepare(QUAY_APPLICATION_COLUMNS "WHERE app.org_id = ? ORDER BY app.name, app.id");
    q->bind(1, static_cast<int64_t>(org_id));
    std::vector<ApplicationRow> out;
    while (q->executeStep()) out.push_back(ReadApplication(q));
    return out;
  });
}

Status IdentityStore::UpdateApplication(const ApplicationRow& row, const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    auto up = c.Prepare(
        "UPDATE oauth_application SET name = ?, description = ?, application_uri = ?,"
        " redirect_uri = ?, avatar_email = ? WHERE id = ?");
    up->bind(1, row.name);
    up->bind(2, row.description);
    up->bind(3, row.application_uri);
    up->bind(4, row.redirect_uri);
    up->bind(5, row.avatar_email);
    up->bind(6, static_cast<int64_t>(row.id));
    if (up->exec() == 0) return Status::NotFound(Subject::kNone, "unknown application");
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

Status IdentityStore::UpdateApplicationSecret(int64_t id, std::string_view sealed,
                                              const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    auto up = c.Prepare("UPDATE oauth_application SET secret_sealed = ? WHERE id = ?");
    up->bind(1, Str(sealed));
    up->bind(2, static_cast<int64_t>(id));
    if (up->exec() == 0) return Status::NotFound(Subject::kNone, "unknown application");
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

Status IdentityStore::DeleteApplication(int64_t id, const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    auto del = c.Prepare("DELETE FROM oauth_application WHERE id = ?");
    del->bind(1, static_cast<int64_t>(id));
    if (del->exec() == 0) return Status::NotFound(Subject::kNone, "unknown application");
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

Status IdentityStore::InsertCode(const CodeRow& row) {
  return WriteStatusOn(
      pool_,
      [&](Connection& c) {
        auto ins = c.Prepare(
            "INSERT INTO oauth_authorization_code(lookup, code_hash, application_id, account_id,"
            " scopes, redirect_uri, created_at, expires_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?)");
        ins->bind(1, row.lookup);
        ins->bind(2, row.code_hash.data(), static_cast<int>(row.code_hash.size()));
        ins->bind(3, static_cast<int64_t>(row.application_id));
        ins->bind(4, static_cast<int64_t>(row.account_id));
        ins->bind(5, static_cast<int>(row.scopes));
        ins->bind(6, row.redirect_uri);
        ins->bind(7, static_cast<int64_t>(row.created_at));
        ins->bind(8, static_cast<int64_t>(row.expires_at));
        ins->exec();
        // Expired codes go whenever a new one is issued.
        auto gc = c.Prepare("DELETE FROM oauth_authorization_code WHERE expires_at <= ?");
        gc->bind(1, static_cast<int64_t>(row.created_at));
        gc->exec();
        return Status::Ok();
      },
      CacheEffect::kNone);
}

Result<std::optional<CodeRow>> IdentityStore::TakeCode(std::string_view lookup) {
  return WriteOn<std::optional<CodeRow>>(
      pool_,
      [&](Connection& c) -> Result<std::optional<CodeRow>> {
        auto q = c.Prepare(
            "DELETE FROM oauth_authorization_code WHERE lookup = ? RETURNING lookup, code_hash,"
            " application_id, account_id, scopes, redirect_uri, created_at, expires_at");
        q->bind(1, Str(lookup));
        if (!q->executeStep()) return std::optional<CodeRow>();
        CodeRow row;
        row.lookup = q->getColumn(0).getString();
        row.code_hash = BlobText(q->getColumn(1));
        row.application_id = q->getColumn(2).getInt64();
        row.account_id = q->getColumn(3).getInt64();
        row.scopes = static_cast<uint16_t>(q->getColumn(4).getInt());
        row.redirect_uri = q->getColumn(5).getString();
        row.created_at = q->getColumn(6).getInt64();
        row.expires_at = q->getColumn(7).getInt64();
        while (q->executeStep()) {
        }
        return std::optional<CodeRow>(std::move(row));
      },
      CacheEffect::kNone);
}

Result<std::vector<std::pair<ApplicationRow, TokenRow>>> IdentityStore::AuthorizedTokens(
    int64_t account_id, int64_t now) {
  using Out = std::vector<std::pair<ApplicationRow, TokenRow>>;
  return ReadOn<Out>(pool_, [&](Connection& c) {
    auto q = c.Prepare(QUAY_OAUTH_TOKEN_COLUMNS
                       " JOIN account o ON o.id = app.org_id"
                       " WHERE t.account_id = ?1 AND t.application_id IS NOT NULL"
                       " AND (t.expires_at IS NULL OR t.expires_at > ?2)"
                       " ORDER BY app.client_id, t.id");
    q->bind(1, static_cast<int64_t>(account_id));
    q->bind(2, static_cast<int64_t>(now));
    std::vector<TokenRow> tokens;
    while (q->executeStep()) tokens.push_back(ReadToken(q, true));
    Out out;
    for (auto& t : tokens) {
      auto a = c.Prepare(QUAY_APPLICATION_COLUMNS "WHERE app.id = ?");
      a->bind(1, static_cast<int64_t>(*t.application_id));
      if (!a->executeStep()) continue;
      if (!out.empty() && out.back().first.id == *t.application_id) {
        out.emplace_back(out.back().first, std::move(t));
      } else {
        out.emplace_back(ReadApplication(a), std::move(t));
      }
    }
    return out;
  });
}

Result<std::vector<TokenRow>> IdentityStore::ApplicationTokensOf(int64_t application_id,
                                                                 int64_t account_id) {
  return ReadOn<std::vector<TokenRow>>(pool_, [&](Connection& c) {
    auto q = c.Prepare(QUAY_OAUTH_TOKEN_COLUMNS
                       "WHERE t.application_id = ? AND t.account_id = ? ORDER BY t.id");
    q->bind(1, static_cast<int64_t>(application_id));
    q->bind(2, static_cast<int64_t>(account_id));
    std::vector<TokenRow> out;
    while (q->executeStep()) out.push_back(ReadToken(q, true));
    return out;
  });
}

Status IdentityStore::DeleteTokens(const std::vector<std::string>& uuids,
                                   const std::vector<AuditRow>& audits) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    int64_t deleted = 0;
    for (const auto& uuid : uuids) {
      auto del = c.Prepare("DELETE FROM oauth_token WHERE uuid = ?");
      del->bind(1, uuid);
      deleted += del->exec();
    }
    if (deleted == 0) return Status::NotFound(Subject::kNone, "unknown token");
    for (const auto& a : audits) InsertAudit(c, a);
    return Status::Ok();
  });
}

Result<std::pair<std::vector<TokenRow>, bool>> IdentityStore::ListApplicationTokens(
    int64_t application_id, size_t limit, std::string_view after_uuid) {
  using Out = std::pair<std::vector<TokenRow>, bool>;
  return ReadOn<Out>(pool_, [&](Connection& c) {
    auto q = c.Prepare(QUAY_OAUTH_TOKEN_COLUMNS
                       "WHERE t.application_id = ?1 AND t.id > COALESCE((SELECT id FROM"
                       " oauth_token WHERE uuid = ?2), 0) ORDER BY t.id LIMIT ?3");
    q->bind(1, static_cast<int64_t>(application_id));
    q->bind(2, Str(after_uuid));
    q->bind(3, LimitPlusOne(limit));
    Out out;
    while (q->executeStep()) out.first.push_back(ReadToken(q, true));
    if (out.first.size() > limit) {
      out.first.resize(limit);
      out.second = true;
    }
    return out;
  });
}

// ---- superuser panel and organization collaborators ----

// One query: the org's repositories are a name range; membership is any
// team of the org.
Result<std::vector<std::pair<std::string, std::string>>> IdentityStore::OutsideCollaborators(
    int64_t org_id, std::string_view org_name) {
  using Out = std::vector<std::pair<std::string, std::string>>;
  return ReadOn<Out>(pool_, [&](Connection& c) {
    auto q = c.Prepare(
        "SELECT a.name, r.name FROM repository r"
        " JOIN repository_permission p ON p.repository_id = r.id"
        " JOIN account a ON a.id = p.account_id"
        " WHERE r.name >= ?2 || '/' AND r.name < ?2 || '0' AND a.kind = 'user'"
        " AND NOT EXISTS (SELECT 1 FROM team_member m JOIN team t ON t.id = m.team_id"
        "                 WHERE t.org_id = ?1 AND m.account_id = a.id)"
        " ORDER BY a.name, r.name");
    q->bind(1, static_cast<int64_t>(org_id));
    q->bind(2, Str(org_name));
    Out out;
    while (q->executeStep()) {
      out.emplace_back(q->getColumn(0).getString(), q->getColumn(1).getString());
    }
    return out;
  });
}

Status IdentityStore::RenameOrganization(int64_t org_id, std::string_view old_name,
                                         std::string_view new_name, const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    if (AccountByName(c, new_name)) return Status::Conflict(Subject::kNone, "name already taken");
    // Repositories a Registry push left under the new name (no account owns
    // them) would collide with the renamed ones.
    auto taken =
        c.Prepare("SELECT 1 FROM repository WHERE name >= ?1 || '/' AND name < ?1 || '0' LIMIT 1");
    taken->bind(1, Str(new_name));
    if (taken->executeStep()) {
      return Status::Conflict(Subject::kNone, "repositories already exist under that name");
    }
    auto account = c.Prepare("UPDATE account SET name = ? WHERE id = ? AND kind = 'org'");
    account->bind(1, Str(new_name));
    account->bind(2, static_cast<int64_t>(org_id));
    if (account->exec() == 0) return Status::NotFound(Subject::kNone, "unknown organization");
    // "<old>+bot" -> "<new>+bot", "<old>/app" -> "<new>/app".
    auto robots = c.Prepare(
        "UPDATE account SET name = ?1 || substr(name, length(?2) + 1)"
        " WHERE owner_id = ?3 AND kind = 'robot'");
    robots->bind(1, Str(new_name));
    robots->bind(2, Str(old_name));
    robots->bind(3, static_cast<int64_t>(org_id));
    robots->exec();
    for (const char* sql : {
             "UPDATE repository SET name = ?1 || substr(name, length(?2) + 1)"
             " WHERE name >= ?2 || '/' AND name < ?2 || '0'",
             "UPDATE repository_settings SET name = ?1 || substr(name, length(?2) + 1)"
             " WHERE name >= ?2 || '/' AND name < ?2 || '0'",
             "UPDATE upload SET repository = ?1 || substr(repository, length(?2) + 1)"
             " WHERE repository >= ?2 || '/' AND repository < ?2 || '0'",
         }) {
      auto up = c.Prepare(sql);
      up->bind(1, Str(new_name));
      up->bind(2, Str(old_name));
      up->exec();
    }
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

Status IdentityStore::JoinAdminTeam(int64_t org_id, int64_t member_id, const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    auto team = c.Prepare("SELECT id FROM team WHERE org_id = ? AND role = 2 ORDER BY id LIMIT 1");
    team->bind(1, static_cast<int64_t>(org_id));
    if (!team->executeStep()) {
      return Status::InvalidArgument(Subject::kNone, "the organization has no admin team");
    }
    const int64_t team_id = team->getColumn(0).getInt64();
    auto member = c.Prepare(
        "INSERT INTO team_member(team_id, account_id) VALUES(?, ?) ON CONFLICT DO NOTHING");
    member->bind(1, static_cast<int64_t>(team_id));
    member->bind(2, static_cast<int64_t>(member_id));
    member->exec();
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

Status IdentityStore::ConvertUserToOrganization(int64_t user_id, int64_t admin_id, int64_t now,
                                                const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    auto convert = c.Prepare(
        "UPDATE account SET kind = 'org', password_hash = NULL WHERE id = ? AND kind = 'user'");
    convert->bind(1, static_cast<int64_t>(user_id));
    if (convert->exec() == 0) return Status::NotFound(Subject::kNone, "unknown user");
    // What only a user can hold: credentials, memberships, its own grants
    // and stars.
    for (const char* sql : {
             "DELETE FROM app_token WHERE account_id = ?",
             "DELETE FROM oauth_token WHERE account_id = ?",
             "DELETE FROM oauth_authorization_code WHERE account_id = ?",
             "DELETE FROM oauth_assigned_token WHERE account_id = ?",
             "DELETE FROM team_member WHERE account_id = ?",
             "DELETE FROM repository_permission WHERE account_id = ?",
             "DELETE FROM star WHERE account_id = ?",
         }) {
      auto del = c.Prepare(sql);
      del->bind(1, static_cast<int64_t>(user_id));
      del->exec();
    }
    auto team = c.Prepare(
        "INSERT INTO team(org_id, name, role, description, created_at) VALUES(?, 'owners', 2, '',"
        " ?) RETURNING id");
    team->bind(1, static_cast<int64_t>(user_id));
    team->bind(2, static_cast<int64_t>(now));
    const int64_t team_id = InsertedId(team);
    auto member = c.Prepare("INSERT INTO team_member(team_id, account_id) VALUES(?, ?)");
    member->bind(1, static_cast<int64_t>(team_id));
    member->bind(2, static_cast<int64_t>(admin_id));
    member->exec();
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

Result<std::pair<std::vector<TokenRow>, bool>> IdentityStore::ListAllAppTokens(
    std::optional<int64_t> expiring_before, int64_t now, size_t limit, int64_t after_id) {
  using Out = std::pair<std::vector<TokenRow>, bool>;
  return ReadOn<Out>(pool_, [&](Connection& c) {
    auto q = c.Prepare(QUAY_APP_TOKEN_COLUMNS
                       "WHERE t.id > ?1 AND (?2 IS NULL OR (t.expires_at >= ?3"
                       " AND t.expires_at < ?2)) ORDER BY t.id LIMIT ?4");
    q->bind(1, static_cast<int64_t>(after_id));
    BindOptional(q, 2, expiring_before);
    q->bind(3, static_cast<int64_t>(now));
    q->bind(4, LimitPlusOne(limit));
    Out out;
    while (q->executeStep()) out.first.push_back(ReadToken(q, false));
    if (out.first.size() > limit) {
      out.first.resize(limit);
      out.second = true;
    }
    return out;
  });
}

// ---- assigned OAuth authorizations ----

namespace {

void InsertUserNotificationRow(Connection& c, int64_t account_id, const UserNotificationRow& n) {
  auto ins = c.Prepare(
      "INSERT INTO user_notification(uuid, account_id, kind, metadata, dismissed, created_at)"
      " VALUES(?, ?, ?, ?, ?, ?)");
  ins->bind(1, n.uuid);
  ins->bind(2, static_cast<int64_t>(account_id));
  ins->bind(3, n.kind);
  ins->bind(4, n.metadata);
  ins->bind(5, n.dismissed ? 1 : 0);
  ins->bind(6, static_cast<int64_t>(n.created_at));
  ins->exec();
}

#define QUAY_USER_NOTIFICATION_COLUMNS                                               \
  "SELECT n.id, n.uuid, a.name, a.kind = 'org', n.kind, n.metadata, n.dismissed,"    \
  " n.created_at FROM user_notification n JOIN account a ON a.id = n.account_id"     \
  " WHERE (n.account_id = ?1 OR n.account_id IN (SELECT t.org_id FROM team_member m" \
  " JOIN team t ON t.id = m.team_id WHERE m.account_id = ?1 AND t.role = 2)) "

UserNotificationRow ReadUserNotification(Stmt& q) {
  UserNotificationRow n;
  n.id = q->getColumn(0).getInt64();
  n.uuid = q->getColumn(1).getString();
  n.target = q->getColumn(2).getString();
  n.target_is_org = q->getColumn(3).getInt() != 0;
  n.kind = q->getColumn(4).getString();
  n.metadata = q->getColumn(5).getString();
  n.dismissed = q->getColumn(6).getInt() != 0;
  n.created_at = q->getColumn(7).getInt64();
  return n;
}

}  // namespace

Result<std::pair<std::vector<UserNotificationRow>, bool>> IdentityStore::ListUserNotifications(
    int64_t account_id, size_t limit, int64_t before_id) {
  using Out = std::pair<std::vector<UserNotificationRow>, bool>;
  return ReadOn<Out>(pool_, [&](Connection& c) {
    auto q = c.Prepare(QUAY_USER_NOTIFICATION_COLUMNS
                       "AND (?2 = 0 OR n.id < ?2) ORDER BY n.id DESC LIMIT ?3");
    q->bind(1, static_cast<int64_t>(account_id));
    q->bind(2, static_cast<int64_t>(before_id));
    q->bind(3, LimitPlusOne(limit));
    Out out;
    while (q->executeStep()) out.first.push_back(ReadUserNotification(q));
    if (out.first.size() > limit) {
      out.first.resize(limit);
      out.second = true;
    }
    return out;
  });
}

Result<std::optional<UserNotificationRow>> IdentityStore::FindUserNotification(
    int64_t account_id, std::string_view uuid) {
  using Out = std::optional<UserNotificationRow>;
  return ReadOn<Out>(pool_, [&](Connection& c) {
    auto q = c.Prepare(QUAY_USER_NOTIFICATION_COLUMNS "AND n.uuid = ?2");
    q->bind(1, static_cast<int64_t>(account_id));
    q->bind(2, Str(uuid));
    if (!q->executeStep()) return Out();
    return Out(ReadUserNotification(q));
  });
}

Status IdentityStore::SetNotificationDismissed(int64_t id, bool dismissed) {
  return WriteStatusOn(
      pool_,
      [&](Connection& c) {
        auto up = c.Prepare("UPDATE user_notification SET dismissed = ? WHERE id = ?");
        up->bind(1, dismissed ? 1 : 0);
        up->bind(2, static_cast<int64_t>(id));
        up->exec();
        return Status::Ok();
      },
      CacheEffect::kNone);
}

Status IdentityStore::DeleteUserNotificationsOfKind(int64_t account_id, std::string_view kind) {
  return WriteStatusOn(
      pool_,
      [&](Connection& c) {
        auto del = c.Prepare("DELETE FROM user_notification WHERE account_id = ? AND kind = ?");
        del->bind(1, static_cast<int64_t>(account_id));
        del->bind(2, Str(kind));
        del->exec();
        return Status::Ok();
      },
      CacheEffect::kNone);
}

Status IdentityStore::InsertAssignedToken(const AssignedTokenRow& row,
                                          const UserNotificationRow& notification,
                                          const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    InsertUserNotificationRow(c, row.account_id, notification);
    auto ins = c.Prepare(
        "INSERT INTO oauth_assigned_token(uuid, application_id, account_id, assigner_id, scopes,"
        " redirect_uri, response_type, created_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?)");
    ins->bind(1, row.uuid);
    ins->bind(2, static_cast<int64_t>(row.application_id));
    ins->bind(3, static_cast<int64_t>(row.account_id));
    BindOptional(ins, 4, row.assigner_id);
    ins->bind(5, static_cast<int>(row.scopes));
    ins->bind(6, row.redirect_uri);
    ins->bind(7, row.response_type);
    ins->bind(8, static_cast<int64_t>(row.created_at));
    ins->exec();
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

Result<std::vector<std::pair<ApplicationRow, AssignedTokenRow>>> IdentityStore::ListAssignedTokens(
    int64_t account_id) {
  using Out = std::vector<std::pair<ApplicationRow, AssignedTokenRow>>;
  return ReadOn<Out>(pool_, [&](Connection& c) {
    // Application columns 0..10, then the assignment's.
    auto q = c.Prepare(
        "SELECT app.id, app.client_id, app.org_id, o.name, app.name, app.description,"
        " app.application_uri, app.redirect_uri, app.avatar_email, app.secret_sealed,"
        " app.created_at, t.uuid, t.assigner_id, COALESCE(g.name, ''), t.scopes, t.redirect_uri,"
        " t.response_type, t.created_at"
        " FROM oauth_assigned_token t JOIN oauth_application app ON app.id = t.application_id"
        " JOIN account o ON o.id = app.org_id LEFT JOIN account g ON g.id = t.assigner_id"
        " WHERE t.account_id = ? ORDER BY t.id");
    q->bind(1, static_cast<int64_t>(account_id));
    Out out;
    while (q->executeStep()) {
      AssignedTokenRow t;
      t.application_id = q->getColumn(0).getInt64();
      t.account_id = account_id;
      t.uuid = q->getColumn(11).getString();
      if (!q->getColumn(12).isNull()) t.assigner_id = q->getColumn(12).getInt64();
      t.assigner = q->getColumn(13).getString();
      t.scopes = static_cast<uint16_t>(q->getColumn(14).getInt());
      t.redirect_uri = q->getColumn(15).getString();
      t.response_type = q->getColumn(16).getString();
      t.created_at = q->getColumn(17).getInt64();
      out.emplace_back(ReadApplication(q), std::move(t));
    }
    return out;
  });
}

Status IdentityStore::DeleteAssignedToken(int64_t account_id, std::string_view uuid) {
  return WriteStatusOn(pool_, [&](Connection& c) {
    auto del = c.Prepare("DELETE FROM oauth_assigned_token WHERE account_id = ? AND uuid = ?");
    del->bind(1, static_cast<int64_t>(account_id));
    del->bind(2, Str(uuid));
    if (del->exec() == 0) return Status::NotFound(Subject::kNone, "unknown assigned authorization");
    return Status::Ok();
  });
}

// ---- global messages ----

Status IdentityStore::InsertMessage(const MessageRow& row) {
  return WriteStatusOn(
      pool_,
      [&](Connection& c) {
        auto ins = c.Prepare(
            "INSERT INTO global_message(uuid, content, media_type, severity, created_at)"
            " VALUES(?, ?, ?, ?, ?)");
        ins->bind(1, row.uuid);
        ins->bind(2, row.content);
        ins->bind(3, row.media_type);
        ins->bind(4, row.severity);
        ins->bind(5, static_cast<int64_t>(row.created_at));
        ins->exec();
        return Status::Ok();
      },
      CacheEffect::kNone);
}

Result<std::vector<MessageRow>> IdentityStore::ListMessages() {
  return ReadOn<std::vector<MessageRow>>(pool_, [&](Connection& c) {
    auto q = c.Prepare(
        "SELECT uuid, content, media_type, severity, created_at FROM global_message ORDER BY id");
    std::vector<MessageRow> out;
    while (q->executeStep()) {
      MessageRow row;
      row.uuid = q->getColumn(0).getString();
      row.content = q->getColumn(1).getString();
      row.media_type = q->getColumn(2).getString();
      row.severity = q->getColumn(3).getString();
      row.created_at = q->getColumn(4).getInt64();
      out.push_back(std::move(row));
    }
    return out;
  });
}

Status IdentityStore::DeleteMessage(std::string_view uuid) {
  return WriteStatusOn(
      pool_,
      [&](Connection& c) {
        auto del = c.Prepare("DELETE FROM global_message WHERE uuid = ?");
        del->bind(1, Str(uuid));
        del->exec();
        return Status::Ok();
      },
      CacheEffect::kNone);
}

}  // namespace quay::db
