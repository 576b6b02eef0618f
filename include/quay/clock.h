// An injectable clock, so expiry and windows are tested without sleeping.
#pragma once

#include <chrono>
#include <memory>

#include "quay/export.h"

namespace quay {

class QUAY_EXPORT Clock {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;

  // The process' wall clock.
  static std::shared_ptr<Clock> System();
};

// A clock tests move by hand. Thread-safe.
class QUAY_EXPORT ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint(std::chrono::seconds(1'700'000'000)));
  TimePoint Now() const override;
  void Advance(std::chrono::system_clock::duration d);

 private:
  std::chrono::system_clock::duration::rep now_;  // atomic access via builtins
};

}  // namespace quay
