// The failed-login back-off (quay/login_throttle.h): an account table (a
// hash map of bounded size) and a fixed slot array for names that are no
// account, whose slots hold a keyed 64-bit fingerprint of the key instead of
// the key, so its memory is allocated once and never grows.
#include "quay/login_throttle.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/sodium_init.h"

namespace quay {
namespace {

// Usernames longer than this are cut for the key (they fail anyway).
constexpr size_t kMaxKeyUsername = 256;
// A full account table is swept of idle keys at most this often, so that a
// flood against a full table costs O(1) per attempt, not a sweep each.
constexpr auto kSweepInterval = std::chrono::seconds(1);

struct Entry {
  uint32_t failures = 0;
  Clock::TimePoint first_failure{};
  Clock::TimePoint blocked_until{};
};

struct UnknownSlot {
  uint64_t fingerprint = 0;  // 0: empty
  Entry entry;
};

class LoginThrottleImpl final : public LoginThrottle {
 public:
  LoginThrottleImpl(const LoginThrottleOptions& options, std::shared_ptr<Clock> clock)
      : options_(options),
        clock_(clock ? std::move(clock) : Clock::System()),
        unknown_(options.max_failures == 0 ? 0 : std::max<size_t>(options.max_unknown_entries, 1)) {
    auth::EnsureSodium();
    randombytes_buf(hash_key_.data(), hash_key_.size());
  }

  std::chrono::seconds RetryAfter(std::string_view username, std::string_view address) override {
    if (options_.max_failures == 0) return std::chrono::seconds(0);
    const auto now = clock_->Now();
    const std::string key = Key(username, address);
    const uint64_t fingerprint = Fingerprint(key);
    std::lock_guard<std::mutex> lock(mu_);
    Clock::TimePoint until{};
    if (auto it = accounts_.find(key); it != accounts_.end()) until = it->second.blocked_until;
    if (const UnknownSlot& slot = SlotOf(fingerprint); slot.fingerprint == fingerprint) {
      until = std::max(until, slot.entry.blocked_until);
    }
    if (now >= until) return std::chrono::seconds(0);
    auto wait = std::chrono::ceil<std::chrono::seconds>(until - now);
    return std::max(wait, std::chrono::seconds(1));
  }

  void RecordFailure(std::string_view username, std::string_view address, LoginName name) override {
    if (options_.max_failures == 0) return;
    const auto now = clock_->Now();
    std::string key = Key(username, address);
    std::lock_guard<std::mutex> lock(mu_);
    if (name == LoginName::kUnknown) {
      const uint64_t fingerprint = Fingerprint(key);
      UnknownSlot& slot = SlotOf(fingerprint);
      if (slot.fingerprint != fingerprint) {
        // Whatever held the slot was another made-up name: it loses its count.
        if (slot.fingerprint == 0) ++unknown_used_;
        slot.fingerprint = fingerprint;
        slot.entry = Entry{};
      }
      Count(slot.entry, now);
      return;
    }
    auto it = accounts_.find(key);
    if (it == accounts_.end()) {
      if (accounts_.size() >= options_.max_entries) {
        if (now - last_sweep_ < kSweepInterval) return;
        last_sweep_ = now;
        std::erase_if(accounts_, [&](const auto& kv) { return Idle(kv.second, now); });
        if (accounts_.size() >= options_.max_entries) return;
      }
      it = accounts_.emplace(std::move(key), Entry{}).first;
    }
    Count(it->second, now);
  }

  void RecordSuccess(std::string_view username, std::string_view address) override {
    if (options_.max_failures == 0) return;
    const std::string key = Key(username, address);
    const uint64_t fingerprint = Fingerprint(key);
    std::lock_guard<std::mutex> lock(mu_);
    accounts_.erase(key);
    if (UnknownSlot& slot = SlotOf(fingerprint); slot.fingerprint == fingerprint) {
      slot = UnknownSlot{};
      --unknown_used_;
    }
  }

  LoginThrottleSize size() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return LoginThrottleSize{accounts_.size(), unknown_used_};
  }

  const LoginThrottleOptions& options() const override { return options_; }

 private:
  static std::string Key(std::string_view username, std::string_view address) {
    std::string key(username.substr(0, kMaxKeyUsername));
    key += '\0';
    key += address;
    return key;
  }

  // SipHash-2-4 under a per-instance random key: nobody can aim a made-up
  // name at the slot (or fingerprint) of someone else's key.
  uint64_t Fingerprint(const std::string& key) const {
    std::array<unsigned char, crypto_shorthash_BYTES> out{};
    crypto_shorthash(out.data(), reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                     hash_key_.data());
    uint64_t v = 0;
    for (unsigned char b : out) v = (v << 8) | b;
    return v == 0 ? 1 : v;  // 0 marks an empty slot
  }

  UnknownSlot& SlotOf(uint64_t fingerprint) { return unknown_[fingerprint % unknown_.size()]; }

  bool Idle(const Entry& entry, Clock::TimePoint now) const {
    return now >= entry.blocked_until && now - entry.first_failure >= options_.window;
  }

  void Count(Entry& e, Clock::TimePoint now) const {
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

  const LoginThrottleOptions options_;
  std::shared_ptr<Clock> clock_;
  std::array<unsigned char, crypto_shorthash_KEYBYTES> hash_key_{};
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> accounts_;
  Clock::TimePoint last_sweep_{};
  std::vector<UnknownSlot> unknown_;
  size_t unknown_used_ = 0;
};

}  // namespace

std::unique_ptr<LoginThrottle> LoginThrottle::New(const LoginThrottleOptions& options,
                                                  std::shared_ptr<Clock> clock) {
  return std::make_unique<LoginThrottleImpl>(options, std::move(clock));
}

}  // namespace quay
