// Encryption of secrets the library keeps in the database (Quay's
// DATABASE_SECRET_KEY field encryption), today the private halves of token
// signing keys. Internal to the library.
//
// Key: HKDF-SHA256 over the configured secret (its bytes, as given) with a
// fixed salt, expanded twice with different labels: a 32-byte AES-256-GCM key
// and an 8-byte key id. The key id is stored in every value, so a value
// written under another secret is told apart from a damaged one.
//
// Stored form (text, so it fits the existing TEXT columns):
//
//   qenc1.<key id: 16 hex>.<base64url(nonce[12] | ciphertext | tag[16])>
//
// "qenc1" is the format version; a later format gets a new prefix and this
// one stays readable. The nonce is random per value (96 bits: collisions are
// negligible for the few thousand values a key ever seals). The GCM tag
// authenticates the ciphertext, the "qenc1.<key id>" header and the caller's
// associated data (e.g. the row's key id), so a value copied onto another row
// or edited in place fails to open.
//
// The secret should be random (quayd generates 32 bytes); HKDF does not
// strengthen a guessable one.
//
// Thread safety: immutable after construction; safe to share.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "quay/status.h"

namespace quay::auth {

class FieldCipher {
 public:
  // InvalidArgument if `secret` is empty; Internal if OpenSSL fails.
  static Result<FieldCipher> FromSecret(std::string_view secret);

  FieldCipher(const FieldCipher&) = default;
  FieldCipher& operator=(const FieldCipher&) = default;
  ~FieldCipher();  // wipes the key

  // The stored form of `plaintext`, bound to `associated_data`.
  Result<std::string> Seal(std::string_view plaintext, std::string_view associated_data) const;

  enum class OpenError : unsigned char {
    kNone,
    kUnknownFormat,  // not a sealed value, or a version this code does not read
    kWrongKey,       // sealed under a different secret
    kCorrupt,        // right secret, but the value or its associated data changed
  };
  struct Opened {
    OpenError error = OpenError::kNone;
    std::string plaintext;  // set when error == kNone
  };
  // Never fails with a Status: the caller words the error for its context
  // (which row, which setting to fix).
  Opened Open(std::string_view sealed, std::string_view associated_data) const;

  // Whether `value` has the sealed form's prefix (any version).
  static bool LooksSealed(std::string_view value);

 private:
  FieldCipher() = default;

  std::array<unsigned char, 32> key_{};
  std::string key_id_;  // 16 hex characters
};

}  // namespace quay::auth
