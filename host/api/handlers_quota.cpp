// Namespace quotas (Quay's namespacequota.py and the superuser quota
// routes): one quota per organization or user with Warning/Reject limits.
// The namespace comes from {orgname}, {namespace}/{username} (superuser
// routes) or the signed-in user; the rules and audit rows are the library's
// (quay/quotas.h).
#include <httplib.h>

#include <string>

#include "host/api/handlers.h"
#include "host/api/json.h"
#include "quay/quotas.h"

namespace quayd {
namespace {

using quay::Status;

std::string Namespace(const ApiExchange& ex) {
  for (const char* name : {"orgname", "namespace", "username"}) {
    if (std::string_view v = ex.Param(name); !v.empty()) return std::string(v);
  }
  return std::string(ex.UserName());
}

quay::Result<std::unique_ptr<quay::Quotas>> OpenQuotas(ApiExchange& ex) {
  return quay::Quotas::Open(ex.svc.registry);
}

Status NotFound() { return Status::NotFound(quay::Subject::kNone, "Not Found"); }

Status Mapped(const Status& s) { return s.IsNotFound() ? NotFound() : s; }

quay::Result<int64_t> IdParam(const ApiExchange& ex, std::string_view name) {
  const std::string text(ex.Param(name));
  if (text.empty() || text.size() > 18 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return NotFound();
  }
  return std::stoll(text);
}

void WriteLimit(Json& j, const quay::QuotaLimit& l) {
  j.Object().Field("id", l.id).Field("type", quay::QuotaLimitKindName(l.kind));
  j.Field("limit_percent", l.percent).End();
}

void WriteQuota(Json& j, const quay::NamespaceQuota& q) {
  j.Object().Field("id", q.id).Field("limit_bytes", static_cast<int64_t>(q.limit_bytes));
  j.Field("limit", quay::HumanBytes(q.limit_bytes)).Field("default_config", false);
  j.Key("limits").Array();
  for (const quay::QuotaLimit& l : q.limits) WriteLimit(j, l);
  j.EndArray().Field("default_config_exists", false).End();
}

// The namespace's quota when it is {quota_id}.
quay::Result<quay::NamespaceQuota> QuotaOf(ApiExchange& ex, quay::Quotas& quotas) {
  auto id = IdParam(ex, "quota_id");
  if (!id.ok()) return id.status();
  auto quota = quotas.Find(Namespace(ex));
  if (!quota.ok()) return Mapped(quota.status());
  if (!*quota || (*quota)->id != *id) return NotFound();
  return std::move(**quota);
}

// 200 with the quota {quota_id} as it is now (read, or read back after a change).
Status ReplyQuota(ApiExchange& ex, quay::Quotas& quotas) {
  auto quota = QuotaOf(ex, quotas);
  if (!quota.ok()) return quota.status();
  Json j;
  WriteQuota(j, *quota);
  Reply(ex.res, 200, j);
  return Status::Ok();
}

// {"limit_bytes": n} or {"limit": "10 GiB"}.
quay::Result<uint64_t> LimitBytes(const ApiExchange& ex) {
  const rapidjson::Value& b = ex.body;
  if (b.IsObject() && b.HasMember("limit")) {
    auto text = OptString(b, "limit");
    auto bytes = text ? quay::ParseHumanBytes(*text) : std::nullopt;
    if (!bytes) {
      return Status::InvalidArgument(
          quay::Subject::kNone,
          "Invalid limit format, use a number followed by a unit (e.g. 1GiB)");
    }
    return *bytes;
  }
  if (b.IsObject() && b.HasMember("limit_bytes") && b["limit_bytes"].IsUint64()) {
    return b["limit_bytes"].GetUint64();
  }
  return Status::InvalidArgument(quay::Subject::kNone, "'limit_bytes' is required");
}

quay::Result<quay::QuotaLimit::Kind> KindOf(std::string_view text) {
  if (text == "Warning" || text == "warning") return quay::QuotaLimit::Kind::kWarning;
  if (text == "Reject" || text == "reject") return quay::QuotaLimit::Kind::kReject;
  return Status::InvalidArgument(quay::Subject::kNone, "type must be Warning or Reject");
}

}  // namespace

Status HandleListQuotas(ApiExchange& ex) {
  auto quotas = OpenQuotas(ex);
  if (!quotas.ok()) return quotas.status();
  auto quota = (*quotas)->Find(Namespace(ex));
  if (!quota.ok()) return Mapped(quota.status());
  Json j;
  j.Array();
  if (*quota) WriteQuota(j, **quota);
  j.EndArray();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleCreateQuota(ApiExchange& ex) {
  auto bytes = LimitBytes(ex);
  if (!bytes.ok()) return bytes.status();
  auto quotas = OpenQuotas(ex);
  if (!quotas.ok()) return quotas.status();
  auto created = (*quotas)->Create(Namespace(ex), *bytes, ex.actor());
  if (!created.ok()) return Mapped(created.status());
  ex.res.status = 201;
  ex.res.set_content("\"Created\"", "application/json");
  return Status::Ok();
}

Status HandleGetQuota(ApiExchange& ex) {
  auto quotas = OpenQuotas(ex);
  if (!quotas.ok()) return quotas.status();
  return ReplyQuota(ex, **quotas);
}

Status HandleChangeQuota(ApiExchange& ex) {
  auto quotas = OpenQuotas(ex);
  if (!quotas.ok()) return quotas.status();
  auto quota = QuotaOf(ex, **quotas);
  if (!quota.ok()) return quota.status();
  auto bytes = LimitBytes(ex);
  if (!bytes.ok()) return bytes.status();
  if (Status s = (*quotas)->Change(Namespace(ex), quota->id, *bytes, ex.actor()); !s.ok())
    return Mapped(s);
  return ReplyQuota(ex, **quotas);
}

Status HandleDeleteQuota(ApiExchange& ex) {
  auto quotas = OpenQuotas(ex);
  if (!quotas.ok()) return quotas.status();
  auto quota = QuotaOf(ex, **quotas);
  if (!quota.ok()) return quota.status();
  if (Status s = (*quotas)->Delete(Namespace(ex), quota->id, ex.actor()); !s.ok()) return Mapped(s);
  ReplyEmpty(ex.res, 204);
  return Status::Ok();
}

Status HandleListQuotaLimits(ApiExchange& ex) {
  auto quotas = OpenQuotas(ex);
  if (!quotas.ok()) return quotas.status();
  auto quota = QuotaOf(ex, **quotas);
  if (!quota.ok()) return quota.status();
  Json j;
  j.Array();
  for (const quay::QuotaLimit& l : quota->limits) WriteLimit(j, l);
  j.EndArray();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleCreateQuotaLimit(ApiExchange& ex) {
  auto type = RequireString(ex.body, "type");
  if (!type.ok()) return type.status();
  auto kind = KindOf(*type);
  if (!kind.ok()) return kind.status();
  auto percent = OptInt(ex.body, "threshold_percent");
  if (!percent) {
    return Status::InvalidArgument(quay::Subject::kNone, "'threshold_percent' is required");
  }
  auto quotas = OpenQuotas(ex);
  if (!quotas.ok()) return quotas.status();
  auto quota = QuotaOf(ex, **quotas);
  if (!quota.ok()) return quota.status();
  auto added = (*quotas)->AddLimit(Namespace(ex), quota->id, *kind, *percent, ex.actor());
  if (!added.ok()) return Mapped(added.status());
  ex.res.status = 201;
  ex.res.set_content("\"Created\"", "application/json");
  return Status::Ok();
}

namespace {

quay::Result<quay::QuotaLimit> LimitOf(ApiExchange& ex, const quay::NamespaceQuota& quota) {
  auto id = IdParam(ex, "limit_id");
  if (!id.ok()) return id.status();
  for (const quay::QuotaLimit& l : quota.limits) {
    if (l.id == *id) return l;
  }
  return NotFound();
}

}  // namespace

Status HandleGetQuotaLimit(ApiExchange& ex) {
  auto quotas = OpenQuotas(ex);
  if (!quotas.ok()) return quotas.status();
  auto quota = QuotaOf(ex, **quotas);
  if (!quota.ok()) return quota.status();
  auto limit = LimitOf(ex, *quota);
  if (!limit.ok()) return limit.status();
  Json j;
  // Quay's user route answers the quota view; the organization route the
  // limit view.
  if (ex.Param("orgname").empty()) {
    WriteQuota(j, *quota);
  } else {
    WriteLimit(j, *limit);
  }
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleChangeQuotaLimit(ApiExchange& ex) {
  auto quotas = OpenQuotas(ex);
  if (!quotas.ok()) return quotas.status();
  auto quota = QuotaOf(ex, **quotas);
  if (!quota.ok()) return quota.status();
  auto limit = LimitOf(ex, *quota);
  if (!limit.ok()) return limit.status();
  quay::QuotaLimit::Kind kind = limit->kind;
  if (auto type = OptString(ex.body, "type")) {
    auto parsed = KindOf(*type);
    if (!parsed.ok()) return parsed.status();
    kind = *parsed;
  }
  const int64_t percent = OptInt(ex.body, "threshold_percent").value_or(limit->percent);
  if (Status s =
          (*quotas)->ChangeLimit(Namespace(ex), quota->id, limit->id, kind, percent, ex.actor());
      !s.ok()) {
    return Mapped(s);
  }
  return ReplyQuota(ex, **quotas);
}

Status HandleDeleteQuotaLimit(ApiExchange& ex) {
  auto quotas = OpenQuotas(ex);
  if (!quotas.ok()) return quotas.status();
  auto quota = QuotaOf(ex, **quotas);
  if (!quota.ok()) return quota.status();
  auto limit = LimitOf(ex, *quota);
  if (!limit.ok()) return limit.status();
  if (Status s = (*quotas)->DeleteLimit(Namespace(ex), quota->id, limit->id, ex.actor()); !s.ok())
    return Mapped(s);
  ReplyEmpty(ex.res, 204);
  return Status::Ok();
}

}  // namespace quayd
