#include "db/connection.h"

#include <chrono>
#include <climits>

#include "core/private_files.h"

namespace quay::db {
namespace {

// SQLite would create the file 0644 less the umask; it holds password hashes
// and audit rows, so it is made 0600 first (its -wal and -shm copy its mode).
// A failure here is left for SQLite's own open to report.
const std::string& CreatedPrivately(const std::string& path, bool read_only, bool in_memory) {
  if (!read_only && !in_memory && !path.empty() && path != ":memory:" &&
      !path.starts_with("file:")) {
    (void)core::CreatePrivateFile(path);
  }
  return path;
}

}  // namespace

Connection::Connection(const std::string& path, bool read_only, bool durable, bool in_memory)
    // NOMUTEX: a connection is used by one thread at a time (the pool lends
    // it out), so SQLite's per-call connection mutex is pure overhead.
    : db_(CreatedPrivately(path, read_only, in_memory),
          SQLite::OPEN_NOMUTEX |
              (read_only ? SQLite::OPEN_READONLY : (SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE)),
          static_cast<int>(kBusyTimeout.count())),
      durable_(durable),
      in_memory_(in_memory) {
  if (in_memory) return;
  if (!read_only) {
    // WAL lets readers run beside the single writer; FULL makes every commit
    // durable before it is acknowledged.
    db_.exec("PRAGMA journal_mode=WAL");
    db_.exec(durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  }
  db_.exec("PRAGMA foreign_keys=ON");
}

void Connection::SetSynchronous(Sync mode) {
  if (mode == sync_ || in_memory_ || !durable_) return;
  db_.exec(mode == Sync::kDurable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  sync_ = mode;
}

Stmt Connection::Prepare(const char* sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    it = statements_.emplace(sql, std::make_unique<SQLite::Statement>(db_, sql)).first;
  } else {
    it->second->clearBindings();
  }
  return Stmt(*it->second);
}

ConnectionPool::ConnectionPool(std::string path, bool durable)
    : path_(std::move(path)), durable_(durable), in_memory_(path_ == ":memory:") {
  writer_ = std::make_unique<Connection>(path_, /*read_only=*/false, durable_, in_memory_);
  if (in_memory_) writer_->db().exec("PRAGMA foreign_keys=ON");
}

ConnectionPool::Lease::~Lease() {
  if (pool_ != nullptr && owned_ != nullptr) pool_->Release(std::move(owned_));
}

ConnectionPool::Lease ConnectionPool::AcquireReader() {
  reads_.fetch_add(1, std::memory_order_relaxed);
  if (in_memory_) return Lease(writer_.get(), LockWriter());
  {
    std::lock_guard lock(readers_mutex_);
    if (!idle_readers_.empty()) {
      auto c = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return Lease(this, std::move(c));
    }
  }
  return Lease(this, std::make_unique<Connection>(path_, /*read_only=*/true, durable_, false));
}

uint64_t ConnectionPool::CacheGeneration() {
  // An in-memory database has no other process to hear from.
  if (!in_memory_) {
    const auto now = [] {
      return std::chrono::duration_cast<std::chrono::nanoseconds>(
                 std::chrono::steady_clock::now().time_since_epoch())
          .count();
    };
    const int64_t start = now();
    if (start - last_poll_nanos_.load(std::memory_order_acquire) >= kEpochPollIntervalNanos) {
      std::lock_guard lock(poll_mutex_);
      // Another caller may have polled while this one waited.
      if (start - last_poll_nanos_.load(std::memory_order_acquire) >= kEpochPollIntervalNanos) {
        const int64_t began = now();
        PollEpoch();
        last_poll_nanos_.store(began, std::memory_order_release);
      }
    }
  }
  return generation_.load(std::memory_order_acquire);
}

void ConnectionPool::PollEpoch() {
  int64_t epoch = seen_epoch_;
  try {
    auto lease = AcquireReader();
    auto q = lease->Prepare("SELECT value FROM change_epoch WHERE id = 1");
    if (q->executeStep()) epoch = q->getColumn(0).getInt64();
  } catch (const std::exception&) {
    // Unreadable now (busy, I/O error): distrust every cached entry rather
    // than risk serving one that a missed change made stale.
    epoch = -2;
  }
  if (epoch != seen_epoch_) {
    seen_epoch_ = epoch;
    InvalidateCaches();
  }
}

void ConnectionPool::Release(std::unique_ptr<Connection> c) {
  std::lock_guard lock(readers_mutex_);
  idle_readers_.push_back(std::move(c));
}

}  // namespace quay::db
