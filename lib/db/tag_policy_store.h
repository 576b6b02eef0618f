// The SQL of tag policies (schema v10): tag expiration, immutability, and
// the tag_policy table of immutability and auto-prune policies. The rules
// (which tags a pattern matches, which tags a policy prunes) are the
// registry's; these calls read and write rows and take the rule as a
// callback where it must run inside a transaction. Internal to lib/db.
//
// Thread safety: like Database (writes serialize on the pool's writer).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/audit_store.h"
#include "db/connection.h"
#include "quay/status.h"

namespace quay::db {

enum class PolicyKind : unsigned char { kImmutability, kAutoPrune };

// A live tag row's policy columns.
struct TagStateRow {
  std::optional<int64_t> expires_at;
  bool immutable = false;
};

struct TagPolicyRow {
  std::string uuid;
  std::string method;  // auto-prune only
  std::string value;   // auto-prune only
  std::optional<std::string> tag_pattern;
  bool tag_pattern_matches = true;
};

// A policy scope resolved to its row: exactly one id is set.
struct ScopeIds {
  std::optional<int64_t> namespace_id;
  std::optional<int64_t> repository_id;
  std::string namespace_name;  // the namespace (also of a repository scope)
};

// A live tag, for auto-prune.
struct LiveTagRow {
  int64_t id = 0;
  std::string name;
  int64_t start_at = 0;
  bool immutable = false;
};

// A repository an auto-prune policy covers.
struct PruneTarget {
  TagPolicyRow policy;
  int64_t repository_id = 0;
  std::string repository;
};

// True when a tag (by name) should become immutable.
using TagMatcher = std::function<bool(std::string_view tag)>;

class TagPolicyStore {
 public:
  explicit TagPolicyStore(ConnectionPool& pool) : pool_(pool) {}

  // The earliest expires_at of a live row (index tag_expiring), if any.
  Result<std::optional<int64_t>> NextExpiry();
  // Ends every live row whose expires_at <= now at its expires_at, in one
  // write transaction (none when nothing is due). Returns the next
  // expiry after that.
  Result<std::optional<int64_t>> EndExpiredTags(int64_t now);

  // The live row of `tag`: empty when the tag is not live;
  // NotFound(kRepository) for an unknown repository.
  Result<std::optional<TagStateRow>> FindLiveTag(std::string_view repository, std::string_view tag);
  // Sets the live row's expires_at (nullopt clears). `audit` gets the
  // previous value and returns the row to write (none: nothing to record).
  // Conflict(kTag) when `refuse_immutable` and the tag is immutable.
  // Returns the previous expires_at.
  using ExpirationAudit = std::function<std::optional<AuditRow>(std::optional<int64_t> previous)>;
  Result<std::optional<int64_t>> SetExpiration(std::string_view repository, std::string_view tag,
                                               std::optional<int64_t> expires_at,
                                               bool refuse_immutable, const ExpirationAudit& audit);
  // Sets the live row's immutable flag (clearing expires_at when making it
  // immutable and `clear_expiration`). Returns the previous flag.
  using ImmutableAudit = std::function<std::optional<AuditRow>(bool previous)>;
  Result<bool> SetImmutable(std::string_view repository, std::string_view tag, bool immutable,
                            bool clear_expiration, const ImmutableAudit& audit);

  // The rows a scope names: NotFound(kRepository) for an unknown
  // repository, NotFound(kNone) for a namespace that is no account.
  Result<ScopeIds> ResolveScope(std::string_view namespace_name, std::string_view repository);
  Result<std::vector<TagPolicyRow>> List(PolicyKind kind, const ScopeIds& scope);
  // The immutability (or auto-prune) policies that apply to `repository`:
  // its own and its namespace's. One query.
  Result<std::vector<TagPolicyRow>> ListApplying(PolicyKind kind, std::string_view repository);

  // Inserts (or, with `replace`, updates the row of `row.uuid`:
  // NotFound(kNone) if the scope has none) a policy with `audit`, and when
  // `mark` is set, marks the scope's live mutable tags it accepts immutable
  // (clearing their expiration when `clear_expiration`), writing
  // `marked_audit(count)` when any changed. InvalidArgument(kNone) when the
  // scope has another policy of the same kind and pattern (`duplicate_of`).
  Status Save(PolicyKind kind, const ScopeIds& scope, const TagPolicyRow& row, bool replace,
              int64_t now, const AuditRow& audit, const TagMatcher& mark, bool clear_expiration,
              const std::function<AuditRow(uint64_t count)>& marked_audit);
  // NotFound(kNone) for an unknown uuid in the scope.
  Status Delete(PolicyKind kind, const ScopeIds& scope, std::string_view uuid,
                const AuditRow& audit);

  // Every (auto-prune policy, repository it covers) pair.
  Result<std::vector<PruneTarget>> ListPruneTargets();
  // The repository's live tags, newest start first.
  Result<std::vector<LiveTagRow>> ListLiveTags(int64_t repository_id);
  // In one transaction ends those of `tag_ids` still live and mutable,
  // writing audit[i] for each tag_ids[i] ended. How many ended.
  Result<uint64_t> EndTags(const std::vector<int64_t>& tag_ids, int64_t now,
                           const std::vector<AuditRow>& audit);

 private:
  ConnectionPool& pool_;
};

}  // namespace quay::db
