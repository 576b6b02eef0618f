// The SQL of namespace quotas (schema v10: namespace_quota, quota_limit,
// namespace_usage and its triggers). Internal to lib/db.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/audit_store.h"
#include "db/connection.h"
#include "quay/status.h"

namespace quay::db {

struct QuotaLimitRow {
  int64_t id = 0;
  std::string kind;  // "Warning" / "Reject"
  int64_t percent = 0;
};

struct QuotaRow {
  int64_t id = 0;
  uint64_t limit_bytes = 0;
  std::vector<QuotaLimitRow> limits;
};

class QuotaStore {
 public:
  explicit QuotaStore(ConnectionPool& pool) : pool_(pool) {}

  // NotFound(kNone) for a namespace that is no user or organization.
  Result<std::optional<QuotaRow>> Find(std::string_view ns);
  // Bytes the namespace uses (0 when nothing was ever linked).
  Result<uint64_t> Usage(std::string_view ns);
  // Whether the namespace already uses more than a Reject threshold allows
  // (the same test the link trigger applies to a new blob). One indexed read.
  Result<bool> OverRejectLimit(std::string_view ns);

  // Each in one write transaction with `audit`. NotFound(kNone) for an
  // unknown namespace, quota or limit of it; InvalidArgument(kNone) as
  // Quotas documents.
  Result<int64_t> InsertQuota(std::string_view ns, uint64_t limit_bytes, int64_t now,
                              const AuditRow& audit);
  Status UpdateQuota(std::string_view ns, int64_t quota_id, uint64_t limit_bytes,
                     const AuditRow& audit);
  Status DeleteQuota(std::string_view ns, int64_t quota_id, const AuditRow& audit);
  Result<int64_t> InsertLimit(std::string_view ns, int64_t quota_id, std::string_view kind,
                              int64_t percent, const AuditRow& audit);
  Status UpdateLimit(std::string_view ns, int64_t quota_id, int64_t limit_id, std::string_view kind,
                     int64_t percent, const AuditRow& audit);
  Status DeleteLimit(std::string_view ns, int64_t quota_id, int64_t limit_id,
                     const AuditRow& audit);

 private:
  ConnectionPool& pool_;
};

}  // namespace quay::db
