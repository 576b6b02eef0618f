// LoginThrottle: the failed-login back-off every protocol binding shares
// (/v2/auth and /api/v1/signin in quayd), per (username, client address).
// After `max_failures` failures within `window`, further attempts are
// refused for a delay that doubles with each further failure (from
// `initial_delay`, capped at `max_delay`). Refused attempts never reach the
// password hash, so a guessing client cannot burn CPU either. A success
// forgets the key's failures. Accounts::Login (accounts.h) runs the whole
// check / authenticate / record sequence; the methods below are for callers
// with credentials of their own.
//
// Floods. Failures are kept in two tables, told apart by the caller
// (Accounts::Login asks the database): names of existing accounts, and names
// that are no account (made up, or robot-shaped "org+name" ones, which fail
// without a password hash and so are the cheapest to send). The unknown-name
// table is a fixed array of `max_unknown_entries` slots indexed by a hash of
// the key: a new key overwrites whatever shared its slot, so no number of
// made-up names can make it grow, and none can touch an existing account's
// record, which lives in the other table. The account table holds at most
// `max_entries` keys; when full, idle keys are swept (at most once a second)
// and, if it is still full, new keys go untracked. Only failures against
// existing accounts from that many distinct addresses within the window can
// fill it. Every lookup is O(1).
//
// Time comes from an injected Clock: tests need not sleep.
//
// Thread safety: all methods may be called from many threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "quay/clock.h"
#include "quay/export.h"

namespace quay {

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
  // (username, address) keys of existing accounts tracked at once.
  // Default: 100000.
  size_t max_entries = 100000;
  // Slots of the table for names that are no account (fixed: allocated
  // once, never grows). Default: 65536.
  size_t max_unknown_entries = 65536;
};

// Whose name a failed attempt used.
enum class LoginName : unsigned char {
  kAccount,  // an existing account (or a fixed name such as "$oauthtoken")
  kUnknown,  // no account has this name
};

struct LoginThrottleSize {
  size_t accounts = 0;  // keys in the account table (<= max_entries)
  size_t unknown = 0;   // occupied slots of the unknown-name table (<= max_unknown_entries)
};

class QUAY_EXPORT LoginThrottle {
 public:
  // A null clock is the system clock.
  static std::unique_ptr<LoginThrottle> New(const LoginThrottleOptions& options,
                                            std::shared_ptr<Clock> clock);
  virtual ~LoginThrottle() = default;

  // Zero when an attempt may proceed; otherwise the seconds to wait (>= 1).
  virtual std::chrono::seconds RetryAfter(std::string_view username, std::string_view address) = 0;
  // A failed attempt; `name` picks the table (see above).
  virtual void RecordFailure(std::string_view username, std::string_view address,
                             LoginName name) = 0;
  // A successful one: the key's failures are forgotten.
  virtual void RecordSuccess(std::string_view username, std::string_view address) = 0;

  virtual LoginThrottleSize size() const = 0;
  virtual const LoginThrottleOptions& options() const = 0;
};

}  // namespace quay
