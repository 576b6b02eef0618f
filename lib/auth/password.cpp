#include "auth/password.h"

#include <sodium.h>

#include <mutex>

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

}  // namespace

Result<std::string> HashPassword(std::string_view password, PasswordHashCost cost) {
  EnsureSodium();
  const Cost c = CostOf(cost);
  char out[crypto_pwhash_STRBYTES];
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

}  // namespace quay::auth
