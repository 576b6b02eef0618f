// Tag policies (quay/tag_policy.h): expiration, immutability, immutability
// and auto-prune policies. The rules live here; the rows in
// db/tag_policy_store.*.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <climits>
#include <string>

#include "api/service_state.h"
#include "core/str_cat.h"
#include "quay/reference.h"
#include "registry/registry_impl.h"
#include "registry/upload_id.h"

namespace quay {

std::string_view AutoPruneMethodName(AutoPruneMethod method) {
  return method == AutoPruneMethod::kNumberOfTags ? "number_of_tags" : "creation_date";
}

std::optional<std::chrono::seconds> ParseQuayDuration(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  int64_t unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    case 'w':
      unit = 7 * 86400;
      break;
    case 'y':
      unit = 365 * 86400;
      break;
    default:
      return std::nullopt;
  }
  int64_t n = 0;
  for (char c : text.substr(0, text.size() - 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    if (n > (INT64_MAX / unit - 9) / 10) return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n == 0) return std::nullopt;
  return std::chrono::seconds(n * unit);
}

}  // namespace quay

namespace quay::registry {
namespace {

constexpr size_t kMaxPatternBytes = 256;  // Quay's limit
constexpr std::string_view kExpiresAfterLabel = "quay.expires-after";
constexpr std::string_view kImmutableLabel = "quay.immutable";

Clock::TimePoint At(int64_t micros) { return Clock::TimePoint(std::chrono::microseconds(micros)); }

int64_t Micros(Clock::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

std::string SecondsText(std::optional<int64_t> micros) {
  return micros ? std::to_string(*micros / 1'000'000) : std::string();
}

std::string_view ShortName(std::string_view repository) {
  const size_t slash = repository.find('/');
  return slash == std::string_view::npos ? repository : repository.substr(slash + 1);
}

Status Disabled(std::string_view feature) {
  return Status::Unsupported(Subject::kNone, core::StrCat({feature, " is not enabled"}));
}

Status ValidateScope(const PolicyScope& scope) {
  if (!scope.repository.empty()) {
    if (auto s = ValidateRepositoryName(scope.repository); !s.ok()) return s;
    if (NamespaceOf(scope.repository) != scope.namespace_name) {
      return Status::InvalidArgument(Subject::kName, "repository is not in the namespace");
    }
  } else if (scope.namespace_name.empty()) {
    return Status::InvalidArgument(Subject::kName, "namespace missing");
  }
  return Status::Ok();
}

// The audit row of a policy change: about the repository for a repository
// scope, the namespace otherwise.
db::AuditRow PolicyAudit(const PolicyScope& scope, const Actor& actor, std::string kind,
                         std::string metadata, int64_t now) {
  AuditEvent e = AuditEvent::By(actor, std::move(kind), scope.repository, std::move(metadata));
  e.namespace_name = scope.namespace_name;
  return api::ToAuditRow(std::move(e), now);
}

}  // namespace

RegistryImpl::~RegistryImpl() {
  if (prune_thread_.joinable()) {
    {
      std::lock_guard lock(prune_mutex_);
      prune_stop_ = true;
    }
    prune_wake_.notify_all();
    prune_thread_.join();
  }
}

void RegistryImpl::StartAutoPrune(std::chrono::seconds interval) {
  prune_thread_ = std::thread([this, interval] {
    std::unique_lock lock(prune_mutex_);
    while (!prune_wake_.wait_for(lock, interval, [this] { return prune_stop_; })) {
      lock.unlock();
      auto report = RunAutoPrune();
      if (!report.ok()) {
        ctx_->logger->Log(LogLevel::kWarn, "registry", "failed to run auto-prune",
                          {{"error", report.status().ToString()}});
      } else if (report->tags_pruned > 0) {
        ctx_->logger->Log(LogLevel::kInfo, "registry", "auto-prune ended tags",
                          {{"tags", std::to_string(report->tags_pruned)},
                           {"repositories", std::to_string(report->repositories)}});
      }
      lock.lock();
    }
  });
}

// ---- expiration ----

Status RegistryImpl::EndExpiredTags() {
  const int64_t due = ctx_->next_tag_expiry.load(std::memory_order_acquire);
  const int64_t now = ctx_->NowMicros();
  if (due != INT64_MIN && now < due) return Status::Ok();
  auto next = ctx_->tag_policies->EndExpiredTags(now);
  if (!next.ok()) return next.status();
  // A concurrent SetTagExpiration may have lowered it meanwhile: keep the
  // smaller of the two unless this pass has just ended that one too.
  const int64_t value = next->value_or(INT64_MAX);
  int64_t seen = ctx_->next_tag_expiry.load(std::memory_order_acquire);
  while ((seen == INT64_MIN || seen <= now || value < seen) &&
         !ctx_->next_tag_expiry.compare_exchange_weak(seen, value, std::memory_order_acq_rel)) {
  }
  return Status::Ok();
}

Result<std::pair<std::optional<int64_t>, bool>> RegistryImpl::PushedTagFlags(
    std::string_view repository, std::string_view tag, const std::vector<db::LabelRow>& labels,
    int64_t now) {
  std::pair<std::optional<int64_t>, bool> flags;
  const TagPolicyOptions& options = ctx_->options.tag_policies;
  for (const db::LabelRow& label : labels) {
    if (label.key == kExpiresAfterLabel) {
      // Quay logs and ignores a value it cannot read.
      if (auto d = ParseQuayDuration(label.value)) {
        flags.first = now + std::chrono::duration_cast<std::chrono::microseconds>(*d).count();
      }
    } else if (label.key == kImmutableLabel && options.immutable_tags) {
      std::string v = label.value;
      std::transform(v.begin(), v.end(), v.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      v.erase(0, v.find_first_not_of(" \t"));
      v.erase(v.find_last_not_of(" \t") + 1);
      if (v == "true") flags.second = true;
    }
  }
  if (options.immutable_tags && !flags.second) {
    auto policies = ctx_->tag_policies->ListApplying(db::PolicyKind::kImmutability, repository);
    if (!policies.ok()) return policies.status();
    for (const db::TagPolicyRow& p : *policies) {
      if (p.tag_pattern && Selects(p.tag_pattern, p.tag_pattern_matches, tag)) {
        flags.second = true;
        break;
      }
    }
  }
  if (flags.second && !options.immutable_tags_can_expire) flags.first.reset();
  if (flags.first) {
    int64_t seen = ctx_->next_tag_expiry.load(std::memory_order_acquire);
    while (seen != INT64_MIN && *flags.first < seen &&
           !ctx_->next_tag_expiry.compare_exchange_weak(seen, *flags.first,
                                                        std::memory_order_acq_rel)) {
    }
  }
  return flags;
}

Result<Registry::TagState> RegistryImpl::GetTagState(std::string_view repository,
                                                     std::string_view tag) {
  if (auto s = ValidateRepositoryName(repository); !s.ok()) return s;
  if (auto s = ValidateTag(tag); !s.ok()) return s;
  if (auto s = EndExpiredTags(); !s.ok()) return s;
  auto row = ctx_->tag_policies->FindLiveTag(repository, tag);
  if (!row.ok()) return row.status();
  if (!*row) return Status::NotFound(Subject::kTag, core::StrCat({"tag ", tag, " is unknown"}));
  TagState state;
  if ((*row)->expires_at) state.expiration = At(*(*row)->expires_at);
  state.immutable = (*row)->immutable;
  return state;
}

Result<std::optional<Clock::TimePoint>> RegistryImpl::SetTagExpiration(
    std::string_view repository, std::string_view tag, std::optional<Clock::TimePoint> expiration,
    const Actor& actor) {
  if (auto s = ValidateRepositoryName(repository); !s.ok()) return s;
  if (auto s = ValidateTag(tag); !s.ok()) return s;
  if (auto s = EndExpiredTags(); !s.ok()) return s;
  const int64_t now = ctx_->NowMicros();
  std::optional<int64_t> at;
  if (expiration) {
    at = Micros(*expiration);
    if (*at <= now) {
      return Status::InvalidArgument(Subject::kNone, "the expiration must be in the future");
    }
  }
  const std::string_view ns = NamespaceOf(repository);
  auto audit = [&](std::optional<int64_t> previous) -> std::optional<db::AuditRow> {
    if (previous == at) return std::nullopt;
    // Quay's keys; dates as seconds since the epoch ("" for none).
    std::string metadata = AuditMetadata({{"repo", ShortName(repository)},
                                          {"tag", tag},
                                          {"namespace", ns},
                                          {"expiration_date", SecondsText(at)},
                                          {"old_expiration_date", SecondsText(previous)}});
    return api::ToAuditRow(AuditEvent::By(actor, "change_tag_expiration", std::string(repository),
                                          std::move(metadata)),
                           now);
  };
  auto previous = ctx_->tag_policies->SetExpiration(
      repository, tag, at, !ctx_->options.tag_policies.immutable_tags_can_expire, audit);
  if (!previous.ok()) return previous.status();
  if (at) {
    int64_t seen = ctx_->next_tag_expiry.load(std::memory_order_acquire);
    while (seen != INT64_MIN && *at < seen &&
           !ctx_->next_tag_expiry.compare_exchange_weak(seen, *at, std::memory_order_acq_rel)) {
    }
  }
  std::optional<Clock::TimePoint> out;
  if (*previous) out = At(**previous);
  return out;
}

Result<bool> RegistryImpl::SetTagImmutable(std::string_view repository, std::string_view tag,
                                           bool immutable, const Actor& actor) {
  if (!ctx_->options.tag_policies.immutable_tags) return Disabled("FEATURE_IMMUTABLE_TAGS");
  if (auto s = ValidateRepositoryName(repository); !s.ok()) return s;
  if (auto s = ValidateTag(tag); !s.ok()) return s;
  if (auto s = EndExpiredTags(); !s.ok()) return s;
  const int64_t now = ctx_->NowMicros();
  const std::string_view ns = NamespaceOf(repository);
  auto audit = [&](bool previous) -> std::optional<db::AuditRow> {
    std::string metadata = AuditMetadata({{"repo", ShortName(repository)},
                                          {"tag", tag},
                                          {"namespace", ns},
                                          {"immutable", immutable ? "true" : "false"},
                                          {"previous_immutable", previous ? "true" : "false"}});
    return api::ToAuditRow(AuditEvent::By(actor, "change_tag_immutability", std::string(repository),
                                          std::move(metadata)),
                           now);
  };
  return ctx_->tag_policies->SetImmutable(
      repository, tag, immutable, !ctx_->options.tag_policies.immutable_tags_can_expire, audit);
}

// ---- patterns ----

Result<std::shared_ptr<const std::regex>> RegistryImpl::Pattern(const std::string& text) {
  {
    std::lock_guard lock(ctx_->patterns_mutex);
    if (auto it = ctx_->patterns.find(text); it != ctx_->patterns.end()) return it->second;
  }
  std::shared_ptr<const std::regex> compiled;
  try {
    compiled = std::make_shared<const std::regex>(text, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return Status::InvalidArgument(Subject::kNone,
                                   core::StrCat({"Invalid regex pattern: ", e.what()}));
  }
  std::lock_guard lock(ctx_->patterns_mutex);
  if (ctx_->patterns.size() >= 256) ctx_->patterns.clear();
  ctx_->patterns.emplace(text, compiled);
  return compiled;
}

bool RegistryImpl::Selects(const std::optional<std::string>& pattern, bool matches,
                           std::string_view tag) {
  if (!pattern) return true;
  auto re = Pattern(*pattern);
  if (!re.ok()) return false;  // stored patterns compiled when saved
  bool hit = false;
  try {
    hit = std::regex_match(tag.begin(), tag.end(), **re);
  } catch (const std::regex_error&) {
    hit = false;  // complexity or stack limits: Quay treats a timeout as no match
  }
  return hit == matches;
}

// ---- immutability policies ----

namespace {

Status ValidatePattern(const std::optional<std::string>& pattern, bool required) {
  if (!pattern) {
    if (required) {
      return Status::InvalidArgument(Subject::kNone,
                                     "tag_pattern is required and must be a non-empty string");
    }
    return Status::Ok();
  }
  if (pattern->empty())
    return Status::InvalidArgument(Subject::kNone, "tag_pattern cannot be empty");
  if (pattern->size() > kMaxPatternBytes) {
    return Status::InvalidArgument(Subject::kNone, "tag_pattern must be 256 characters or less");
  }
  return Status::Ok();
}

ImmutabilityPolicy ToImmutability(db::TagPolicyRow row) {
  ImmutabilityPolicy p;
  p.uuid = std::move(row.uuid);
  p.tag_pattern = row.tag_pattern.value_or("");
  p.tag_pattern_matches = row.tag_pattern_matches;
  return p;
}

Result<AutoPrunePolicy> ToAutoPrune(db::TagPolicyRow row) {
  AutoPrunePolicy p;
  p.uuid = std::move(row.uuid);
  p.method = row.method == "creation_date" ? AutoPruneMethod::kCreationDate
                                           : AutoPruneMethod::kNumberOfTags;
  p.value = std::move(row.value);
  p.tag_pattern = std::move(row.tag_pattern);
  p.tag_pattern_matches = row.tag_pattern_matches;
  return p;
}

std::string ImmutabilityMetadata(const PolicyScope& scope, const ImmutabilityPolicy& p) {
  if (scope.repository.empty()) {
    return AuditMetadata({{"namespace", scope.namespace_name},
                          {"tag_pattern", p.tag_pattern},
                          {"tag_pattern_matches", p.tag_pattern_matches ? "true" : "false"}});
  }
  return AuditMetadata({{"namespace", scope.namespace_name},
                        {"repo", ShortName(scope.repository)},
                        {"tag_pattern", p.tag_pattern},
                        {"tag_pattern_matches", p.tag_pattern_matches ? "true" : "false"}});
}

}  // namespace

Result<std::vector<ImmutabilityPolicy>> RegistryImpl::ListImmutabilityPolicies(
    const PolicyScope& scope) {
  if (!ctx_->options.tag_policies.immutable_tags) return Disabled("FEATURE_IMMUTABLE_TAGS");
  if (auto s = ValidateScope(scope); !s.ok()) return s;
  auto ids = ctx_->tag_policies->ResolveScope(scope.namespace_name, scope.repository);
  if (!ids.ok()) return ids.status();
  auto rows = ctx_->tag_policies->List(db::PolicyKind::kImmutability, *ids);
  if (!rows.ok()) return rows.status();
  std::vector<ImmutabilityPolicy> out;
  for (db::TagPolicyRow& row : *rows) out.push_back(ToImmutability(std::move(row)));
  return out;
}

Result<ImmutabilityPolicy> RegistryImpl::GetImmutabilityPolicy(const PolicyScope& scope,
                                                               std::string_view uuid) {
  auto all = ListImmutabilityPolicies(scope);
  if (!all.ok()) return all.status();
  for (ImmutabilityPolicy& p : *all) {
    if (p.uuid == uuid) return std::move(p);
  }
  return Status::NotFound(Subject::kNone, core::StrCat({"policy ", uuid, " is unknown"}));
}

Result<ImmutabilityPolicy> RegistryImpl::CreateImmutabilityPolicy(const PolicyScope& scope,
                                                                  const ImmutabilityPolicy& policy,
                                                                  const Actor& actor) {
  ImmutabilityPolicy p = policy;
  p.uuid = NewUploadId();  // a random UUID v4
  if (Status s = SaveImmutability(scope, p, actor, true); !s.ok()) return s;
  return p;
}

Status RegistryImpl::UpdateImmutabilityPolicy(const PolicyScope& scope,
                                              const ImmutabilityPolicy& policy,
                                              const Actor& actor) {
  return SaveImmutability(scope, policy, actor, false);
}

Status RegistryImpl::SaveImmutability(const PolicyScope& scope, const ImmutabilityPolicy& policy,
                                      const Actor& actor, bool creating) {
  if (!ctx_->options.tag_policies.immutable_tags) return Disabled("FEATURE_IMMUTABLE_TAGS");
  if (auto s = ValidateScope(scope); !s.ok()) return s;
  std::optional<std::string> pattern;
  if (!policy.tag_pattern.empty()) pattern = policy.tag_pattern;
  if (auto s = ValidatePattern(pattern, true); !s.ok()) return s;
  if (auto re = Pattern(*pattern); !re.ok()) return re.status();
  if (auto s = EndExpiredTags(); !s.ok()) return s;
  auto ids = ctx_->tag_policies->ResolveScope(scope.namespace_name, scope.repository);
  if (!ids.ok()) return ids.status();
  const int64_t now = ctx_->NowMicros();
  db::TagPolicyRow row;
  row.uuid = policy.uuid;
  row.tag_pattern = pattern;
  row.tag_pattern_matches = policy.tag_pattern_matches;
  const char* kind = creating ? "create_immutability_policy" : "update_immutability_policy";
  db::AuditRow audit = PolicyAudit(scope, actor, kind, ImmutabilityMetadata(scope, policy), now);
  auto mark = [&](std::string_view tag) {
    return Selects(pattern, policy.tag_pattern_matches, tag);
  };
  auto marked = [&](uint64_t count) {
    std::string metadata =
        scope.repository.empty()
            ? AuditMetadata({{"namespace", scope.namespace_name},
                             {"tag_pattern", *pattern},
                             {"tag_pattern_matches", policy.tag_pattern_matches ? "true" : "false"},
                             {"count", std::to_string(count)}})
            : AuditMetadata({{"namespace", scope.namespace_name},
                             {"repo", ShortName(scope.repository)},
                             {"tag_pattern", *pattern},
                             {"tag_pattern_matches", policy.tag_pattern_matches ? "true" : "false"},
                             {"count", std::to_string(count)}});
    return PolicyAudit(scope, actor, "tags_made_immutable_by_policy", std::move(metadata), now);
  };
  return ctx_->tag_policies->Save(db::PolicyKind::kImmutability, *ids, row, !creating, now, audit,
                                  mark, !ctx_->options.tag_policies.immutable_tags_can_expire,
                                  marked);
}

Status RegistryImpl::DeleteImmutabilityPolicy(const PolicyScope& scope, std::string_view uuid,
                                              const Actor& actor) {
  if (!ctx_->options.tag_policies.immutable_tags) return Disabled("FEATURE_IMMUTABLE_TAGS");
  if (auto s = ValidateScope(scope); !s.ok()) return s;
  auto ids = ctx_->tag_policies->ResolveScope(scope.namespace_name, scope.repository);
  if (!ids.ok()) return ids.status();
  std::string metadata =
      scope.repository.empty()
          ? AuditMetadata({{"namespace", scope.namespace_name}, {"policy_uuid", uuid}})
          : AuditMetadata({{"namespace", scope.namespace_name},
                           {"repo", ShortName(scope.repository)},
                           {"policy_uuid", uuid}});
  return ctx_->tag_policies->Delete(db::PolicyKind::kImmutability, *ids, uuid,
                                    PolicyAudit(scope, actor, "delete_immutability_policy",
                                                std::move(metadata), ctx_->NowMicros()));
}

// ---- auto-prune policies ----

namespace {

Status ValidateAutoPrune(const AutoPrunePolicy& p) {
  if (p.method == AutoPruneMethod::kNumberOfTags) {
    if (p.value.empty() || p.value.size() > 18 ||
        !std::all_of(p.value.begin(), p.value.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoll(p.value) <= 0) {
      return Status::InvalidArgument(Subject::kNone,
                                     "Invalid value given for method number_of_tags");
    }
  } else if (!ParseQuayDuration(p.value)) {
    return Status::InvalidArgument(Subject::kNone, "Invalid value given for method creation_date");
  }
  return ValidatePattern(p.tag_pattern, false);
}

std::string AutoPruneKind(std::string_view verb, const PolicyScope& scope) {
  return core::StrCat({verb, scope.repository.empty() ? "_namespace_autoprune_policy"
                                                      : "_repository_autoprune_policy"});
}

std::string AutoPruneMetadata(const PolicyScope& scope, const AutoPrunePolicy& p) {
  const std::string method(AutoPruneMethodName(p.method));
  const std::string pattern = p.tag_pattern.value_or("");
  if (scope.repository.empty()) {
    return AuditMetadata({{"method", method},
                          {"value", p.value},
                          {"namespace", scope.namespace_name},
                          {"tag_pattern", pattern},
                          {"tag_pattern_matches", p.tag_pattern_matches ? "true" : "false"}});
  }
  return AuditMetadata({{"method", method},
                        {"value", p.value},
                        {"namespace", scope.namespace_name},
                        {"repo", ShortName(scope.repository)},
                        {"tag_pattern", pattern},
                        {"tag_pattern_matches", p.tag_pattern_matches ? "true" : "false"}});
}

}  // namespace

Result<std::vector<AutoPrunePolicy>> RegistryImpl::ListAutoPrunePolicies(const PolicyScope& scope) {
  if (!ctx_->options.tag_policies.auto_prune) return Disabled("FEATURE_AUTO_PRUNE");
  if (auto s = ValidateScope(scope); !s.ok()) return s;
  auto ids = ctx_->tag_policies->ResolveScope(scope.namespace_name, scope.repository);
  if (!ids.ok()) return ids.status();
  auto rows = ctx_->tag_policies->List(db::PolicyKind::kAutoPrune, *ids);
  if (!rows.ok()) return rows.status();
  std::vector<AutoPrunePolicy> out;
  for (db::TagPolicyRow& row : *rows) {
    auto p = ToAutoPrune(std::move(row));
    if (!p.ok()) return p.status();
    out.push_back(std::move(*p));
  }
  return out;
}

Result<AutoPrunePolicy> RegistryImpl::GetAutoPrunePolicy(const PolicyScope& scope,
                                                         std::string_view uuid) {
  auto all = ListAutoPrunePolicies(scope);
  if (!all.ok()) return all.status();
  for (AutoPrunePolicy& p : *all) {
    if (p.uuid == uuid) return std::move(p);
  }
  return Status::NotFound(Subject::kNone, core::StrCat({"policy ", uuid, " is unknown"}));
}

Result<AutoPrunePolicy> RegistryImpl::CreateAutoPrunePolicy(const PolicyScope& scope,
                                                            const AutoPrunePolicy& policy,
                                                            const Actor& actor) {
  if (!ctx_->options.tag_policies.auto_prune) return Disabled("FEATURE_AUTO_PRUNE");
  if (auto s = ValidateScope(scope); !s.ok()) return s;
  if (auto s = ValidateAutoPrune(policy); !s.ok()) return s;
  if (policy.tag_pattern) {
    if (auto re = Pattern(*policy.tag_pattern); !re.ok()) return re.status();
  }
  auto ids = ctx_->tag_policies->ResolveScope(scope.namespace_name, scope.repository);
  if (!ids.ok()) return ids.status();
  AutoPrunePolicy p = policy;
  p.uuid = NewUploadId();
  db::TagPolicyRow row;
  row.uuid = p.uuid;
  row.method = std::string(AutoPruneMethodName(p.method));
  row.value = p.value;
  row.tag_pattern = p.tag_pattern;
  row.tag_pattern_matches = p.tag_pattern_matches;
  const int64_t now = ctx_->NowMicros();
  Status s = ctx_->tag_policies->Save(
      db::PolicyKind::kAutoPrune, *ids, row, false, now,
      PolicyAudit(scope, actor, AutoPruneKind("create", scope), AutoPruneMetadata(scope, p), now),
      {}, false, {});
  if (!s.ok()) return s;
  return p;
}

Status RegistryImpl::UpdateAutoPrunePolicy(const PolicyScope& scope, const AutoPrunePolicy& policy,
                                           const Actor& actor) {
  if (!ctx_->options.tag_policies.auto_prune) return Disabled("FEATURE_AUTO_PRUNE");
  if (auto s = ValidateScope(scope); !s.ok()) return s;
  if (auto s = ValidateAutoPrune(policy); !s.ok()) return s;
  if (policy.tag_pattern) {
    if (auto re = Pattern(*policy.tag_pattern); !re.ok()) return re.status();
  }
  auto ids = ctx_->tag_policies->ResolveScope(scope.namespace_name, scope.repository);
  if (!ids.ok()) return ids.status();
  db::TagPolicyRow row;
  row.uuid = policy.uuid;
  row.method = std::string(AutoPruneMethodName(policy.method));
  row.value = policy.value;
  row.tag_pattern = policy.tag_pattern;
  row.tag_pattern_matches = policy.tag_pattern_matches;
  const int64_t now = ctx_->NowMicros();
  return ctx_->tag_policies->Save(db::PolicyKind::kAutoPrune, *ids, row, true, now,
                                  PolicyAudit(scope, actor, AutoPruneKind("update", scope),
                                              AutoPruneMetadata(scope, policy), now),
                                  {}, false, {});
}

Status RegistryImpl::DeleteAutoPrunePolicy(const PolicyScope& scope, std::string_view uuid,
                                           const Actor& actor) {
  if (!ctx_->options.tag_policies.auto_prune) return Disabled("FEATURE_AUTO_PRUNE");
  if (auto s = ValidateScope(scope); !s.ok()) return s;
  auto ids = ctx_->tag_policies->ResolveScope(scope.namespace_name, scope.repository);
  if (!ids.ok()) return ids.status();
  std::string metadata =
      scope.repository.empty()
          ? AuditMetadata({{"namespace", scope.namespace_name}, {"policy_uuid", uuid}})
          : AuditMetadata({{"namespace", scope.namespace_name},
                           {"repo", ShortName(scope.repository)},
                           {"policy_uuid", uuid}});
  return ctx_->tag_policies->Delete(db::PolicyKind::kAutoPrune, *ids, uuid,
                                    PolicyAudit(scope, actor, AutoPruneKind("delete", scope),
                                                std::move(metadata), ctx_->NowMicros()));
}

Result<AutoPruneReport> RegistryImpl::RunAutoPrune() {
  if (!ctx_->options.tag_policies.auto_prune) return Disabled("FEATURE_AUTO_PRUNE");
  if (auto s = EndExpiredTags(); !s.ok()) return s;
  auto targets = ctx_->tag_policies->ListPruneTargets();
  if (!targets.ok()) return targets.status();
  AutoPruneReport report;
  std::vector<std::string> seen_policies;
  std::vector<int64_t> seen_repositories;
  const Actor worker;  // Quay's "autoprune worker": no principal
  for (const db::PruneTarget& target : *targets) {
    const int64_t now = ctx_->NowMicros();
    auto tags = ctx_->tag_policies->ListLiveTags(target.repository_id);
    if (!tags.ok()) return tags.status();
    const db::TagPolicyRow& p = target.policy;
    const bool by_count = p.method == "number_of_tags";
    int64_t keep = 0;
    int64_t started_before = INT64_MIN;
    if (by_count) {
      keep = std::stoll(p.value);
    } else if (auto d = ParseQuayDuration(p.value)) {
      started_before = now - std::chrono::duration_cast<std::chrono::microseconds>(*d).count();
    } else {
      continue;  // validated when saved
    }
    std::vector<int64_t> ids;
    std::vector<db::AuditRow> audit;
    int64_t kept = 0;
    for (const db::LiveTagRow& tag : *tags) {
      if (!Selects(p.tag_pattern, p.tag_pattern_matches, tag.name)) continue;
      const bool prune = by_count ? kept++ >= keep : tag.start_at < started_before;
      if (!prune || tag.immutable) continue;
      ids.push_back(tag.id);
      std::string metadata = AuditMetadata({{"performer", "autoprune worker"},
                                            {"namespace", NamespaceOf(target.repository)},
                                            {"repo", ShortName(target.repository)},
                                            {"tag", tag.name}});
      audit.push_back(api::ToAuditRow(
          AuditEvent::By(worker, "autoprune_tag_delete", target.repository, std::move(metadata)),
          now));
    }
    if (std::find(seen_policies.begin(), seen_policies.end(), p.uuid) == seen_policies.end()) {
      seen_policies.push_back(p.uuid);
    }
    if (std::find(seen_repositories.begin(), seen_repositories.end(), target.repository_id) ==
        seen_repositories.end()) {
      seen_repositories.push_back(target.repository_id);
    }
    if (ids.empty()) continue;
    auto ended = ctx_->tag_policies->EndTags(ids, now, audit);
    if (!ended.ok()) return ended.status();
    report.tags_pruned += *ended;
  }
  report.repositories = seen_repositories.size();
  report.policies = seen_policies.size();
  return report;
}

}  // namespace quay::registry
