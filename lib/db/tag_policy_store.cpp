#include "db/tag_policy_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include "db/sql_support.h"
#include "db/store_support.h"

namespace quay::db {
namespace {

const char* KindText(PolicyKind kind) {
  return kind == PolicyKind::kImmutability ? "immutability" : "autoprune";
}

Status UnknownTag(std::string_view tag) {
  return Status::NotFound(Subject::kTag, "tag " + Str(tag) + " is unknown");
}

// (uuid, method, value, tag_pattern, tag_pattern_matches)
TagPolicyRow ReadPolicy(Stmt& q, int first) {
  TagPolicyRow row;
  row.uuid = q->getColumn(first).getString();
  if (!q->getColumn(first + 1).isNull()) row.method = q->getColumn(first + 1).getString();
  if (!q->getColumn(first + 2).isNull()) row.value = q->getColumn(first + 2).getString();
  if (!q->getColumn(first + 3).isNull()) row.tag_pattern = q->getColumn(first + 3).getString();
  row.tag_pattern_matches = q->getColumn(first + 4).getInt() != 0;
  return row;
}

std::optional<int64_t> ReadNextExpiry(Connection& c) {
  // Matches tag_expiring's WHERE, so MIN() is its first entry.
  auto q =
      c.Prepare("SELECT MIN(expires_at) FROM tag WHERE end_at IS NULL AND expires_at IS NOT NULL");
  q->executeStep();
  if (q->getColumn(0).isNull()) return std::nullopt;
  return q->getColumn(0).getInt64();
}

// The live row of `tag` in `repository`: (tag id, expires_at, immutable).
// Throws nothing beyond SQLite's; `found_repository` tells the two misses apart.
struct LiveRow {
  int64_t id = 0;
  TagStateRow state;
};
std::optional<LiveRow> ReadLiveRow(Connection& c, std::string_view repository, std::string_view tag,
                                   bool& found_repository) {
  auto q = c.Prepare(
      "SELECT r.id, t.id, t.expires_at, t.immutable FROM repository r"
      " LEFT JOIN tag t ON t.repository_id = r.id AND t.name = ?1 AND t.end_at IS NULL"
      " WHERE r.name = ?2");
  q->bind(1, Str(tag));
  q->bind(2, Str(repository));
  found_repository = q->executeStep();
  if (!found_repository || q->getColumn(1).isNull()) return std::nullopt;
  LiveRow row;
  row.id = q->getColumn(1).getInt64();
  if (!q->getColumn(2).isNull()) row.state.expires_at = q->getColumn(2).getInt64();
  row.state.immutable = q->getColumn(3).getInt() != 0;
  return row;
}

Status UnknownRepository(std::string_view repository) {
  return Status::NotFound(Subject::kRepository, "repository " + Str(repository) + " is unknown");
}

// Live, mutable tags of a scope, (id, name).
std::vector<std::pair<int64_t, std::string>> MutableLiveTags(Connection& c, const ScopeIds& scope) {
  std::vector<std::pair<int64_t, std::string>> out;
  if (scope.repository_id) {
    auto q = c.Prepare(
        "SELECT id, name FROM tag INDEXED BY tag_live"
        " WHERE repository_id = ? AND end_at IS NULL AND immutable = 0");
    q->bind(1, *scope.repository_id);
    while (q->executeStep())
      out.emplace_back(q->getColumn(0).getInt64(), q->getColumn(1).getString());
  } else {
    // Names in ["ns/", "ns0"): the namespace's repositories and no other.
    auto q = c.Prepare(
        "SELECT t.id, t.name FROM repository r"
        " JOIN tag t INDEXED BY tag_live ON t.repository_id = r.id AND t.end_at IS NULL"
        " WHERE r.name >= ?1 || '/' AND r.name < ?1 || '0' AND t.immutable = 0");
    q->bind(1, scope.namespace_name);
    while (q->executeStep())
      out.emplace_back(q->getColumn(0).getInt64(), q->getColumn(1).getString());
  }
  return out;
}

}  // namespace

Result<std::optional<int64_t>> TagPolicyStore::NextExpiry() {
  return ReadOn<std::optional<int64_t>>(pool_, [](Connection& c) { return ReadNextExpiry(c); });
}

Result<std::optional<int64_t>> TagPolicyStore::EndExpiredTags(int64_t now) {
  auto next = NextExpiry();
  if (!next.ok() || !*next || **next > now) return next;
  return WriteOn<std::optional<int64_t>>(
      pool_, [&](Connection& c) -> Result<std::optional<int64_t>> {
        // Ended at the moment they expired, so the recovery window counts from
        // then (Quay's lifetime_end_ms), not from when someone noticed.
        auto end = c.Prepare(
            "UPDATE tag SET end_at = expires_at WHERE end_at IS NULL AND expires_at IS NOT NULL"
            " AND expires_at <= ?");
        end->bind(1, now);
        end->exec();
        return ReadNextExpiry(c);
      });
}

Result<std::optional<TagStateRow>> TagPolicyStore::FindLiveTag(std::string_view repository,
                                                               std::string_view tag) {
  using Out = std::optional<TagStateRow>;
  return ReadOn<Out>(pool_, [&](Connection& c) -> Result<Out> {
    bool found_repository = false;
    auto row = ReadLiveRow(c, repository, tag, found_repository);
    if (!found_repository) return UnknownRepository(repository);
    if (!row) return Out();
    return Out(row->state);
  });
}

Result<std::optional<int64_t>> TagPolicyStore::SetExpiration(std::string_view repository,
                                                             std::string_view tag,
                                                             std::optional<int64_t> expires_at,
                                                             bool refuse_immutable,
                                                             const ExpirationAudit& audit) {
  using Out = std::optional<int64_t>;
  return WriteOn<Out>(pool_, [&](Connection& c) -> Result<Out> {
    bool found_repository = false;
    auto row = ReadLiveRow(c, repository, tag, found_repository);
    if (!found_repository) return UnknownRepository(repository);
    if (!row) return UnknownTag(tag);
    if (refuse_immutable && row->state.immutable) {
      return Status::Conflict(Subject::kTag,
                              "Cannot set expiration on immutable tag '" + Str(tag) + "'");
    }
    auto up = c.Prepare("UPDATE tag SET expires_at = ? WHERE id = ?");
    if (expires_at) {
      up->bind(1, *expires_at);
    } else {
      up->bind(1);
    }
    up->bind(2, row->id);
    up->exec();
    if (audit) {
      if (auto a = audit(row->state.expires_at)) InsertAudit(c, *a);
    }
    return Out(row->state.expires_at);
  });
}

Result<bool> TagPolicyStore::SetImmutable(std::string_view repository, std::string_view tag,
                                          bool immutable, bool clear_expiration,
                                          const ImmutableAudit& audit) {
  return WriteOn<bool>(pool_, [&](Connection& c) -> Result<bool> {
    bool found_repository = false;
    auto row = ReadLiveRow(c, repository, tag, found_repository);
    if (!found_repository) return UnknownRepository(repository);
    if (!row) return UnknownTag(tag);
    auto up = c.Prepare(
        "UPDATE tag SET immutable = ?1,"
        " expires_at = CASE WHEN ?1 = 1 AND ?2 = 1 THEN NULL ELSE expires_at END WHERE id = ?3");
    up->bind(1, immutable ? 1 : 0);
    up->bind(2, clear_expiration ? 1 : 0);
    up->bind(3, row->id);
    up->exec();
    if (audit) {
      if (auto a = audit(row->state.immutable)) InsertAudit(c, *a);
    }
    return row->state.immutable;
  });
}

Result<ScopeIds> TagPolicyStore::ResolveScope(std::string_view namespace_name,
                                              std::string_view repository) {
  return ReadOn<ScopeIds>(pool_, [&](Connection& c) -> Result<ScopeIds> {
    ScopeIds ids;
    ids.namespace_name = Str(namespace_name);
    if (!repository.empty()) {
      auto q = c.Prepare("SELECT id FROM repository WHERE name = ?");
      q->bind(1, Str(repository));
      if (!q->executeStep()) return UnknownRepository(repository);
      ids.repository_id = q->getColumn(0).getInt64();
      return ids;
    }
    // Users and organizations are namespaces; robots are not.
    auto q = c.Prepare("SELECT id FROM account WHERE name = ? AND kind <> 'robot'");
    q->bind(1, Str(namespace_name));
    if (!q->executeStep()) {
      return Status::NotFound(Subject::kNone, "namespace " + Str(namespace_name) + " is unknown");
    }
    ids.namespace_id = q->getColumn(0).getInt64();
    return ids;
  });
}

Result<std::vector<TagPolicyRow>> TagPolicyStore::List(PolicyKind kind, const ScopeIds& scope) {
  using Out = std::vector<TagPolicyRow>;
  return ReadOn<Out>(pool_, [&](Connection& c) -> Result<Out> {
    auto q = c.Prepare(
        "SELECT uuid, method, value, tag_pattern, tag_pattern_matches FROM tag_policy"
        " WHERE kind = ?1 AND (namespace_id = ?2 OR repository_id = ?3) ORDER BY id");
    q->bind(1, KindText(kind));
    q->bind(2, scope.namespace_id.value_or(-1));
    q->bind(3, scope.repository_id.value_or(-1));
    Out out;
    while (q->executeStep()) out.push_back(ReadPolicy(q, 0));
    return out;
  });
}

Result<std::vector<TagPolicyRow>> TagPolicyStore::ListApplying(PolicyKind kind,
                                                               std::string_view repository) {
  using Out = std::vector<TagPolicyRow>;
  return ReadOn<Out>(pool_, [&](Connection& c) -> Result<Out> {
    const std::string name = Str(repository);
    const std::string ns = name.substr(0, name.find('/'));
    auto q = c.Prepare(
        "SELECT uuid, method, value, tag_pattern, tag_pattern_matches FROM tag_policy"
        " WHERE kind = ?1 AND (repository_id = (SELECT id FROM repository WHERE name = ?2)"
        "  OR namespace_id = (SELECT id FROM account WHERE name = ?3)) ORDER BY id");
    q->bind(1, KindText(kind));
    q->bind(2, name);
    q->bind(3, ns);
    Out out;
    while (q->executeStep()) out.push_back(ReadPolicy(q, 0));
    return out;
  });
}

Status TagPolicyStore::Save(PolicyKind kind, const ScopeIds& scope, const TagPolicyRow& row,
                            bool replace, int64_t now, const AuditRow& audit,
                            const TagMatcher& mark, bool clear_expiration,
                            const std::function<AuditRow(uint64_t count)>& marked_audit) {
  return WriteStatusOn(pool_, [&](Connection& c) -> Status {
    {
      // Quay refuses two immutability policies of one scope with the same
      // pattern (DuplicateImmutabilityPolicy); auto-prune policies too.
      auto dup = c.Prepare(
          "SELECT 1 FROM tag_policy WHERE kind = ?1 AND (namespace_id = ?2 OR repository_id = ?3)"
          " AND tag_pattern IS ?4 AND method IS ?5 AND uuid <> ?6 LIMIT 1");
      dup->bind(1, KindText(kind));
      dup->bind(2, scope.namespace_id.value_or(-1));
      dup->bind(3, scope.repository_id.value_or(-1));
      if (row.tag_pattern) {
        dup->bind(4, *row.tag_pattern);
      } else {
        dup->bind(4);
      }
      if (kind == PolicyKind::kAutoPrune) {
        dup->bind(5, row.method);
      } else {
        dup->bind(5);
      }
      dup->bind(6, row.uuid);
      if (dup->executeStep()) {
        return Status::InvalidArgument(Subject::kNone,
                                       "A policy with the same tag_pattern already exists");
      }
    }
    if (replace) {
      auto up = c.Prepare(
          "UPDATE tag_policy SET method = ?1, value = ?2, tag_pattern = ?3,"
          " tag_pattern_matches = ?4"
          " WHERE uuid = ?5 AND kind = ?6 AND (namespace_id = ?7 OR repository_id = ?8)");
      if (kind == PolicyKind::kAutoPrune) {
        up->bind(1, row.method);
        up->bind(2, row.value);
      } else {
        up->bind(1);
        up->bind(2);
      }
      if (row.tag_pattern) {
        up->bind(3, *row.tag_pattern);
      } else {
        up->bind(3);
      }
      up->bind(4, row.tag_pattern_matches ? 1 : 0);
      up->bind(5, row.uuid);
      up->bind(6, KindText(kind));
      up->bind(7, scope.namespace_id.value_or(-1));
      up->bind(8, scope.repository_id.value_or(-1));
      if (up->exec() == 0) {
        return Status::NotFound(Subject::kNone, "policy " + row.uuid + " is unknown");
      }
    } else {
      auto ins = c.Prepare(
          "INSERT INTO tag_policy(uuid, kind, namespace_id, repository_id, method, value,"
          " tag_pattern, tag_pattern_matches, created_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)");
      ins->bind(1, row.uuid);
      ins->bind(2, KindText(kind));
      if (scope.namespace_id) {
        ins->bind(3, *scope.namespace_id);
        ins->bind(4);
      } else {
        ins->bind(3);
        ins->bind(4, *scope.repository_id);
      }
      if (kind == PolicyKind::kAutoPrune) {
        ins->bind(5, row.method);
        ins->bind(6, row.value);
      } else {
        ins->bind(5);
        ins->bind(6);
      }
      if (row.tag_pattern) {
        ins->bind(7, *row.tag_pattern);
      } else {
        ins->bind(7);
      }
      ins->bind(8, row.tag_pattern_matches ? 1 : 0);
      ins->bind(9, now);
      ins->exec();
    }
    InsertAudit(c, audit);
    if (mark) {
      std::vector<int64_t> ids;
      for (const auto& [id, name] : MutableLiveTags(c, scope)) {
        if (mark(name)) ids.push_back(id);
      }
      if (!ids.empty()) {
        auto up = c.Prepare(
            "UPDATE tag SET immutable = 1,"
            " expires_at = CASE WHEN ?2 = 1 THEN NULL ELSE expires_at END"
            " WHERE id IN (SELECT CAST(value AS INTEGER) FROM json_each(?1))");
        up->bind(1, JsonArray(ids));
        up->bind(2, clear_expiration ? 1 : 0);
        up->exec();
        if (marked_audit) InsertAudit(c, marked_audit(ids.size()));
      }
    }
    return Status::Ok();
  });
}

Status TagPolicyStore::Delete(PolicyKind kind, const ScopeIds& scope, std::string_view uuid,
                              const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) -> Status {
    auto del = c.Prepare(
        "DELETE FROM tag_policy WHERE uuid = ?1 AND kind = ?2"
        " AND (namespace_id = ?3 OR repository_id = ?4)");
    del->bind(1, Str(uuid));
    del->bind(2, KindText(kind));
    del->bind(3, scope.namespace_id.value_or(-1));
    del->bind(4, scope.repository_id.value_or(-1));
    if (del->exec() == 0) {
      return Status::NotFound(Subject::kNone, "policy " + Str(uuid) + " is unknown");
    }
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

Result<std::vector<PruneTarget>> TagPolicyStore::ListPruneTargets() {
  using Out = std::vector<PruneTarget>;
  return ReadOn<Out>(pool_, [&](Connection& c) -> Result<Out> {
    // A repository policy covers its repository; a namespace policy every
    // repository named "ns/...".
    auto q = c.Prepare(
        "SELECT r.id, r.name, p.uuid, p.method, p.value, p.tag_pattern, p.tag_pattern_matches"
        " FROM tag_policy p JOIN repository r ON r.id = p.repository_id"
        " WHERE p.kind = 'autoprune'"
        " UNION ALL"
        " SELECT r.id, r.name, p.uuid, p.method, p.value, p.tag_pattern, p.tag_pattern_matches"
        " FROM tag_policy p JOIN account a ON a.id = p.namespace_id"
        " JOIN repository r ON r.name >= a.name || '/' AND r.name < a.name || '0'"
        " WHERE p.kind = 'autoprune'");
    Out out;
    while (q->executeStep()) {
      PruneTarget t;
      t.repository_id = q->getColumn(0).getInt64();
      t.repository = q->getColumn(1).getString();
      t.policy = ReadPolicy(q, 2);
      out.push_back(std::move(t));
    }
    return out;
  });
}

Result<std::vector<LiveTagRow>> TagPolicyStore::ListLiveTags(int64_t repository_id) {
  using Out = std::vector<LiveTagRow>;
  return ReadOn<Out>(pool_, [&](Connection& c) -> Result<Out> {
    auto q = c.Prepare(
        "SELECT id, name, start_at, immutable FROM tag INDEXED BY tag_live_started"
        " WHERE repository_id = ? AND end_at IS NULL ORDER BY start_at DESC, id DESC");
    q->bind(1, repository_id);
    Out out;
    while (q->executeStep()) {
      LiveTagRow row;
      row.id = q->getColumn(0).getInt64();
      row.name = q->getColumn(1).getString();
      row.start_at = q->getColumn(2).getInt64();
      row.immutable = q->getColumn(3).getInt() != 0;
      out.push_back(std::move(row));
    }
    return out;
  });
}

Result<uint64_t> TagPolicyStore::EndTags(const std::vector<int64_t>& tag_ids, int64_t now,
                                         const std::vector<AuditRow>& audit) {
  return WriteOn<uint64_t>(pool_, [&](Connection& c) -> Result<uint64_t> {
    uint64_t ended = 0;
    for (size_t i = 0; i < tag_ids.size(); ++i) {
      // Still live and mutable: a push or an immutability change since the
      // pass read the tags wins.
      auto end =
          c.Prepare("UPDATE tag SET end_at = ? WHERE id = ? AND end_at IS NULL AND immutable = 0");
      end->bind(1, now);
      end->bind(2, tag_ids[i]);
      if (end->exec() == 1) {
        ++ended;
        if (i < audit.size()) InsertAudit(c, audit[i]);
      }
    }
    return ended;
  });
}

}  // namespace quay::db
