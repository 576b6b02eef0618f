#include "auth/secrets.h"

#include <sodium.h>

#include <cstdint>

#include "auth/sodium_init.h"

namespace quay::auth {

std::string RandomToken(size_t length) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  EnsureSodium();
  std::string out(length, '\0');
  // randombytes_uniform rejects biased draws itself.
  for (auto& ch : out) ch = kAlphabet[randombytes_uniform(sizeof(kAlphabet) - 1)];
  return out;
}

std::string RandomHex(size_t count) {
  EnsureSodium();
  std::string bytes(count, '\0');
  randombytes_buf(bytes.data(), bytes.size());
  std::string out(2 * count + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                 bytes.size());
  sodium_memzero(bytes.data(), bytes.size());
  out.pop_back();  // the terminating NUL
  return out;
}

std::string NewUuid() {
  EnsureSodium();
  unsigned char b[16];
  randombytes_buf(b, sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 0xf];
  }
  return out;
}

std::string Sha256(std::string_view data) {
  EnsureSodium();
  std::string out(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()),
                     reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return out;
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size() || a.empty()) return false;
  EnsureSodium();
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace quay::auth
