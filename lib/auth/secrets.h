// Random tokens and their storage form. Internal to the library.
//
// Every secret the library issues (robot, app-specific and OAuth tokens) is
// drawn from libsodium's CSPRNG, shown once, and stored only as its SHA-256:
// a fast hash is enough for secrets with >= 256 bits of entropy (unlike
// passwords, which go through password.h). Stored and presented hashes are
// compared in constant time.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace quay::auth {

// `length` characters of [A-Za-z0-9], uniformly distributed (~5.95 bits each).
std::string RandomToken(size_t length);
// `count` random bytes as 2 * count lowercase hex characters.
std::string RandomHex(size_t count);
// A random (version 4) UUID in its 36-character text form.
std::string NewUuid();
// The raw 32-byte SHA-256 of `data`.
std::string Sha256(std::string_view data);
// Equal contents, in time independent of where they differ. Lengths are not
// secret (hashes have a fixed length).
bool ConstantTimeEqual(std::string_view a, std::string_view b);

}  // namespace quay::auth
