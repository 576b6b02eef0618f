#include "host/auth/login_throttle.h"

#include <algorithm>

namespace quayd {
namespace {

// Usernames longer than this are cut for the key (they fail anyway).
constexpr size_t kMaxKeyUsername = 256;

}  // namespace

LoginThrottle::LoginThrottle(LoginThrottleOptions options, std::shared_ptr<quay::Clock> clock)
    : options_(options), clock_(clock ? std::move(clock) : quay::Clock::System()) {}

std::string LoginThrottle::Key(std::string_view username, std::string_view address) {
  std::string key(username.substr(0, kMaxKeyUsername));
  key += '\0';
  key += address;
  return key;
}

bool LoginThrottle::Idle(const Entry& entry, quay::Clock::TimePoint now) const {
  return now >= entry.blocked_until && now - entry.first_failure >= options_.window;
}

std::chrono::seconds LoginThrottle::RetryAfter(std::string_view username,
                                               std::string_view address) {
  if (options_.max_failures == 0) return std::chrono::seconds(0);
  const auto now = clock_->Now();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(Key(username, address));
  if (it == entries_.end() || now >= it->second.blocked_until) return std::chrono::seconds(0);
  auto wait = std::chrono::ceil<std::chrono::seconds>(it->second.blocked_until - now);
  return std::max(wait, std::chrono::seconds(1));
}

void LoginThrottle::RecordFailure(std::string_view username, std::string_view address) {
  if (options_.max_failures == 0) return;
  const auto now = clock_->Now();
  std::string key = Key(username, address);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= options_.max_entries) {
      std::erase_if(entries_, [&](const auto& kv) { return Idle(kv.second, now); });
      if (entries_.size() >= options_.max_entries) return;
    }
    it = entries_.emplace(std::move(key), Entry{}).first;
  }
  Entry& e = it->second;
  if (e.failures > 0 && Idle(e, now)) e = Entry{};  // the window passed: start over
  if (e.failures == 0) e.first_failure = now;
  ++e.failures;
  if (e.failures >= options_.max_failures) {
    // initial_delay * 2^(failures - max_failures), capped.
    const uint32_t doublings = std::min<uint32_t>(e.failures - options_.max_failures, 30);
    auto delay = options_.initial_delay;
    for (uint32_t i = 0; i < doublings && delay < options_.max_delay; ++i) delay *= 2;
    delay = std::min(delay, options_.max_delay);
    e.blocked_until = now + delay;
  }
}

void LoginThrottle::RecordSuccess(std::string_view username, std::string_view address) {
  if (options_.max_failures == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase(Key(username, address));
}

size_t LoginThrottle::tracked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace quayd
