// Database connections (SQLite or PostgreSQL) with a per-connection cache of
// prepared statements, and the pool that hands them out. Internal to lib/db.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "db/statement.h"

namespace quay::db {

enum class Dialect : unsigned char { kSqlite, kPostgres };

// True when `path` names a PostgreSQL database (a libpq URI, as Quay's
// DB_URI) rather than a SQLite file.
bool IsPostgresUri(const std::string& path);

// One database session, used by one thread at a time (the pool lends it out).
class Connection {
 public:
  virtual ~Connection() = default;
  virtual Dialect dialect() const = 0;

  // A prepared statement for `sql`, reset and with bindings cleared. Preparing
  // costs more than the queries on the hot path, so each is prepared once.
  // `sql` must be a string literal (its address is the cache key). It is
  // written in SQLite's dialect; PostgreSQL runs a translation (parameters,
  // INSERT OR IGNORE, json_each, LIKE...: postgres_sql.h), or `postgres` when
  // the statement needs its own text there.
  Stmt Prepare(const char* sql, const char* postgres = nullptr);

  // Runs SQL without parameters (several statements allowed).
  virtual void Exec(const std::string& sql) = 0;

  // Transactions (sql_support.h). A write transaction excludes every other
  // writer of the database, in this process or any other: the stores'
  // read-then-write steps rely on it.
  virtual void BeginWrite() = 0;
  virtual void BeginRead() = 0;
  void Commit() { Exec("COMMIT"); }
  void Rollback() { Exec("ROLLBACK"); }

  // Durable commits (kDurable, when the pool is durable) or relaxed ones that
  // a power loss may drop but never tear. Changed only between transactions;
  // a no-op when already set.
  enum class Sync : unsigned char { kDurable, kRelaxed };
  virtual void SetSynchronous(Sync mode) = 0;
  // How long a statement waits for another session's lock (10 s unless set).
  virtual void SetBusyTimeout(std::chrono::milliseconds timeout) = 0;
  static constexpr std::chrono::milliseconds kBusyTimeout{10'000};

 protected:
  virtual std::unique_ptr<Statement> NewStatement(const char* sql, const char* postgres) = 0;
  // For the destructors of subclasses: statements end before their session.
  void DropStatements() { statements_.clear(); }

 private:
  std::unordered_map<const char*, std::unique_ptr<Statement>> statements_;
};

// Opens a connection to `path`: a SQLite file, ":memory:", or a PostgreSQL
// URI.
std::unique_ptr<Connection> OpenConnection(const std::string& path, bool read_only, bool durable,
                                           bool in_memory);

// One writer connection (writes are serialized) and a pool of readers.
class ConnectionPool {
 public:
  ConnectionPool(std::string path, bool durable);

  // A reader connection on loan; returned to the pool on destruction.
  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<Connection> c) : pool_(pool), owned_(std::move(c)) {
      conn_ = owned_.get();
    }
    Lease(Connection* shared, std::unique_lock<std::mutex> lock)
        : pool_(nullptr), conn_(shared), lock_(std::move(lock)) {}
    Lease(Lease&&) = default;
    ~Lease();
    Connection* operator->() { return conn_; }
    Connection& operator*() { return *conn_; }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Connection> owned_;
    Connection* conn_;
    std::unique_lock<std::mutex> lock_;
  };

  // The writer, held exclusively until the returned lock is released. Time
  // spent waiting for it (only when another holds it: the uncontended path
  // reads no clock) is counted for metrics.
  std::unique_lock<std::mutex> LockWriter() {
    std::unique_lock lock(writer_mutex_, std::try_to_lock);
    if (!lock.owns_lock()) {
      const auto start = std::chrono::steady_clock::now();
      lock.lock();
      writer_waits_.fetch_add(1, std::memory_order_relaxed);
      writer_wait_nanos_.fetch_add(
          static_cast<uint64_t>((std::chrono::steady_clock::now() - start).count()),
          std::memory_order_relaxed);
    }
    return lock;
  }
  uint64_t writer_waits() const { return writer_waits_.load(std::memory_order_relaxed); }
  uint64_t writer_wait_nanos() const { return writer_wait_nanos_.load(std::memory_order_relaxed); }
  Connection& writer() { return *writer_; }
  // A reader connection (the writer itself for in-memory databases, which
  // cannot be shared between connections cheaply).
  Lease AcquireReader();
  // Readers acquired so far: how tests tell a cached answer from a query.
  uint64_t reads() const { return reads_.load(std::memory_order_relaxed); }
  bool in_memory() const { return in_memory_; }
  Dialect dialect() const { return writer_->dialect(); }
  // The database file (":memory:" when in_memory()).
  const std::string& path() const { return path_; }
  // The secret of an in-memory database, made by `make` on the first call
  // and the same for every service sharing this pool afterwards (it has no
  // folder to keep a secret file in, and lives no longer than the pool).
  const std::string& MemorySecret(const std::function<std::string()>& make) {
    std::call_once(memory_secret_once_, [&] { memory_secret_ = make(); });
    return memory_secret_;
  }

  // ---- validity of read caches (db/read_cache.h) ----
  // A cache entry remembers the generation that was current before its rows
  // were read, and is trusted only while that generation is still current.
  // Writes of this process that change cached facts call InvalidateCaches
  // after they commit, so a reader always sees its own process's writes.
  // Writes of other processes on the same file (the quayd CLI beside a
  // serving quayd) advance change_epoch through triggers (schema v4); it is
  // polled at most every 10 ms (one tiny query), which bounds how long their
  // effect may be missed.
  static constexpr int64_t kEpochPollIntervalNanos = 10'000'000;
  uint64_t CacheGeneration();
  void InvalidateCaches() { generation_.fetch_add(1, std::memory_order_acq_rel); }

 private:
  void Release(std::unique_ptr<Connection> c);
  Lease AcquireUncounted();
  void PollEpoch();

  std::string path_;
  bool durable_;
  bool in_memory_;
  std::mutex writer_mutex_;
  std::atomic<uint64_t> reads_{0};
  std::atomic<uint64_t> writer_waits_{0};
  std::atomic<uint64_t> writer_wait_nanos_{0};
  std::unique_ptr<Connection> writer_;
  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;

  std::atomic<uint64_t> generation_{1};
  // Start time of the last completed poll. A caller that finds it older than
  // the interval waits for a poll: after an idle hour, the first requests must
  // not be answered from what the cache held an hour ago.
  std::atomic<int64_t> last_poll_nanos_{INT64_MIN / 2};
  std::mutex poll_mutex_;    // one poller at a time
  int64_t seen_epoch_ = -1;  // guarded by poll_mutex_
  std::once_flag memory_secret_once_;
  std::string memory_secret_;
};

}  // namespace quay::db
