// Storage quotas of namespaces (Quay's FEATURE_QUOTA_MANAGEMENT): one quota
// per user or organization, in bytes, with Warning and Reject thresholds in
// percent of it.
//
// Usage is the bytes of the distinct blobs linked to the namespace's
// repositories, each digest counted once per namespace however many of its
// repositories hold it. The database keeps it incrementally in the
// transaction that links or unlinks a blob (a push never scans), and the
// same transaction refuses a link that takes the namespace past its Reject
// threshold: the blob commit or mount answers Denied ("Quota has been
// exceeded on namespace"), /v2 403 DENIED as Quay. A namespace without a
// Reject threshold is never refused.
//
// Thread safety: a Quotas is safe to use from many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quay/audit.h"
#include "quay/export.h"
#include "quay/registry.h"
#include "quay/status.h"

namespace quay {

struct QuotaLimit {
  enum class Kind : unsigned char { kWarning, kReject };
  int64_t id = 0;
  Kind kind = Kind::kWarning;
  int64_t percent = 0;  // of the quota's limit_bytes
};

// "Warning" / "Reject" (Quay's QuotaType names).
QUAY_EXPORT std::string_view QuotaLimitKindName(QuotaLimit::Kind kind);

struct NamespaceQuota {
  int64_t id = 0;
  std::string namespace_name;
  uint64_t limit_bytes = 0;
  std::vector<QuotaLimit> limits;  // in creation order
};

// Where a namespace stands.
struct QuotaReport {
  uint64_t used_bytes = 0;
  std::optional<NamespaceQuota> quota;
  bool over_warning = false;  // past a Warning threshold
  bool over_reject = false;   // at or past the Reject threshold
};

class QUAY_EXPORT Quotas {
 public:
  // The quotas of `registry`'s database (a Registry from Registry::Open).
  // Cheap: shares the registry's database. InvalidArgument for another
  // Registry implementation.
  static Result<std::unique_ptr<Quotas>> Open(Registry& registry);
  virtual ~Quotas() = default;

  // Every call takes a namespace (a user or organization name; NotFound(kNone)
  // when no such account exists) and, where it names one, a quota id or
  // limit id of that namespace (NotFound(kNone) otherwise). Mutations write
  // Quay's audit row (org_create_quota, org_change_quota, org_delete_quota,
  // org_create_quota_limit, org_change_quota_limit, org_delete_quota_limit)
  // in their transaction.

  // The namespace's quota, if it has one.
  virtual Result<std::optional<NamespaceQuota>> Find(std::string_view ns) = 0;
  // InvalidArgument(kNone) when it already has one or `limit_bytes` is 0.
  virtual Result<NamespaceQuota> Create(std::string_view ns, uint64_t limit_bytes,
                                        const Actor& actor) = 0;
  virtual Status Change(std::string_view ns, int64_t quota_id, uint64_t limit_bytes,
                        const Actor& actor) = 0;
  virtual Status Delete(std::string_view ns, int64_t quota_id, const Actor& actor) = 0;
  // InvalidArgument(kNone) for a percent not above 0, the same limit twice,
  // or a second Reject limit (Quay).
  virtual Result<QuotaLimit> AddLimit(std::string_view ns, int64_t quota_id, QuotaLimit::Kind kind,
                                      int64_t percent, const Actor& actor) = 0;
  virtual Status ChangeLimit(std::string_view ns, int64_t quota_id, int64_t limit_id,
                             QuotaLimit::Kind kind, int64_t percent, const Actor& actor) = 0;
  virtual Status DeleteLimit(std::string_view ns, int64_t quota_id, int64_t limit_id,
                             const Actor& actor) = 0;
  // Usage, quota and thresholds (one read).
  virtual Result<QuotaReport> Report(std::string_view ns) = 0;
};

// "1.5 GiB": Quay's bitmath best_prefix rendering ("{value:.1f} {unit}").
QUAY_EXPORT std::string HumanBytes(uint64_t bytes);
// "10 GiB", "500MB", "1.5 TiB", "42" (bytes) -> bytes: Quay's
// bitmath.parse_string_unsafe for the `limit` field. Empty on anything else.
QUAY_EXPORT std::optional<uint64_t> ParseHumanBytes(std::string_view text);

}  // namespace quay
