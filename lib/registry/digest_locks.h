// Locks keyed by blob digest, for the one race the database cannot settle:
// a blob commit and GC deleting the same digest.
//
// Committing a blob is two steps: the store moves the upload into place (or,
// if a file for the digest already exists, drops the upload and keeps that
// file), then a transaction writes the row. GC is two steps the other way:
// a transaction deletes the row, then the store deletes the file. If GC's row
// delete fell between a commit's two steps and its file delete after them, a
// committed row would name a file that is gone. Holding the digest's lock
// across both steps on each side rules that out: a commit waits for GC to
// finish with the digest (and then writes a fresh file), and GC skips digests
// a commit holds (the commit makes them live anyway).
//
// Digests map onto a fixed number of stripes (false sharing only delays).
// In-process the stripes are mutexes. With a lock file (a data folder on
// local disk) each stripe is also an open-file-description lock on one byte
// of that file, so another process using the same folder (`quayd gc` beside
// `quayd serve`) is excluded too. On a shared PostgreSQL database each
// stripe is instead an advisory lock (db/advisory_locks.h), which excludes
// instances on other machines as well.
//
// Lock order: a stripe before the database's writer, never the reverse, and
// several stripes only through TryLock (which never waits), so no deadlock.
//
// Thread safety: safe to use from many threads.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "db/advisory_locks.h"
#include "quay/digest.h"
#include "quay/status.h"

namespace quay::registry {

class DigestLocks {
 public:
  static constexpr size_t kStripes = 1024;

  DigestLocks() = default;
  ~DigestLocks();
  DigestLocks(const DigestLocks&) = delete;
  DigestLocks& operator=(const DigestLocks&) = delete;

  // Also lock byte ranges of `path` (created if missing) from now on, so
  // processes sharing the file exclude each other. Call before any Lock.
  // Unavailable if the file cannot be opened.
  Status ShareThroughFile(const std::string& path);
  // Or through the database's advisory locks (several instances on one
  // PostgreSQL database). Call before any Lock.
  void ShareThroughDatabase(std::shared_ptr<db::AdvisoryLocks> locks) {
    advisory_ = std::move(locks);
  }

  // Stripes held until destruction.
  class Held {
   public:
    Held() = default;
    Held(Held&& other) noexcept;
    Held& operator=(Held&& other) noexcept;
    Held(const Held&) = delete;
    Held& operator=(const Held&) = delete;
    ~Held();

   private:
    friend class DigestLocks;
    void Release();
    DigestLocks* owner_ = nullptr;
    std::vector<size_t> stripes_;
  };

  // Waits for `digest`'s stripe. Unavailable if the file lock fails.
  Result<Held> Lock(const Digest& digest);
  // Takes the stripes of those of `digests` that nobody holds, without
  // waiting; `locked` receives those digests (in input order).
  Held TryLock(const std::vector<Digest>& digests, std::vector<Digest>* locked);

 private:
  static size_t StripeOf(const Digest& digest);
  // The cross-process half (file or database); the stripe's mutex is
  // already held. A failure's reason goes to `error` when it is not null.
  bool SharedLock(size_t stripe, bool wait, std::string* error);
  void SharedUnlock(size_t stripe);
  void Unlock(size_t stripe);

  std::array<std::mutex, kStripes> stripes_;
  int fd_ = -1;
  std::shared_ptr<db::AdvisoryLocks> advisory_;
};

}  // namespace quay::registry
