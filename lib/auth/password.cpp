#include "auth/password.h"

#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <semaphore>
#include <thread>

#include "auth/sodium_init.h"

namespace quay::auth {
namespace {

struct Cost {
  unsigned long long ops;
  size_t mem;
};

Cost CostOf(PasswordHashCost cost) {
  switch (cost) {
    case PasswordHashCost::kInteractive:
      return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
    case PasswordHashCost::kModerate:
      return {crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE};
    case PasswordHashCost::kMinimum:
      // argon2id's floor (crypto_pwhash_OPSLIMIT_MIN is argon2i's, lower).
      return {1, crypto_pwhash_MEMLIMIT_MIN};
  }
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

// argon2id at the INTERACTIVE cost takes 64 MiB and ~0.25 s of a core. Run
// unbounded, a burst of logins (docker and skopeo fetch a token per
// repository) on 256 connection threads could claim 16 GiB and starve every
// other request of CPU. At most one computation per core runs at once; the
// others wait their turn, which costs them nothing they would not have spent
// competing for the cores anyway.
class HashGate {
 public:
  HashGate() : slots_(Slots()) {}
  void Enter() { slots_.acquire(); }
  void Leave() { slots_.release(); }

 private:
  static std::ptrdiff_t Slots() {
    return std::clamp<std::ptrdiff_t>(std::thread::hardware_concurrency(), 1, 64);
  }
  std::counting_semaphore<64> slots_;
};

HashGate& Gate() {
  static HashGate gate;
  return gate;
}

std::atomic<int> g_in_flight{0};
std::atomic<int> g_peak{0};

struct GateTurn {
  GateTurn() {
    Gate().Enter();
    const int now = ++g_in_flight;
    int peak = g_peak.load();
    while (now > peak && !g_peak.compare_exchange_weak(peak, now)) {
    }
  }
  ~GateTurn() {
    --g_in_flight;
    Gate().Leave();
  }
  GateTurn(const GateTurn&) = delete;
  GateTurn& operator=(const GateTurn&) = delete;
};

}  // namespace

Result<std::string> HashPassword(std::string_view password, PasswordHashCost cost) {
  EnsureSodium();
  const Cost c = CostOf(cost);
  char out[crypto_pwhash_STRBYTES];
  GateTurn turn;
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), c.ops, c.mem,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::Internal("password hashing failed (out of memory)");
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view hash, std::string_view password) {
  EnsureSodium();
  // crypto_pwhash_str_verify wants a NUL-terminated hash.
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  const std::string h(hash);
  GateTurn turn;
  return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

void VerifyPasswordDecoy(std::string_view password, PasswordHashCost cost) {
  // One decoy hash per cost, made on first use.
  static std::mutex mu;
  static std::string decoys[3];
  std::string decoy;
  {
    std::lock_guard lock(mu);
    auto& slot = decoys[static_cast<int>(cost)];
    if (slot.empty()) {
      auto h = HashPassword("decoy password never matched", cost);
      if (h.ok()) slot = *h;
    }
    decoy = slot;
  }
  (void)VerifyPassword(decoy, password);
}

int PeakConcurrentPasswordHashes() { return g_peak.load(); }

}  // namespace quay::auth
