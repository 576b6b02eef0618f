// The audit log over /api/v1: repository, user, organization and
// registry-wide views, lists (20 rows a page, sealed next_page cursors
// bound to the caller and the view) and per-day aggregates. Both audit
// databases (quay.db and quay-audit.db) are read by AuditLog itself.
#include <httplib.h>

#include <ctime>
#include <map>

#include "host/api/handlers.h"
#include "host/api/json.h"
#include "host/api/views.h"

namespace quayd {
namespace {

using quay::Status;
using TimePoint = quay::Clock::TimePoint;

// "%m/%d/%Y" in UTC, as Quay reads starttime and endtime.
std::optional<TimePoint> ParseDay(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%m/%d/%Y", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

TimePoint Midnight(TimePoint t) {
  const auto days = std::chrono::floor<std::chrono::days>(t);
  return TimePoint(days);
}

// Quay's window: yesterday to today by default, the end day inclusive, at
// most 31 days.
quay::Result<std::pair<TimePoint, TimePoint>> Window(const ApiExchange& ex) {
  const TimePoint now = ex.svc.clock->Now();
  std::optional<TimePoint> start, end;
  if (std::string s = ex.Query("starttime"); !s.empty()) {
    start = ParseDay(s);
    if (!start) return Status::InvalidArgument(quay::Subject::kNone, "Invalid starttime");
  }
  if (std::string e = ex.Query("endtime"); !e.empty()) {
    end = ParseDay(e);
    if (!end) return Status::InvalidArgument(quay::Subject::kNone, "Invalid endtime");
  }
  TimePoint until = (end ? *end : Midnight(now)) + std::chrono::days(1);
  TimePoint since = start ? *start : until - std::chrono::days(2);
  if (since > until) std::swap(since, until);
  if (until - since > std::chrono::days(32)) {
    return Status::InvalidArgument(quay::Subject::kNone,
                                   "Cannot lookup more than 31 days of logs at once");
  }
  return std::make_pair(since, until);
}

std::string_view PerformerKind(quay::Principal::Kind kind) {
  switch (kind) {
    case quay::Principal::Kind::kRobot:
      return "robot";
    case quay::Principal::Kind::kAnonymous:
      return "anonymous";
    default:
      return "user";
  }
}

// The "logs" array of a page.
std::string RenderLogs(const ApiExchange& ex, const quay::AuditPage& page) {
  // Quay's namespace block says "org" for organizations.
  std::map<std::string, bool, std::less<>> is_org;
  auto namespace_kind = [&](const std::string& ns) -> std::string_view {
    auto it = is_org.find(ns);
    if (it == is_org.end()) it = is_org.emplace(ns, ex.svc.identity.GetOrganization(ns).ok()).first;
    return it->second ? "org" : "user";
  };
  Json j;
  j.Array();
  for (const quay::AuditEvent& e : page.events) {
    j.Object().Field("kind", e.kind).Key("metadata").Raw(e.metadata);
    j.Field("ip", e.ip).Field("datetime", Rfc2822(e.time));
    if (!e.performer.empty()) {
      j.Key("performer").Object();
      WriteEntity(j, e.performer, PerformerKind(e.performer_kind));
      j.End();
    }
    if (!e.namespace_name.empty()) {
      j.Key("namespace").Object();
      WriteEntity(j, e.namespace_name, namespace_kind(e.namespace_name));
      j.End();
    }
    j.End();
  }
  j.EndArray();
  return j.str();
}

// `view` names the listing ("repo:ns/app", "user:alice", ...) so a cursor
// of one listing or caller cannot page through another.
Status ListLogs(ApiExchange& ex, quay::AuditQuery query, const std::string& view) {
  auto window = Window(ex);
  if (!window.ok()) return window.status();
  query.since = window->first;
  query.until = window->second;
  query.limit = 20;
  if (std::string performer = ex.Query("performer"); !performer.empty()) {
    query.performer = performer;
  }
  const std::string binding = view + "\n" + ex.principal.name + "\n" + query.performer + "\n" +
                              std::to_string(Seconds(window->first)) + "\n";
  auto cursor = PageCursor(ex, binding);
  if (!cursor.ok()) return cursor.status();
  query.page = *cursor;
  auto page = ex.svc.identity.audit().SharedQuery(query);
  if (!page.ok()) return page.status();
  // The page object changes with any change to the main database (the
  // "org" or "user" of a namespace below included).
  auto logs =
      ex.svc.rendered->Render(*page, RenderMemo::View::kAuditLogs,
                              [&ex](const quay::AuditPage& p) { return RenderLogs(ex, p); });
  Json j;
  j.Object().Field("start_time", Rfc2822(window->first));
  j.Field("end_time", Rfc2822(window->second)).Key("logs").Raw(*logs);
  if (!(*page)->next_page.empty()) {
    j.Field("next_page", NextPage(ex, binding, (*page)->next_page));
  }
  j.End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status Aggregate(ApiExchange& ex, quay::AuditQuery query) {
  auto window = Window(ex);
  if (!window.ok()) return window.status();
  query.since = window->first;
  query.until = window->second;
  if (std::string performer = ex.Query("performer"); !performer.empty()) {
    query.performer = performer;
  }
  auto counts = ex.svc.identity.audit().Aggregate(query);
  if (!counts.ok()) return counts.status();
  Json j;
  j.Object().Key("aggregated").Array();
  for (const quay::AuditCount& c : *counts) {
    j.Object().Field("kind", c.kind).Field("count", static_cast<int64_t>(c.count));
    j.Field("datetime", Rfc2822(c.day)).End();
  }
  j.EndArray().End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

quay::AuditQuery RepoQuery(const ApiExchange& ex) {
  quay::AuditQuery q;
  q.repository = std::string(ex.Param("repository"));
  return q;
}
quay::AuditQuery NamespaceQuery(std::string_view ns) {
  quay::AuditQuery q;
  q.namespace_name = std::string(ns);
  return q;
}

}  // namespace

Status HandleRepoLogs(ApiExchange& ex) {
  return ListLogs(ex, RepoQuery(ex), std::string("repo:").append(ex.Param("repository")));
}
Status HandleUserLogs(ApiExchange& ex) {
  return ListLogs(ex, NamespaceQuery(ex.UserName()), std::string("user:").append(ex.UserName()));
}
Status HandleOrgLogs(ApiExchange& ex) {
  return ListLogs(ex, NamespaceQuery(ex.Param("orgname")),
                  std::string("org:").append(ex.Param("orgname")));
}
Status HandleAllLogs(ApiExchange& ex) { return ListLogs(ex, {}, "all"); }
Status HandleRepoAggregateLogs(ApiExchange& ex) { return Aggregate(ex, RepoQuery(ex)); }
Status HandleUserAggregateLogs(ApiExchange& ex) {
  return Aggregate(ex, NamespaceQuery(ex.UserName()));
}
Status HandleOrgAggregateLogs(ApiExchange& ex) {
  return Aggregate(ex, NamespaceQuery(ex.Param("orgname")));
}
Status HandleAllAggregateLogs(ApiExchange& ex) { return Aggregate(ex, {}); }

}  // namespace quayd
