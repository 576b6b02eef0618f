// Failed-login back-off for /v2/auth, per (username, client address): after
// `max_failures` failures within `window`, further attempts are refused with
// 429 and Retry-After for a delay that doubles with each further failure
// (from `initial_delay`, capped at `max_delay`). Refused attempts never reach
// the password hash, so a guessing client also cannot burn CPU. A success
// forgets the key's failures.
//
// Time comes from an injected quay::Clock, so tests need not sleep. Memory is
// bounded: at most `max_entries` keys are tracked; beyond that, idle entries
// are swept and, if still full, new keys are not tracked (never blocking a
// legitimate user because of someone else's flood).
//
// Thread safety: all methods may be called from many threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "quay/clock.h"

namespace quayd {

struct LoginThrottleOptions {
  // Failures tolerated within `window` before back-off starts. 0 disables
  // the throttle. Default: 5.
  uint32_t max_failures = 5;
  // How long failures are remembered. Default: 5 minutes.
  std::chrono::seconds window{300};
  // Delay after the max_failures-th failure; doubles per further failure.
  // Default: 10 s.
  std::chrono::seconds initial_delay{10};
  // Default: 15 minutes.
  std::chrono::seconds max_delay{900};
  // Keys tracked at once. Default: 100000.
  size_t max_entries = 100000;
};

class LoginThrottle {
 public:
  LoginThrottle(LoginThrottleOptions options, std::shared_ptr<quay::Clock> clock);

  // Zero when an attempt may proceed; otherwise the seconds to wait (>= 1).
  std::chrono::seconds RetryAfter(std::string_view username, std::string_view address);
  void RecordFailure(std::string_view username, std::string_view address);
  void RecordSuccess(std::string_view username, std::string_view address);

  size_t tracked() const;

 private:
  struct Entry {
    uint32_t failures = 0;
    quay::Clock::TimePoint first_failure;
    quay::Clock::TimePoint blocked_until;
  };
  static std::string Key(std::string_view username, std::string_view address);
  bool Idle(const Entry& entry, quay::Clock::TimePoint now) const;

  const LoginThrottleOptions options_;
  std::shared_ptr<quay::Clock> clock_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace quayd
