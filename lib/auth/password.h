// Password hashing: argon2id through libsodium's crypto_pwhash_str, which
// salts, encodes its parameters into the hash, and verifies in constant time.
// Internal to the library.
#pragma once

#include <string>
#include <string_view>

#include "quay/options.h"
#include "quay/status.h"

namespace quay::auth {

// The encoded hash ("$argon2id$v=19$m=...,t=...,p=1$salt$hash"). Internal if
// libsodium cannot allocate the configured memory.
Result<std::string> HashPassword(std::string_view password, PasswordHashCost cost);

// Whether `password` matches `hash`. False for a malformed hash.
bool VerifyPassword(std::string_view hash, std::string_view password);

// Spends what a VerifyPassword against a real hash of `cost` would, for
// callers that found no account: a missing user must not answer faster than
// a wrong password.
void VerifyPasswordDecoy(std::string_view password, PasswordHashCost cost);

// Hash computations (HashPassword, VerifyPassword) run at most one per CPU
// at a time. The most that ever ran at once since the process started, for
// tests of that bound.
int PeakConcurrentPasswordHashes();

}  // namespace quay::auth
