#include "api/audit_log.h"

#include <rapidjson/document.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

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

// The appender: a bounded queue drained by one thread. The thread writes
// whatever accumulated while its previous batch was being written, so under
// load batches grow (one transaction, one fsync, for many events) and when
// idle an event is written as soon as it arrives. No timer.
// How long the writer waits for a batch to fill once it has rows.
constexpr std::chrono::milliseconds kLinger{20};

class BatchingAppender final : public AuditAppender {
 public:
  BatchingAppender(std::shared_ptr<ServiceState> state, const AuditAppenderOptions& options)
      : state_(std::move(state)),
        capacity_(options.capacity == 0 ? 1 : options.capacity),
        batch_size_(options.batch_size == 0 ? 1 : options.batch_size),
        thread_([this] { Run(); }) {}

  ~BatchingAppender() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();  // Run() drains the queue before it returns
  }

  bool Append(AuditEvent event) override {
    if (event.time == Clock::TimePoint{}) event.time = state_->clock->Now();
    // Metadata must be a JSON object (queries parse it back; the table does
    // not check since schema v5): refuse a bad event here, counted as failed.
    const bool valid = !event.kind.empty() && ValidateMetadata(event.metadata).ok();
    {
      std::lock_guard lock(mu_);
      if (!valid) {
        ++failed_;
        return false;
      }
      if (queue_.size() >= capacity_) {
        ++dropped_;
        return false;
      }
      queue_.push_back(std::move(event));
      ++appended_;
      // The writer sleeps on an empty queue or lingers for a fuller batch
      // (see Run): wake it for the first event and when the batch is full
      // enough, not for every event (a futex call per pull).
      if (queue_.size() > 1 && queue_.size() != LingerBelow()) return true;
    }
    wake_.notify_one();
    return true;
  }

  Status Flush() override {
    std::unique_lock lock(mu_);
    const uint64_t target = appended_;
    ++flushing_;
    wake_.notify_one();  // no lingering while someone waits
    done_cv_.wait(lock, [&] { return processed_ >= target; });
    --flushing_;
    Status s = std::move(first_error_);
    first_error_ = Status::Ok();
    return s;
  }

  uint64_t dropped() const override {
    std::lock_guard lock(mu_);
    return dropped_;
  }
  uint64_t failed() const override {
    std::lock_guard lock(mu_);
    return failed_;
  }

 private:
  void Run() {
    std::unique_lock lock(mu_);
    bool drained = true;  // the last batch emptied the queue
    for (;;) {
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything is written
      // Under load, linger a moment so that a batch gathers more than a few
      // rows: each transaction costs about as much as dozens of rows. Only
      // after the queue was drained: rows left over from a full batch go
      // out at once.
      if (drained && !stopping_ && queue_.size() < LingerBelow()) {
        wake_.wait_for(lock, kLinger, [&] {
          return stopping_ || flushing_ > 0 || queue_.size() >= LingerBelow();
        });
      }
      // Only moves under the lock: pulls append to this queue, and must
      // not wait while a batch is converted into rows.
      std::vector<AuditEvent> events;
      // Behind (a backlog of several batches): bigger transactions, which
      // rewrite each index's last page once per many rows instead of once
      // per batch. Keeping up, short ones keep the bursts short.
      const size_t limit = queue_.size() > 4 * batch_size_ ? 8 * batch_size_ : batch_size_;
      const size_t n = std::min(limit, queue_.size());
      events.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        events.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      drained = queue_.empty();
      lock.unlock();
      std::vector<db::AuditRow> rows;
      rows.reserve(n);
      const int64_t now = state_->NowMicros();
      for (AuditEvent& e : events) rows.push_back(ToAuditRow(std::move(e), now));
      // Relaxed: rows still queued are lost in a crash anyway; a batch
      // need not cost the writer an fsync.
      Status s = state_->audit.Append(rows, db::Connection::Sync::kRelaxed);
      if (!s.ok()) {
        state_->logger->Log(LogLevel::kError, "audit", "failed to write audit batch",
                            {{"rows", std::to_string(rows.size())}, {"error", s.ToString()}});
      }
      // A batch is a burst of CPU; on a busy machine the request threads
      // get the core back between batches instead of after all of them.
      std::this_thread::yield();
      lock.lock();
      processed_ += rows.size();
      if (!s.ok()) {
        failed_ += rows.size();
        if (first_error_.ok()) first_error_ = s;
      }
      done_cv_.notify_all();
    }
  }

  // Fewer queued rows than this (a full batch) and the writer lingers; never
  // more than a quarter of the queue's capacity, so lingering cannot make it
  // overflow.
  size_t LingerBelow() const { return std::max<size_t>(1, std::min(batch_size_, capacity_ / 4)); }

  std::shared_ptr<ServiceState> state_;
  const size_t capacity_;
  const size_t batch_size_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable done_cv_;
  std::deque<AuditEvent> queue_;
  bool stopping_ = false;
  int flushing_ = 0;  // Flush() calls waiting
  uint64_t appended_ = 0;
  uint64_t processed_ = 0;
  uint64_t dropped_ = 0;
  uint64_t failed_ = 0;
  Status first_error_;
  std::thread thread_;  // last: starts after every other member exists
};

}  // namespace

int64_t ServiceState::NowMicros() const { return ToMicros(clock->Now()); }

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

AuditEvent FromAuditRow(const db::AuditRow& row) {
  AuditEvent e;
  e.id = row.id;
  e.kind = row.kind;
  e.time = FromMicros(row.at);
  e.namespace_name = row.namespace_name;
  e.repository = row.repository;
  e.performer_kind = PerformerKindFrom(row.performer_kind);
  e.performer = row.performer;
  e.token_kind = TokenKindFrom(row.token_kind);
  e.token_id = row.token_id;
  e.ip = row.ip;
  e.request_id = row.request_id;
  e.metadata = row.metadata;
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

Result<AuditPage> AuditLogImpl::Query(const AuditQuery& query) {
  auto cursor = DecodeCursor(query.page);
  if (!cursor.ok()) return cursor.status();
  const size_t limit = query.limit == 0 ? 20 : query.limit;
  // One more than asked tells whether an older page exists.
  auto rows = state_->audit.Query(FilterOf(query), *cursor, limit + 1);
  if (!rows.ok()) return rows.status();
  AuditPage page;
  const bool more = rows->size() > limit;
  if (more) rows->resize(limit);
  for (const auto& row : *rows) page.events.push_back(FromAuditRow(row));
  if (more) page.next_page = EncodeCursor(rows->back());
  return page;
}

Result<std::vector<AuditCount>> AuditLogImpl::Aggregate(const AuditQuery& query) {
  auto rows = state_->audit.Aggregate(FilterOf(query));
  if (!rows.ok()) return rows.status();
  std::vector<AuditCount> out;
  out.reserve(rows->size());
  for (const auto& row : *rows) {
    out.push_back({row.kind, FromMicros(row.day * kMicrosPerDay), row.count});
  }
  return out;
}

std::unique_ptr<AuditAppender> AuditLogImpl::NewAppender(const AuditAppenderOptions& options) {
  return std::make_unique<BatchingAppender>(state_, options);
}

}  // namespace quay::api
