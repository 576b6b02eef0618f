// The asynchronous AuditAppender (quay/audit.h): pulls, pushes and logins
// recorded without the request paying for a database write.
//
// Three stages, so that a pull costs its request thread only a copy into a
// buffer:
//   1. Append() (request threads) encodes the event into `pending_`.
//   2. The writer thread appends `pending_` to this appender's journal
//      (db/event_journal.h) every few milliseconds: one write() for hundreds
//      of events, durable against a crash of the process from then on.
//   3. The indexer thread inserts journaled events into the events database
//      (db::OpenAuditEventsDatabase), where queries find them. It runs at the
//      kernel's idle priority (SCHED_IDLE): request threads always come
//      first, and indexing uses the CPU time they leave. A transaction also
//      records how far the journal was indexed, so nothing is indexed twice.
// Under sustained saturation the journal grows instead of pulls slowing;
// past `backlog_bytes` the writer thread (normal priority) indexes too, so
// the backlog stays bounded. Flush() and destruction index everything on the
// calling thread. A journal left by a process that died (its flock released)
// is adopted and indexed by the next appender on the same database.
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <mutex>
#include <random>
#include <span>
#include <thread>
#include <vector>

#include "api/audit_log.h"
#include "core/json_text.h"
#include "db/event_journal.h"

namespace quay::api {
namespace {

// ---- the journal record of one event ----
// [u8 version 1][i64 time micros][u8 performer kind][u8 token kind]
// [u8 metadata form] then kind, namespace, repository, performer, token id,
// ip and request id, each [u32 length][bytes], then the metadata: form 0 one
// JSON object text, form 1 [u32 count] and that many key and value texts (a
// view's fields, rendered as JSON when indexed). Little endian.
constexpr unsigned char kRecordVersion = 1;
enum MetadataForm : unsigned char { kJsonText = 0, kFields = 1 };
using Field = std::pair<std::string_view, std::string_view>;

void PutInt(std::string& out, uint64_t v, int bytes) {
  char b[8];
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(b, &v, 8);
  } else {
    for (int i = 0; i < bytes; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  }
  out.append(b, static_cast<size_t>(bytes));
}

void PutText(std::string& out, std::string_view s) {
  PutInt(out, s.size(), 4);
  out.append(s.data(), s.size());
}

struct RecordHead {
  int64_t micros = 0;
  Principal::Kind performer_kind = Principal::Kind::kAnonymous;
  Principal::TokenKind token_kind = Principal::TokenKind::kNone;
  // kind, namespace, repository, performer, token id, ip, request id
  std::array<std::string_view, 7> texts;
};

// Appends the framed record to `out`: metadata as JSON text, or as fields.
void EncodeRecord(const RecordHead& head, std::string_view json, std::span<const Field> fields,
                  MetadataForm form, std::string& out) {
  size_t size = 1 + 8 + 1 + 1 + 1;
  for (std::string_view t : head.texts) size += 4 + t.size();
  if (form == kJsonText) {
    size += 4 + json.size();
  } else {
    size += 4;
    for (const auto& [k, v] : fields) size += 8 + k.size() + v.size();
  }
  db::EventJournal::AppendHeader(out, static_cast<uint32_t>(size));
  out += static_cast<char>(kRecordVersion);
  PutInt(out, static_cast<uint64_t>(head.micros), 8);
  out += static_cast<char>(head.performer_kind);
  out += static_cast<char>(head.token_kind);
  out += static_cast<char>(form);
  for (std::string_view t : head.texts) PutText(out, t);
  if (form == kJsonText) {
    PutText(out, json);
  } else {
    PutInt(out, fields.size(), 4);
    for (const auto& [k, v] : fields) {
      PutText(out, k);
      PutText(out, v);
    }
  }
}

class RecordReader {
 public:
  explicit RecordReader(std::string_view data) : data_(data) {}
  bool Int(uint64_t& v, int bytes) {
    if (data_.size() < static_cast<size_t>(bytes)) return false;
    v = 0;
    for (int i = 0; i < bytes; ++i) {
      v |= static_cast<uint64_t>(static_cast<unsigned char>(data_[static_cast<size_t>(i)]))
           << (8 * i);
    }
    data_.remove_prefix(static_cast<size_t>(bytes));
    return true;
  }
  bool Text(std::string_view& s) {
    uint64_t n = 0;
    if (!Int(n, 4) || data_.size() < n) return false;
    s = data_.substr(0, n);
    data_.remove_prefix(n);
    return true;
  }
  bool Text(std::string& s) {
    std::string_view v;
    if (!Text(v)) return false;
    s.assign(v);
    return true;
  }
  bool done() const { return data_.empty(); }

 private:
  std::string_view data_;
};

// The event of a record. Metadata sent as fields becomes JSON text here;
// metadata sent as text must be a JSON object (`invalid` otherwise).
bool DecodeEvent(std::string_view payload, AuditEvent& e, bool& invalid) {
  RecordReader r(payload);
  uint64_t version = 0, micros = 0, performer = 0, token = 0, form = 0;
  if (!r.Int(version, 1) || version != kRecordVersion || !r.Int(micros, 8) ||
      !r.Int(performer, 1) || !r.Int(token, 1) || !r.Int(form, 1) || performer > 3 || token > 2 ||
      form > kFields) {
    return false;
  }
  e.time = FromMicros(static_cast<int64_t>(micros));
  e.performer_kind = static_cast<Principal::Kind>(performer);
  e.token_kind = static_cast<Principal::TokenKind>(token);
  for (std::string* t : {&e.kind, &e.namespace_name, &e.repository, &e.performer, &e.token_id,
                         &e.ip, &e.request_id}) {
    if (!r.Text(*t)) return false;
  }
  if (form == kJsonText) {
    if (!r.Text(e.metadata)) return false;
    invalid = !ValidateMetadata(e.metadata).ok();
  } else {
    uint64_t count = 0;
    if (!r.Int(count, 4)) return false;
    std::vector<Field> fields;
    for (uint64_t i = 0; i < count; ++i) {
      Field f;
      if (!r.Text(f.first) || !r.Text(f.second)) return false;
      fields.push_back(f);
    }
    e.metadata = core::JsonObjectText(fields);
    invalid = false;
  }
  return r.done();
}

// How long the writer lets events gather before a write, and the indexer
// before a transaction of fewer than a batch of rows.
constexpr std::chrono::milliseconds kWriteLinger{2};
constexpr std::chrono::milliseconds kIndexLinger{20};

// How often a durable appender's writer fsyncs the journal.
constexpr std::chrono::seconds kSyncInterval{1};

// The most a destructor indexes before it returns (a few seconds of work).
constexpr uint64_t kIndexAtExitBytes = 64u << 20;

// The indexer's pauses while request threads compete for the CPU.
constexpr double kBusyShare = 0.5;
constexpr std::chrono::milliseconds kMinBackoff{50};
constexpr std::chrono::milliseconds kMaxBackoff{1000};

// The share of wall-clock time this thread spent on a CPU since construction.
class CpuShare {
 public:
  CpuShare() : cpu_(ThreadCpu()), wall_(std::chrono::steady_clock::now()) {}
  double Fraction() const {
    const auto wall = std::chrono::steady_clock::now() - wall_;
    const auto cpu = ThreadCpu() - cpu_;
    if (wall.count() <= 0) return 1.0;
    return std::chrono::duration<double>(cpu).count() / std::chrono::duration<double>(wall).count();
  }

 private:
  static std::chrono::nanoseconds ThreadCpu() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
  }
  std::chrono::nanoseconds cpu_;
  std::chrono::steady_clock::time_point wall_;
};

std::string RandomName() {
  std::random_device rd;
  std::uniform_int_distribution<uint64_t> dist;
  char name[17];
  std::snprintf(name, sizeof name, "%016llx", static_cast<unsigned long long>(dist(rd)));
  return name;
}

// The calling thread yields to every thread of normal priority. Linux runs a
// SCHED_IDLE thread only when nothing else wants the CPU (or barely: with a
// weight of 3 against 1024); where that is refused, the lowest nice value.
void LowerOwnPriority() {
  sched_param param{};
  if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &param) == 0) return;
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 19);
}

class JournalingAppender final : public AuditAppender {
 public:
  JournalingAppender(std::shared_ptr<ServiceState> state, const AuditAppenderOptions& options)
      : state_(std::move(state)), options_(options) {
    if (options_.capacity == 0) options_.capacity = 1;
    if (options_.batch_size == 0) options_.batch_size = 1;
    open_error_ = Open();
    if (!open_error_.ok()) {
      state_->logger->Log(LogLevel::kError, "audit", "cannot start the audit journal",
                          {{"error", open_error_.ToString()}});
      return;
    }
    writer_ = std::thread([this] { WriteLoop(); });
    indexer_ = std::thread([this] { IndexLoop(); });
  }

  ~JournalingAppender() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    write_cv_.notify_all();
    index_cv_.notify_all();
    if (writer_.joinable()) writer_.join();  // writes everything pending
    if (indexer_.joinable()) indexer_.join();
    if (!open_error_.ok()) return;
    std::lock_guard index_lock(index_mu_);
    IndexOrphansLocked();
    // A small backlog goes into the database now, on this thread. A large one
    // (after a long saturation) would hold up the shutdown: it stays in the
    // journal, which the next appender on this database indexes.
    const uint64_t behind = journaled_bytes_ - std::min(journaled_bytes_, indexed_bytes_);
    const bool index_now = behind <= kIndexAtExitBytes;
    if (index_now && IndexAllLocked(*journal_, name_, pos_).ok()) {
      Retire(std::move(journal_), name_);
    } else {
      state_->logger->Log(
          LogLevel::kWarn, "audit", "audit journal left for the next appender to index",
          {{"journal", journal_->dir().string()}, {"unindexed_bytes", std::to_string(behind)}});
    }
  }

  bool Append(AuditEvent event) override {
    RecordHead head;
    head.micros = ToMicros(event.time == Clock::TimePoint{} ? state_->clock->Now() : event.time);
    head.performer_kind = event.performer_kind;
    head.token_kind = event.token_kind;
    head.texts = {event.kind,      event.namespace_name, event.repository,
                  event.performer, event.token_id,       event.ip,
                  event.request_id};
    // Metadata is checked to be a JSON object when the event is indexed, on
    // the indexer's thread: parsing it here would cost every pull.
    const std::string_view metadata =
        event.metadata.empty() ? std::string_view("{}") : std::string_view(event.metadata);
    return Enqueue(head, metadata, {}, kJsonText);
  }

  bool AppendView(const AuditEventView& event) override {
    RecordHead head;
    head.micros = ToMicros(event.time == Clock::TimePoint{} ? state_->clock->Now() : event.time);
    static const Principal kAnonymous;
    const Principal& who = event.performer != nullptr ? *event.performer : kAnonymous;
    head.performer_kind = who.kind;
    head.token_kind = who.token_kind;
    head.texts = {
        event.kind,
        event.namespace_name.empty() ? NamespaceOf(event.repository) : event.namespace_name,
        event.repository,
        who.name,
        who.token_id,
        event.ip,
        event.request_id};
    return Enqueue(head, {}, event.metadata, kFields);
  }

  Status Flush() override {
    if (!open_error_.ok()) return open_error_;
    {
      std::unique_lock lock(mu_);
      const uint64_t target = appended_;
      ++flushing_;
      write_cv_.notify_one();  // no lingering while someone waits
      written_cv_.wait(lock, [&] { return processed_ >= target; });
      --flushing_;
    }
    Status s;
    {
      std::lock_guard index_lock(index_mu_);
      IndexOrphansLocked();
      s = IndexAllLocked(*journal_, name_, pos_);
    }
    std::lock_guard lock(mu_);
    if (s.ok()) s = std::move(first_error_);
    first_error_ = Status::Ok();
    return s;
  }

  uint64_t backlog_bytes() const override {
    std::lock_guard lock(mu_);
    return pending_.size() + (journaled_bytes_ - std::min(journaled_bytes_, indexed_bytes_));
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
  // Encodes the record on the calling thread, outside the lock: with dozens
  // of request threads on a few cores, a holder preempted inside a longer
  // critical section makes the others queue on the mutex.
  bool Enqueue(const RecordHead& head, std::string_view json, std::span<const Field> fields,
               MetadataForm form) {
    thread_local std::string record;
    record.clear();
    if (!open_error_.ok() || head.texts[0].empty()) {
      std::lock_guard lock(mu_);
      ++failed_;
      return false;
    }
    EncodeRecord(head, json, fields, form, record);
    bool wake = false;
    {
      std::lock_guard lock(mu_);
      if (pending_events_ >= options_.capacity) {
        ++dropped_;
        return false;
      }
      pending_ += record;
      ++pending_events_;
      ++appended_;
      // The writer sleeps on an empty buffer: wake it for the first event
      // only (not a futex call per pull).
      wake = pending_events_ == 1;
    }
    if (wake) write_cv_.notify_one();
    return true;
  }

  // Creates this appender's journal and finds the ones left by dead owners.
  Status Open() {
    auto events = state_->Events();
    if (!events.ok()) return events.status();
    events_ = *events;
    auto root = state_->JournalRoot();
    if (!root.ok()) return root.status();
    root_ = *root;
    name_ = RandomName();
    auto journal = db::EventJournal::Open(root_ / name_);
    if (!journal.ok()) return journal.status();
    journal_ = std::move(*journal);
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(root_, ec)) {
      const std::string name = entry.path().filename().string();
      // "*.new": a journal being created (db::EventJournal::Open).
      if (name == name_ || name.ends_with(".new") || !entry.is_directory(ec)) continue;
      auto orphan = db::EventJournal::Open(entry.path());
      if (orphan.ok()) orphans_.push_back({name, std::move(*orphan)});  // else: alive
    }
    return Status::Ok();
  }

  void WriteLoop() {
    std::string buffer;
    auto last_sync = std::chrono::steady_clock::now();
    bool unsynced = false;  // written since the last fdatasync
    const bool durable = state_->options.durable;
    // Durable databases: the journal reaches the disk within a second of a
    // write (a crash of the machine loses at most that much; a crash of the
    // process loses nothing written), even when no more events come.
    auto sync = [&] {
      if (Status s = journal_->Sync(); !s.ok()) {
        state_->logger->Log(LogLevel::kError, "audit", "failed to sync the audit journal",
                            {{"error", s.ToString()}});
      }
      last_sync = std::chrono::steady_clock::now();
      unsynced = false;
    };
    std::unique_lock lock(mu_);
    for (;;) {
      auto has_work = [&] { return stopping_ || pending_events_ > 0; };
      if (unsynced) {
        if (!write_cv_.wait_until(lock, last_sync + kSyncInterval, has_work)) {
          lock.unlock();
          sync();
          lock.lock();
          continue;
        }
      } else {
        write_cv_.wait(lock, has_work);
      }
      if (pending_events_ == 0) {  // stopping, and everything is written
        lock.unlock();
        if (unsynced) sync();
        return;
      }
      if (!stopping_ && flushing_ == 0) {
        // Let a few milliseconds of events gather: one write() for all.
        write_cv_.wait_for(lock, kWriteLinger, [&] { return stopping_ || flushing_ > 0; });
      }
      buffer.swap(pending_);
      const size_t events = pending_events_;
      pending_events_ = 0;
      lock.unlock();
      const size_t bytes = buffer.size();
      Status s = journal_->Write(buffer);
      buffer.clear();
      unsynced = unsynced || (s.ok() && durable);
      if (unsynced && std::chrono::steady_clock::now() - last_sync >= kSyncInterval) sync();
      if (!s.ok()) {
        state_->logger->Log(LogLevel::kError, "audit", "failed to write the audit journal",
                            {{"events", std::to_string(events)}, {"error", s.ToString()}});
      }
      lock.lock();
      processed_ += events;
      if (s.ok()) {
        journaled_events_ += events;
        journaled_bytes_ += bytes;
      } else {
        failed_ += events;
        if (first_error_.ok()) first_error_ = s;
      }
      written_cv_.notify_all();
      // Any journaled event wakes the indexer, which lingers for a fuller
      // batch itself: waking it only at batch_size left a lone push or login
      // unindexed (absent from the logs API) until 63 more events came.
      if (Unindexed() > 0) index_cv_.notify_one();
      if (s.ok() &&
          journaled_bytes_ - std::min(journaled_bytes_, indexed_bytes_) > options_.backlog_bytes) {
        lock.unlock();
        HelpIndex();
        lock.lock();
      } else {
        help_wanted_ = false;
      }
    }
  }

  // Past the backlog limit, the writer (normal priority) indexes a batch
  // after each write, so that a journal cannot grow without bound while the
  // idle-priority indexer gets no CPU. try_lock: never wait behind the
  // indexer, which may hold the lock without a CPU to run on; it leaves the
  // next batch to the writer once it sees help_wanted_.
  void HelpIndex() {
    help_wanted_ = true;
    std::unique_lock index_lock(index_mu_, std::try_to_lock);
    if (index_lock.owns_lock())
      (void)IndexBatchLocked(*journal_, name_, pos_, 8 * options_.batch_size);
  }

  // Events journaled and not yet indexed. mu_ held. (The indexer may count
  // records it read before the writer counted them written.)
  uint64_t Unindexed() const {
    return journaled_events_ - std::min(journaled_events_, indexed_events_);
  }

  void IndexLoop() {
    LowerOwnPriority();
    {
      std::lock_guard index_lock(index_mu_);
      IndexOrphansLocked();
    }
    std::unique_lock lock(mu_);
    bool drained = true;
    std::chrono::milliseconds backoff{0};
    for (;;) {
      index_cv_.wait(lock, [&] { return stopping_ || Unindexed() > 0; });
      if (stopping_) return;  // the destructor indexes the rest
      // Linger for a fuller batch after a drained journal: a transaction
      // costs as much as dozens of rows.
      if (drained && Unindexed() < options_.batch_size) {
        index_cv_.wait_for(lock, kIndexLinger,
                           [&] { return stopping_ || Unindexed() >= options_.batch_size; });
        if (stopping_) return;
      }
      if (help_wanted_) {
        // The writer is indexing; stay out of its way until it stops.
        index_cv_.wait_for(lock, kIndexLinger);
        continue;
      }
      const uint64_t behind = Unindexed();
      lock.unlock();
      Status s;
      const CpuShare share;
      {
        std::lock_guard index_lock(index_mu_);
        // Behind: bigger transactions (each index's last pages rewritten
        // once per many rows). Keeping up: short ones.
        const size_t limit =
            behind > 4 * options_.batch_size ? 8 * options_.batch_size : options_.batch_size;
        s = IndexBatchLocked(*journal_, name_, pos_, limit);
        drained = journal_->AtEnd(pos_);
      }
      // Even at idle priority, indexing beside saturated request threads
      // slows them: each of their wake-ups has to preempt it, and it evicts
      // their data from the caches. A batch that got less than half of the
      // time it took means they wanted the CPU: pause, longer each time, and
      // leave the journal to grow (the backlog limit bounds it).
      if (s.ok() && !drained && share.Fraction() < kBusyShare) {
        backoff = std::clamp(2 * backoff, kMinBackoff, kMaxBackoff);
      } else {
        backoff = std::chrono::milliseconds(0);
      }
      lock.lock();
      if (!s.ok()) {
        // Kept in the journal: retried after a pause, not lost.
        index_cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
      } else if (backoff.count() > 0) {
        index_cv_.wait_for(lock, backoff, [&] { return stopping_; });
      }
    }
  }

  // Journals left by appenders that died: indexed from where they were, then
  // removed. One that fails stays for the next appender. index_mu_ held.
  void IndexOrphansLocked() {
    for (auto& orphan : orphans_) {
      auto pos = events_->JournalPositionOf(orphan.name);
      if (pos.ok() && IndexAllLocked(*orphan.journal, orphan.name, *pos).ok()) {
        Retire(std::move(orphan.journal), orphan.name);
      }
    }
    orphans_.clear();
  }

  // Indexes up to `max_rows` records of `journal` after `pos` in one
  // transaction. index_mu_ held.
  Status IndexBatchLocked(db::EventJournal& journal, const std::string& name,
                          db::JournalPosition& pos, size_t max_rows) {
    rows_.clear();
    db::JournalPosition next = pos;
    uint64_t torn = 0;
    const int64_t now = state_->NowMicros();
    size_t undecodable = 0;
    size_t invalid = 0;
    uint64_t bytes = 0;
    auto read = journal.Read(
        next, max_rows,
        [&](std::string_view payload) {
          bytes += db::EventJournal::kHeaderBytes + payload.size();
          AuditEvent e;
          bool bad_metadata = false;
          if (!DecodeEvent(payload, e, bad_metadata)) {
            ++undecodable;
          } else if (bad_metadata) {
            ++invalid;  // queries parse metadata back; no table checks it
          } else {
            rows_.push_back(ToAuditRow(std::move(e), now));
          }
        },
        &torn);
    if (!read.ok()) return Note(read.status());
    if (torn > 0 || undecodable > 0) {
      state_->logger->Log(LogLevel::kWarn, "audit", "audit journal damaged",
                          {{"journal", journal.dir().string()},
                           {"lost_bytes", std::to_string(torn)},
                           {"undecodable_records", std::to_string(undecodable)}});
    }
    if (invalid > 0) {
      state_->logger->Log(LogLevel::kWarn, "audit",
                          "audit events dropped: metadata is not a JSON object",
                          {{"events", std::to_string(invalid)}});
    }
    if (next == pos) {
      // Nothing readable although the counters say otherwise (records lost
      // to damage on disk): resynchronize, or the indexer would keep waking
      // for them.
      if (&journal == journal_.get() && journal.AtEnd(pos)) {
        std::lock_guard lock(mu_);
        indexed_events_ = journaled_events_;
        indexed_bytes_ = journaled_bytes_;
      }
      return Status::Ok();
    }
    // A finished segment is deleted once its rows are durable.
    const bool finished_segment = next.segment != pos.segment;
    Status s = events_->AppendJournaled(
        rows_, name, next,
        finished_segment ? db::Connection::Sync::kDurable : db::Connection::Sync::kRelaxed);
    if (!s.ok()) return Note(s);
    pos = next;
    if (finished_segment) journal.DeleteBefore(pos);
    if (&journal == journal_.get()) {
      std::lock_guard lock(mu_);
      indexed_events_ += *read;
      indexed_bytes_ += bytes + torn;
      failed_ += invalid;
    }
    return Status::Ok();
  }

  Status IndexAllLocked(db::EventJournal& journal, const std::string& name,
                        db::JournalPosition& pos) {
    while (!journal.AtEnd(pos)) {
      const db::JournalPosition before = pos;
      if (auto s = IndexBatchLocked(journal, name, pos, 8 * options_.batch_size); !s.ok()) {
        return s;
      }
      if (pos == before) break;  // nothing more readable yet
    }
    return Status::Ok();
  }

  // Logs a failed indexing step once per distinct error. Not kept for
  // Flush(): a retry may succeed; Flush() reports its own indexing's result.
  Status Note(const Status& s) {
    std::lock_guard lock(mu_);
    if (s.ToString() != last_index_error_) {
      last_index_error_ = s.ToString();
      state_->logger->Log(LogLevel::kError, "audit", "failed to index the audit journal",
                          {{"error", last_index_error_}});
    }
    return s;
  }

  // A fully indexed journal: its files, its folder and its position go.
  void Retire(std::unique_ptr<db::EventJournal> journal, const std::string& name) {
    const std::filesystem::path dir = journal->dir();
    journal->DeleteBefore({UINT64_MAX, 0});
    std::error_code ec;
    std::filesystem::remove(dir / "LOCK", ec);
    std::filesystem::remove(dir, ec);
    journal.reset();  // releases the lock
    (void)events_->ForgetJournal(name);
  }

  struct Orphan {
    std::string name;
    std::unique_ptr<db::EventJournal> journal;
  };

  std::shared_ptr<ServiceState> state_;
  AuditAppenderOptions options_;
  Status open_error_;
  db::AuditStore* events_ = nullptr;
  std::filesystem::path root_;
  std::string name_;
  std::unique_ptr<db::EventJournal> journal_;
  std::vector<Orphan> orphans_;  // guarded by index_mu_

  // Producers, the writer and the indexer's wake-ups.
  mutable std::mutex mu_;
  std::condition_variable write_cv_;
  std::condition_variable written_cv_;
  std::condition_variable index_cv_;
  std::string pending_;
  size_t pending_events_ = 0;
  bool stopping_ = false;
  int flushing_ = 0;
  uint64_t appended_ = 0;
  uint64_t processed_ = 0;  // written to the journal, or failed to be
  uint64_t journaled_events_ = 0;
  uint64_t indexed_events_ = 0;
  uint64_t journaled_bytes_ = 0;
  uint64_t indexed_bytes_ = 0;
  uint64_t dropped_ = 0;
  uint64_t failed_ = 0;
  Status first_error_;
  std::string last_index_error_;

  // Whoever indexes (indexer, writer past the backlog limit, Flush, the
  // destructor) holds index_mu_: it guards pos_ and rows_.
  std::mutex index_mu_;
  db::JournalPosition pos_;
  std::vector<db::AuditRow> rows_;
  std::atomic<bool> help_wanted_{false};

  std::thread writer_;
  std::thread indexer_;
};

}  // namespace

std::unique_ptr<AuditAppender> NewJournalingAppender(std::shared_ptr<ServiceState> state,
                                                     const AuditAppenderOptions& options) {
  return std::make_unique<JournalingAppender>(std::move(state), options);
}

}  // namespace quay::api
