// Garbage collection as quayd runs it: the one-line report `quayd gc` prints,
// and the collector thread of `quayd serve` that calls
// Registry::CollectGarbage every --gc-interval. GC itself (what is garbage,
// how it stays safe next to concurrent pushes) is the library's business.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "quay/logger.h"
#include "quay/registry.h"

namespace quayd {

class Metrics;

// "dry_run=false manifests_deleted=0 tags_expired=0 blobs_unlinked=0
// blobs_deleted=0 bytes_freed=0 uploads_expired=0" (logfmt, one line).
std::string FormatGcReport(const quay::GcReport& report, bool dry_run);

// Calls registry.CollectGarbage({}) every `interval`, the first time one
// interval after construction, and logs each outcome: the report at info, a
// registry without GC (Unsupported) at debug, any other error at error level.
// An interval of zero starts nothing.
//
// Stop() wakes the thread at once (a condition variable, not a sleep) and
// waits for a collection in progress to finish; the destructor stops. The
// Registry must outlive the PeriodicGc.
class PeriodicGc {
 public:
  // `metrics` (may be null) counts each run and the bytes it freed.
  PeriodicGc(quay::Registry& registry, std::chrono::milliseconds interval, quay::Logger& logger,
             Metrics* metrics = nullptr);
  ~PeriodicGc();
  PeriodicGc(const PeriodicGc&) = delete;
  PeriodicGc& operator=(const PeriodicGc&) = delete;

  // Idempotent. Call from any thread but the collector's own.
  void Stop();

  // Collections finished so far (successful or not).
  uint64_t runs() const;

 private:
  void Loop();
  void CollectOnce();

  quay::Registry& registry_;
  const std::chrono::milliseconds interval_;
  quay::Logger& logger_;
  Metrics* const metrics_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  uint64_t runs_ = 0;
  std::thread thread_;
};

}  // namespace quayd
