#include "api/audit_log.h"

#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <mutex>
#include <tuple>

namespace quay::api {
namespace {

Principal::Kind PerformerKindFrom(const std::string& s) {
  if (s == "user") return Principal::Kind::kUser;
  if (s == "robot") return Principal::Kind::kRobot;
  if (s == "token") return Principal::Kind::kToken;
  return Principal::Kind::kAnonymous;
}

std::string_view TokenKindText(Principal::TokenKind k) {
  switch (k) {
    case Principal::TokenKind::kNone:
      return "";
    case Principal::TokenKind::kAppSpecific:
      return "app";
    case Principal::TokenKind::kOAuth:
      return "oauth";
  }
  return "";
}

Principal::TokenKind TokenKindFrom(const std::string& s) {
  if (s == "app") return Principal::TokenKind::kAppSpecific;
  if (s == "oauth") return Principal::TokenKind::kOAuth;
  return Principal::TokenKind::kNone;
}

constexpr int64_t kMicrosPerDay = 86'400'000'000;

db::AuditFilter FilterOf(const AuditQuery& q) {
  db::AuditFilter f;
  f.repository = q.repository;
  f.namespace_name = q.namespace_name;
  f.performer = q.performer;
  if (q.since) f.since = ToMicros(*q.since);
  if (q.until) f.until = ToMicros(*q.until);
  f.kinds = q.kinds;
  return f;
}

// Cursor text "<micros>.<id>": the last row of the previous page.
std::string EncodeCursor(const db::AuditRow& last) {
  return std::to_string(last.at) + "." + std::to_string(last.id);
}

Result<db::AuditCursor> DecodeCursor(std::string_view text) {
  db::AuditCursor c;
  if (text.empty()) return c;
  const auto dot = text.find('.');
  const auto bad = Status::InvalidArgument(Subject::kNone, "malformed audit page cursor");
  if (dot == std::string_view::npos) return bad;
  const char* end = text.data() + dot;
  auto r1 = std::from_chars(text.data(), end, c.at);
  if (r1.ec != std::errc() || r1.ptr != end) return bad;
  end = text.data() + text.size();
  auto r2 = std::from_chars(text.data() + dot + 1, end, c.id);
  if (r2.ec != std::errc() || r2.ptr != end) return bad;
  return c;
}

}  // namespace

int64_t ServiceState::NowMicros() const { return ToMicros(clock->Now()); }

Result<db::AuditStore*> ServiceState::Events() {
  std::lock_guard lock(events_mu_);
  if (events_ == nullptr) {
    auto pool = db::OpenAuditEventsDatabase(db::AuditEventsDatabasePath(db->connections().path()),
                                            options.durable);
    if (!pool.ok()) return pool.status();
    events_pool_ = std::move(*pool);
    events_ = std::make_unique<db::AuditStore>(*events_pool_);
  }
  return events_.get();
}

Result<std::filesystem::path> ServiceState::JournalRoot() {
  const std::string& path = db->connections().path();
  // PostgreSQL: the journal is this instance's own, in its data folder (the
  // database is shared; each instance journals what it accepted).
  if (db->connections().dialect() == db::Dialect::kPostgres) {
    if (!options.data_dir.empty()) {
      return db::AuditJournalRoot((std::filesystem::path(options.data_dir) / "quay.db").string());
    }
  } else if (!db->connections().in_memory()) {
    return db::AuditJournalRoot(path);
  }
  std::lock_guard lock(events_mu_);
  if (temp_journal_root_.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "quay-audit-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      return Status::Unavailable("cannot create a folder for the audit journal");
    }
    temp_journal_root_ = pattern;
  }
  return temp_journal_root_;
}

ServiceState::~ServiceState() {
  if (!temp_journal_root_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(temp_journal_root_, ec);
  }
}

int64_t ToMicros(Clock::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

Clock::TimePoint FromMicros(int64_t micros) {
  return Clock::TimePoint(
      std::chrono::duration_cast<Clock::TimePoint::duration>(std::chrono::microseconds(micros)));
}

db::AuditRow ToAuditRow(AuditEvent&& e, int64_t now) {
  db::AuditRow row;
  row.namespace_name = e.namespace_name.empty() ? std::string(NamespaceOf(e.repository))
                                                : std::move(e.namespace_name);
  row.kind = std::move(e.kind);
  row.repository = std::move(e.repository);
  row.performer_kind = std::string(ToString(e.performer_kind));
  row.performer = std::move(e.performer);
  row.token_kind = std::string(TokenKindText(e.token_kind));
  row.token_id = std::move(e.token_id);
  row.ip = std::move(e.ip);
  row.request_id = std::move(e.request_id);
  row.metadata = e.metadata.empty() ? std::string("{}") : std::move(e.metadata);
  row.at = e.time == Clock::TimePoint{} ? now : ToMicros(e.time);
  return row;
}

db::AuditRow ToAuditRow(const AuditEvent& e, int64_t now) { return ToAuditRow(AuditEvent(e), now); }

AuditEvent FromAuditRow(db::AuditRow&& row) {
  AuditEvent e;
  e.id = row.id;
  e.kind = std::move(row.kind);
  e.time = FromMicros(row.at);
  e.namespace_name = std::move(row.namespace_name);
  e.repository = std::move(row.repository);
  e.performer_kind = PerformerKindFrom(row.performer_kind);
  e.performer = std::move(row.performer);
  e.token_kind = TokenKindFrom(row.token_kind);
  e.token_id = std::move(row.token_id);
  e.ip = std::move(row.ip);
  e.request_id = std::move(row.request_id);
  e.metadata = std::move(row.metadata);
  return e;
}

db::AuditRow AuditRowFor(const ServiceState& state, const Actor& actor, std::string kind,
                         std::string namespace_name, std::string repository, std::string metadata) {
  AuditEvent e = AuditEvent::By(actor, std::move(kind), std::move(repository), std::move(metadata));
  if (!namespace_name.empty()) e.namespace_name = std::move(namespace_name);
  return ToAuditRow(std::move(e), state.NowMicros());
}

namespace {

// Accepts any well-formed JSON, noting whether the top-level value is an
// object. SAX: validating a pull's metadata must not build (and free) a DOM
// on the request thread.
struct TopLevelObject : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, TopLevelObject> {
  int depth = 0;
  bool object = false;
  bool StartObject() {
    if (depth++ == 0) object = true;
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    --depth;
    return true;
  }
  bool StartArray() {
    ++depth;
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    --depth;
    return true;
  }
};

}  // namespace

Status ValidateMetadata(std::string_view metadata) {
  if (metadata.empty()) return Status::Ok();
  TopLevelObject handler;
  rapidjson::Reader reader;
  rapidjson::MemoryStream stream(metadata.data(), metadata.size());
  if (!reader.Parse(stream, handler) || !handler.object) {
    return Status::InvalidArgument(Subject::kNone, "audit metadata must be a JSON object");
  }
  return Status::Ok();
}

Status AuditLogImpl::Record(const AuditEvent& event) {
  if (event.kind.empty()) return Status::InvalidArgument(Subject::kNone, "audit kind is empty");
  if (auto s = ValidateMetadata(event.metadata); !s.ok()) return s;
  return state_->audit.Append({ToAuditRow(event, state_->NowMicros())});
}

uint64_t AuditLogImpl::PageGeneration(const db::AuditStore& events) const {
  // Rows written in a mutation's own transaction advance the main cache
  // generation, rows of Record() and of the appender's indexer the stores'
  // append counts; the sum changes whenever any of them does. Rows another
  // process appends without changing anything else (none does today) are
  // seen within a second: the clock's second is part of the generation (a
  // clock set back only makes pages miss until it catches up).
  const uint64_t sum =
      state_->db->connections().CacheGeneration() + state_->audit.appends() + events.appends();
  const auto second =
      std::chrono::duration_cast<std::chrono::seconds>(state_->clock->Now().time_since_epoch())
          .count();
  constexpr uint64_t kSumBits = 40;
  return (static_cast<uint64_t>(second) << kSumBits) | (sum & ((uint64_t{1} << kSumBits) - 1));
}

Result<std::shared_ptr<const AuditPage>> AuditLogImpl::SharedQuery(const AuditQuery& query) {
  auto cursor = DecodeCursor(query.page);
  if (!cursor.ok()) return cursor.status();
  const size_t limit = query.limit == 0 ? 20 : query.limit;
  auto events = state_->Events();
  if (!events.ok()) return events.status();

  std::string key;
  for (const std::string* part :
       {&query.repository, &query.namespace_name, &query.performer, &query.page}) {
    key += std::to_string(part->size()) + ':' + *part;
  }
  for (const std::string& kind : query.kinds) key += std::to_string(kind.size()) + 'k' + kind;
  key += std::to_string(query.since ? ToMicros(*query.since) : INT64_MIN) + '/';
  key += std::to_string(query.until ? ToMicros(*query.until) : INT64_MAX) + '/';
  key += std::to_string(limit);
  const uint64_t generation = PageGeneration(**events);  // before reading the rows
  if (auto hit = pages_.Get(key, generation)) return std::move(*hit);

  // One more than asked tells whether an older page exists. The page is the
  // newest of both databases' pages: their ids never collide, so (time, id)
  // orders them as one log.
  const db::AuditFilter filter = FilterOf(query);
  auto rows = state_->audit.Query(filter, *cursor, limit + 1);
  if (!rows.ok()) return rows.status();
  auto appended = (*events)->Query(filter, *cursor, limit + 1);
  if (!appended.ok()) return appended.status();
  if (!appended->empty()) {
    std::vector<db::AuditRow> merged;
    merged.reserve(rows->size() + appended->size());
    std::merge(std::make_move_iterator(rows->begin()), std::make_move_iterator(rows->end()),
               std::make_move_iterator(appended->begin()), std::make_move_iterator(appended->end()),
               std::back_inserter(merged), [](const db::AuditRow& a, const db::AuditRow& b) {
                 return std::tie(a.at, a.id) > std::tie(b.at, b.id);
               });
    *rows = std::move(merged);
  }
  AuditPage page;
  const bool more = rows->size() > limit;
  if (more) rows->resize(limit);
  if (more) page.next_page = EncodeCursor(rows->back());
  page.events.reserve(rows->size());
  size_t cost = sizeof(AuditPage) + page.next_page.size();
  for (auto& row : *rows) {
    page.events.push_back(FromAuditRow(std::move(row)));
    const AuditEvent& e = page.events.back();
    cost += sizeof(AuditEvent) + e.kind.size() + e.namespace_name.size() + e.repository.size() +
            e.performer.size() + e.token_id.size() + e.ip.size() + e.request_id.size() +
            e.metadata.size();
  }
  auto shared = std::make_shared<const AuditPage>(std::move(page));
  pages_.Put(key, generation, shared, cost);
  return shared;
}

Result<std::vector<AuditCount>> AuditLogImpl::Aggregate(const AuditQuery& query) {
  const db::AuditFilter filter = FilterOf(query);
  auto rows = state_->audit.Aggregate(filter);
  if (!rows.ok()) return rows.status();
  auto events = state_->Events();
  if (!events.ok()) return events.status();
  auto appended = (*events)->Aggregate(filter);
  if (!appended.ok()) return appended.status();
  if (!appended->empty()) {
    // Both are ordered by (day, kind): merge, summing the counts of a pair
    // present in both.
    std::vector<db::AuditDayCount> merged;
    auto order = [](const db::AuditDayCount& a, const db::AuditDayCount& b) {
      return std::tie(a.day, a.kind) < std::tie(b.day, b.kind);
    };
    std::merge(rows->begin(), rows->end(), appended->begin(), appended->end(),
               std::back_inserter(merged), order);
    rows->clear();
    for (auto& r : merged) {
      if (!rows->empty() && rows->back().day == r.day && rows->back().kind == r.kind) {
        rows->back().count += r.count;
      } else {
        rows->push_back(std::move(r));
      }
    }
  }
  std::vector<AuditCount> out;
  out.reserve(rows->size());
  for (const auto& row : *rows) {
    out.push_back({row.kind, FromMicros(row.day * kMicrosPerDay), row.count});
  }
  return out;
}

std::unique_ptr<AuditAppender> AuditLogImpl::NewAppender(const AuditAppenderOptions& options) {
  return NewJournalingAppender(state_, options);
}

}  // namespace quay::api
