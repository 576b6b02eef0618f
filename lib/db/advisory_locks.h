// Locks that exclude every process using one PostgreSQL database, whichever
// machine it runs on: session-level advisory locks (pg_try_advisory_lock),
// held on a connection of their own so that no transaction's end releases
// them. Internal to libquay.
//
// What SQLite deployments get from a lock file in the shared data folder
// (registry/digest_locks.h) and from process memory (one GC at a time),
// several quayd instances on one database get from here.
//
// Waiting is polling with a short backoff, not a blocking
// pg_advisory_lock: the one connection serves every thread, and a blocked
// call would stall the others' unlocks. The locks guard rare collisions (a
// blob commit meeting GC on one digest), so the waits are rare too.
//
// A session that breaks (the server restarted, the socket dropped) loses
// its locks; the next call reconnects. A holder is not told; the window is
// the reconnect, and docs/architecture.md names it.
//
// Thread safety: safe to use from many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "quay/status.h"

namespace quay::db {

class Connection;

// Key spaces (the writers' transaction lock is kWriterLockKey,
// db/postgres_connection.h): a digest stripe's key is kDigestStripeKeys + stripe.
inline constexpr int64_t kDigestStripeKeys = 0x71756179'64000000;  // "quayd" + stripe
inline constexpr int64_t kGcLockKey = 0x71756179'67630000;         // "quaygc"

class AdvisoryLocks {
 public:
  // On the PostgreSQL database `uri`. Unavailable if it cannot be reached
  // (or this libquay was built without PostgreSQL).
  static Result<std::unique_ptr<AdvisoryLocks>> Open(const std::string& uri);
  ~AdvisoryLocks();
  AdvisoryLocks(const AdvisoryLocks&) = delete;
  AdvisoryLocks& operator=(const AdvisoryLocks&) = delete;

  // Takes `key` unless another session holds it. Unavailable when the
  // database cannot answer.
  Result<bool> TryLock(int64_t key);
  // Waits until `key` is taken (or the database fails: Unavailable).
  Status Lock(int64_t key);
  void Unlock(int64_t key);
  // TryLock and Unlock of many keys in one round trip each (GC's batches):
  // which of `keys` were taken (none when the database fails).
  std::vector<bool> TryLockEach(const std::vector<int64_t>& keys);
  void UnlockEach(const std::vector<int64_t>& keys);

 private:
  explicit AdvisoryLocks(std::unique_ptr<Connection> conn);

  std::mutex mu_;  // the connection serves one call at a time
  std::unique_ptr<Connection> conn_;
};

}  // namespace quay::db
