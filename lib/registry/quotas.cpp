// Namespace quotas (quay/quotas.h). Usage and the Reject refusal are kept by
// the database's triggers (schema v10); this file is the CRUD, its audit
// rows and the report.
#include "quay/quotas.h"

#include <cmath>
#include <cstdio>
#include <memory>

#include "api/service_state.h"
#include "db/delivery_store.h"
#include "db/quota_store.h"
#include "registry/context.h"
#include "registry/registry_impl.h"

namespace quay {
namespace {

int64_t NowMicros(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::microseconds>(clock.Now().time_since_epoch())
      .count();
}

QuotaLimit::Kind KindFrom(const std::string& text) {
  return text == "Reject" ? QuotaLimit::Kind::kReject : QuotaLimit::Kind::kWarning;
}

NamespaceQuota ToQuota(std::string_view ns, db::QuotaRow row) {
  NamespaceQuota q;
  q.id = row.id;
  q.namespace_name = std::string(ns);
  q.limit_bytes = row.limit_bytes;
  for (const db::QuotaLimitRow& l : row.limits)
    q.limits.push_back({l.id, KindFrom(l.kind), l.percent});
  return q;
}

class QuotasImpl final : public Quotas {
 public:
  QuotasImpl(std::shared_ptr<db::Database> db, std::shared_ptr<Clock> clock)
      : db_(std::move(db)), clock_(std::move(clock)), store_(db_->connections()) {}

  Result<std::optional<NamespaceQuota>> Find(std::string_view ns) override {
    auto row = store_.Find(ns);
    if (!row.ok()) return row.status();
    if (!*row) return std::optional<NamespaceQuota>();
    return std::optional<NamespaceQuota>(ToQuota(ns, std::move(**row)));
  }

  Result<NamespaceQuota> Create(std::string_view ns, uint64_t limit_bytes,
                                const Actor& actor) override {
    if (Status s = CheckBytes(limit_bytes); !s.ok()) return s;
    const int64_t now = NowMicros(*clock_);
    const std::string human = HumanBytes(limit_bytes);
    auto id = store_.InsertQuota(ns, limit_bytes, now,
                                 Audit(ns, actor, "org_create_quota",
                                       AuditMetadata({{"namespace", ns},
                                                      {"limit_bytes", std::to_string(limit_bytes)},
                                                      {"limit", human}}),
                                       now));
    if (!id.ok()) return id.status();
    NamespaceQuota q;
    q.id = *id;
    q.namespace_name = std::string(ns);
    q.limit_bytes = limit_bytes;
    return q;
  }

  Status Change(std::string_view ns, int64_t quota_id, uint64_t limit_bytes,
                const Actor& actor) override {
    if (Status s = CheckBytes(limit_bytes); !s.ok()) return s;
    const int64_t now = NowMicros(*clock_);
    return store_.UpdateQuota(ns, quota_id, limit_bytes,
                              Audit(ns, actor, "org_change_quota",
                                    AuditMetadata({{"namespace", ns},
                                                   {"limit_bytes", std::to_string(limit_bytes)},
                                                   {"limit", HumanBytes(limit_bytes)}}),
                                    now));
  }

  Status Delete(std::string_view ns, int64_t quota_id, const Actor& actor) override {
    const int64_t now = NowMicros(*clock_);
    return store_.DeleteQuota(
        ns, quota_id,
        Audit(ns, actor, "org_delete_quota", AuditMetadata({{"namespace", ns}}), now));
  }

  Result<QuotaLimit> AddLimit(std::string_view ns, int64_t quota_id, QuotaLimit::Kind kind,
                              int64_t percent, const Actor& actor) override {
    const int64_t now = NowMicros(*clock_);
    const std::string_view kind_name = QuotaLimitKindName(kind);
    auto id =
        store_.InsertLimit(ns, quota_id, kind_name, percent,
                           Audit(ns, actor, "org_create_quota_limit",
                                 AuditMetadata({{"namespace", ns},
                                                {"type", kind_name},
                                                {"threshold_percent", std::to_string(percent)}}),
                                 now));
    if (!id.ok()) return id.status();
    return QuotaLimit{*id, kind, percent};
  }

  Status ChangeLimit(std::string_view ns, int64_t quota_id, int64_t limit_id, QuotaLimit::Kind kind,
                     int64_t percent, const Actor& actor) override {
    const int64_t now = NowMicros(*clock_);
    const std::string_view kind_name = QuotaLimitKindName(kind);
    return store_.UpdateLimit(ns, quota_id, limit_id, kind_name, percent,
                              Audit(ns, actor, "org_change_quota_limit",
                                    AuditMetadata({{"namespace", ns},
                                                   {"type", kind_name},
                                                   {"threshold_percent", std::to_string(percent)}}),
                                    now));
  }

  Status DeleteLimit(std::string_view ns, int64_t quota_id, int64_t limit_id,
                     const Actor& actor) override {
    const int64_t now = NowMicros(*clock_);
    return store_.DeleteLimit(
        ns, quota_id, limit_id,
        Audit(ns, actor, "org_delete_quota_limit",
              AuditMetadata({{"namespace", ns}, {"limit_id", std::to_string(limit_id)}}), now));
  }

  Result<QuotaReport> Report(std::string_view ns) override {
    auto quota = Find(ns);
    if (!quota.ok()) return quota.status();
    auto used = store_.Usage(ns);
    if (!used.ok()) return used.status();
    QuotaReport report;
    report.used_bytes = *used;
    report.quota = std::move(*quota);
    if (report.quota) {
      for (const QuotaLimit& l : report.quota->limits) {
        // The trigger's arithmetic: past limit * percent / 100 is refused.
        const uint64_t threshold =
            report.quota->limit_bytes * static_cast<uint64_t>(l.percent) / 100;
        if (l.kind == QuotaLimit::Kind::kReject && report.used_bytes >= threshold) {
          report.over_reject = true;
        }
        if (l.kind == QuotaLimit::Kind::kWarning && report.used_bytes >= threshold) {
          report.over_warning = true;
        }
      }
    }
    return report;
  }

 private:
  static Status CheckBytes(uint64_t limit_bytes) {
    if (limit_bytes == 0 || limit_bytes > static_cast<uint64_t>(INT64_MAX) / 100) {
      return Status::InvalidArgument(Subject::kNone, "limit_bytes must be a positive number");
    }
    return Status::Ok();
  }

  static db::AuditRow Audit(std::string_view ns, const Actor& actor, std::string kind,
                            std::string metadata, int64_t now) {
    AuditEvent e = AuditEvent::By(actor, std::move(kind), {}, std::move(metadata));
    e.namespace_name = std::string(ns);
    return api::ToAuditRow(std::move(e), now);
  }

  std::shared_ptr<db::Database> db_;
  std::shared_ptr<Clock> clock_;
  db::QuotaStore store_;
};

}  // namespace

namespace registry {

void NoteQuotaRefusal(Context& ctx, std::string_view repository, const Status& s) {
  if (s.code() != Code::kDenied || s.message().find("Quota") == std::string::npos) return;
  const Status queued = db::DeliveryStore(ctx.db->connections())
                            .QueueQuotaRefusal(NamespaceOf(repository), ctx.NowMicros());
  if (!queued.ok()) {
    ctx.logger->Log(LogLevel::kWarn, "registry", "failed to queue quota_error notifications",
                    {{"repository", std::string(repository)}, {"error", queued.ToString()}});
  }
}

}  // namespace registry

std::string_view QuotaLimitKindName(QuotaLimit::Kind kind) {
  return kind == QuotaLimit::Kind::kReject ? "Reject" : "Warning";
}

Result<std::unique_ptr<Quotas>> Quotas::Open(Registry& registry) {
  auto* impl = dynamic_cast<registry::RegistryImpl*>(&registry);
  if (impl == nullptr) {
    return Status::InvalidArgument(Subject::kNone, "the registry was not opened by Registry::Open");
  }
  return std::unique_ptr<Quotas>(std::make_unique<QuotasImpl>(impl->database(), impl->clock()));
}

std::string HumanBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"Byte", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < std::size(kUnits)) {
    value /= 1024.0;
    ++unit;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f %s", value, kUnits[unit]);
  return buf;
}

std::optional<uint64_t> ParseHumanBytes(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && text[i] == ' ') ++i;
  size_t start = i;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  if (i == start) return std::nullopt;
  double number = 0;
  try {
    number = std::stod(std::string(text.substr(start, i - start)));
  } catch (...) {
    return std::nullopt;
  }
  while (i < text.size() && text[i] == ' ') ++i;
  std::string unit(text.substr(i));
  while (!unit.empty() && unit.back() == ' ') unit.pop_back();
  struct U {
    const char* name;
    double factor;
  };
  static constexpr U kUnits[] = {
      {"", 1},
      {"B", 1},
      {"KiB", 1024.0},
      {"MiB", 1048576.0},
      {"GiB", 1073741824.0},
      {"TiB", 1099511627776.0},
      {"PiB", 1125899906842624.0},
      {"kB", 1e3},
      {"KB", 1e3},
      {"MB", 1e6},
      {"GB", 1e9},
      {"TB", 1e12},
      {"PB", 1e15},
  };
  for (const U& u : kUnits) {
    if (unit == u.name) {
      const double bytes = std::floor(number * u.factor);
      if (!(bytes >= 0) || bytes > 9.2e18) return std::nullopt;
      return static_cast<uint64_t>(bytes);
    }
  }
  return std::nullopt;
}

}  // namespace quay
