#include "db/connection.h"

#include <chrono>
#include <climits>

#if QUAY_POSTGRES
#include "db/postgres_connection.h"
#endif
#include "db/sqlite_connection.h"

namespace quay::db {

bool IsPostgresUri(const std::string& path) {
  return path.starts_with("postgresql://") || path.starts_with("postgres://");
}

std::unique_ptr<Connection> OpenConnection(const std::string& path, bool read_only, bool durable,
                                           bool in_memory) {
  if (IsPostgresUri(path)) {
#if QUAY_POSTGRES
    return std::make_unique<PostgresConnection>(path, read_only, durable);
#else
    throw PostgresError("0A000", "this libquay was built without PostgreSQL (libpq)");
#endif
  }
  return std::make_unique<SqliteConnection>(path, read_only, durable, in_memory);
}

Stmt Connection::Prepare(const char* sql, const char* postgres) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) it = statements_.emplace(sql, NewStatement(sql, postgres)).first;
  return Stmt(*it->second);
}

ConnectionPool::ConnectionPool(std::string path, bool durable)
    : path_(std::move(path)), durable_(durable), in_memory_(path_ == ":memory:") {
  writer_ = OpenConnection(path_, /*read_only=*/false, durable_, in_memory_);
}

ConnectionPool::Lease::~Lease() {
  if (pool_ != nullptr && owned_ != nullptr) pool_->Release(std::move(owned_));
}

ConnectionPool::Lease ConnectionPool::AcquireReader() {
  reads_.fetch_add(1, std::memory_order_relaxed);
  return AcquireUncounted();
}

ConnectionPool::Lease ConnectionPool::AcquireUncounted() {
  if (in_memory_) return Lease(writer_.get(), LockWriter());
  {
    std::lock_guard lock(readers_mutex_);
    if (!idle_readers_.empty()) {
      auto c = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return Lease(this, std::move(c));
    }
  }
  return Lease(this, OpenConnection(path_, /*read_only=*/true, durable_, false));
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
    // Not counted in reads(): the poll is the cache's upkeep, not a read
    // the cache failed to save.
    auto lease = AcquireUncounted();
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
