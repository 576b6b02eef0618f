#include "db/quota_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include "db/sql_support.h"
#include "db/store_support.h"

namespace quay::db {
namespace {

Status UnknownNamespace(std::string_view ns) {
  return Status::NotFound(Subject::kNone, "namespace " + Str(ns) + " is unknown");
}

Status UnknownQuota() { return Status::NotFound(Subject::kNone, "quota is unknown"); }

// The account id of a user or organization.
std::optional<int64_t> NamespaceId(Connection& c, std::string_view ns) {
  auto q = c.Prepare("SELECT id FROM account WHERE name = ? AND kind <> 'robot'");
  q->bind(1, Str(ns));
  if (!q->executeStep()) return std::nullopt;
  return q->getColumn(0).getInt64();
}

std::optional<QuotaRow> ReadQuota(Connection& c, int64_t namespace_id) {
  QuotaRow row;
  {
    auto q = c.Prepare("SELECT id, limit_bytes FROM namespace_quota WHERE namespace_id = ?");
    q->bind(1, namespace_id);
    if (!q->executeStep()) return std::nullopt;
    row.id = q->getColumn(0).getInt64();
    row.limit_bytes = static_cast<uint64_t>(q->getColumn(1).getInt64());
  }
  auto q = c.Prepare("SELECT id, kind, percent FROM quota_limit WHERE quota_id = ? ORDER BY id");
  q->bind(1, row.id);
  while (q->executeStep()) {
    row.limits.push_back(
        {q->getColumn(0).getInt64(), q->getColumn(1).getString(), q->getColumn(2).getInt64()});
  }
  return row;
}

// The namespace's quota row if it is `quota_id`.
Result<QuotaRow> QuotaOf(Connection& c, std::string_view ns, int64_t quota_id) {
  auto id = NamespaceId(c, ns);
  if (!id) return UnknownNamespace(ns);
  auto quota = ReadQuota(c, *id);
  if (!quota || quota->id != quota_id) return UnknownQuota();
  return *quota;
}

// Quay: the same (kind, percent) twice, or a second Reject, is refused.
Status CheckLimit(const QuotaRow& quota, std::string_view kind, int64_t percent,
                  int64_t except_id) {
  if (percent <= 0) {
    return Status::InvalidArgument(Subject::kNone, "threshold_percent must be above 0");
  }
  for (const QuotaLimitRow& l : quota.limits) {
    if (l.id == except_id) continue;
    if (l.kind == kind && l.percent == percent) {
      return Status::InvalidArgument(Subject::kNone, "Quota limit already exists");
    }
    if (kind == "Reject" && l.kind == "Reject") {
      return Status::InvalidArgument(Subject::kNone,
                                     "Only one quota limit of type 'Reject' allowed.");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::optional<QuotaRow>> QuotaStore::Find(std::string_view ns) {
  using Out = std::optional<QuotaRow>;
  return ReadOn<Out>(pool_, [&](Connection& c) -> Result<Out> {
    auto id = NamespaceId(c, ns);
    if (!id) return UnknownNamespace(ns);
    return ReadQuota(c, *id);
  });
}

Result<uint64_t> QuotaStore::Usage(std::string_view ns) {
  return ReadOn<uint64_t>(pool_, [&](Connection& c) -> Result<uint64_t> {
    auto q = c.Prepare("SELECT bytes FROM namespace_usage WHERE namespace = ?");
    q->bind(1, Str(ns));
    if (!q->executeStep()) return uint64_t{0};
    return static_cast<uint64_t>(q->getColumn(0).getInt64());
  });
}

Result<bool> QuotaStore::OverRejectLimit(std::string_view ns) {
  return ReadOn<bool>(pool_, [&](Connection& c) -> Result<bool> {
    auto q = c.Prepare(
        "SELECT 1 FROM namespace_usage u JOIN account a ON a.name = u.namespace"
        " JOIN namespace_quota q ON q.namespace_id = a.id"
        " JOIN quota_limit l ON l.quota_id = q.id AND l.kind = 'Reject'"
        " WHERE u.namespace = ? AND u.bytes > q.limit_bytes * l.percent / 100 LIMIT 1");
    q->bind(1, Str(ns));
    return q->executeStep();
  });
}

Result<int64_t> QuotaStore::InsertQuota(std::string_view ns, uint64_t limit_bytes, int64_t now,
                                        const AuditRow& audit) {
  return WriteOn<int64_t>(pool_, [&](Connection& c) -> Result<int64_t> {
    auto id = NamespaceId(c, ns);
    if (!id) return UnknownNamespace(ns);
    if (ReadQuota(c, *id)) {
      return Status::InvalidArgument(Subject::kNone,
                                     "Organization quota for '" + Str(ns) + "' already exists");
    }
    auto ins = c.Prepare(
        "INSERT INTO namespace_quota(namespace_id, limit_bytes, created_at) VALUES(?, ?, ?)"
        " RETURNING id");
    ins->bind(1, *id);
    ins->bind(2, static_cast<int64_t>(limit_bytes));
    ins->bind(3, now);
    ins->executeStep();
    const int64_t quota_id = ins->getColumn(0).getInt64();
    while (ins->executeStep()) {
    }
    InsertAudit(c, audit);
    return quota_id;
  });
}

Status QuotaStore::UpdateQuota(std::string_view ns, int64_t quota_id, uint64_t limit_bytes,
                               const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) -> Status {
    auto quota = QuotaOf(c, ns, quota_id);
    if (!quota.ok()) return quota.status();
    auto up = c.Prepare("UPDATE namespace_quota SET limit_bytes = ? WHERE id = ?");
    up->bind(1, static_cast<int64_t>(limit_bytes));
    up->bind(2, quota_id);
    up->exec();
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

Status QuotaStore::DeleteQuota(std::string_view ns, int64_t quota_id, const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) -> Status {
    auto quota = QuotaOf(c, ns, quota_id);
    if (!quota.ok()) return quota.status();
    auto del = c.Prepare("DELETE FROM namespace_quota WHERE id = ?");
    del->bind(1, quota_id);
    del->exec();
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

Result<int64_t> QuotaStore::InsertLimit(std::string_view ns, int64_t quota_id,
                                        std::string_view kind, int64_t percent,
                                        const AuditRow& audit) {
  return WriteOn<int64_t>(pool_, [&](Connection& c) -> Result<int64_t> {
    auto quota = QuotaOf(c, ns, quota_id);
    if (!quota.ok()) return quota.status();
    if (Status s = CheckLimit(*quota, kind, percent, 0); !s.ok()) return s;
    auto ins =
        c.Prepare("INSERT INTO quota_limit(quota_id, kind, percent) VALUES(?, ?, ?) RETURNING id");
    ins->bind(1, quota_id);
    ins->bind(2, Str(kind));
    ins->bind(3, percent);
    ins->executeStep();
    const int64_t limit_id = ins->getColumn(0).getInt64();
    while (ins->executeStep()) {
    }
    InsertAudit(c, audit);
    return limit_id;
  });
}

Status QuotaStore::UpdateLimit(std::string_view ns, int64_t quota_id, int64_t limit_id,
                               std::string_view kind, int64_t percent, const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) -> Status {
    auto quota = QuotaOf(c, ns, quota_id);
    if (!quota.ok()) return quota.status();
    bool found = false;
    for (const QuotaLimitRow& l : quota->limits) found = found || l.id == limit_id;
    if (!found) return Status::NotFound(Subject::kNone, "quota limit is unknown");
    if (Status s = CheckLimit(*quota, kind, percent, limit_id); !s.ok()) return s;
    auto up = c.Prepare("UPDATE quota_limit SET kind = ?, percent = ? WHERE id = ?");
    up->bind(1, Str(kind));
    up->bind(2, percent);
    up->bind(3, limit_id);
    up->exec();
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

Status QuotaStore::DeleteLimit(std::string_view ns, int64_t quota_id, int64_t limit_id,
                               const AuditRow& audit) {
  return WriteStatusOn(pool_, [&](Connection& c) -> Status {
    auto quota = QuotaOf(c, ns, quota_id);
    if (!quota.ok()) return quota.status();
    auto del = c.Prepare("DELETE FROM quota_limit WHERE id = ? AND quota_id = ?");
    del->bind(1, limit_id);
    del->bind(2, quota_id);
    if (del->exec() == 0) return Status::NotFound(Subject::kNone, "quota limit is unknown");
    InsertAudit(c, audit);
    return Status::Ok();
  });
}

}  // namespace quay::db
