#include "quay/clock.h"

namespace quay {
namespace {

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

}  // namespace

std::shared_ptr<Clock> Clock::System() {
  // Stateless, so every caller can share one instance.
  static const std::shared_ptr<Clock> clock = std::make_shared<SystemClock>();
  return clock;
}

// now_ is a plain rep (not std::atomic) so the public header stays a simple
// layout; the builtins give it atomic access. Relaxed ordering suffices: the
// clock publishes only its own value, never other memory.
ManualClock::ManualClock(TimePoint start) : now_(start.time_since_epoch().count()) {}

Clock::TimePoint ManualClock::Now() const {
  return TimePoint(std::chrono::system_clock::duration(__atomic_load_n(&now_, __ATOMIC_RELAXED)));
}

void ManualClock::Advance(std::chrono::system_clock::duration d) {
  __atomic_fetch_add(&now_, d.count(), __ATOMIC_RELAXED);
}

}  // namespace quay
