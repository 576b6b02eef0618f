#include "auth/field_cipher.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <memory>

#include "auth/jwt.h"  // Base64UrlEncode / Base64UrlDecode

namespace quay::auth {
namespace {

constexpr std::string_view kPrefix = "qenc";
constexpr std::string_view kVersion1 = "qenc1";
constexpr size_t kKeyIdBytes = 8;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;

// Fixed labels: changing any of them changes every derived key, so they are
// part of the stored format (version 1).
constexpr std::string_view kSalt = "libquay database secret v1";
constexpr std::string_view kEncryptionInfo = "libquay field encryption v1: aes-256-gcm key";
constexpr std::string_view kKeyIdInfo = "libquay field encryption v1: key id";

struct KdfDeleter {
  void operator()(EVP_KDF* k) const { EVP_KDF_free(k); }
  void operator()(EVP_KDF_CTX* c) const { EVP_KDF_CTX_free(c); }
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

bool Hkdf(std::string_view secret, std::string_view info, unsigned char* out, size_t out_len) {
  std::unique_ptr<EVP_KDF, KdfDeleter> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  if (!kdf) return false;
  std::unique_ptr<EVP_KDF_CTX, KdfDeleter> ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx) return false;
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<char*>(secret.data()),
                                        secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(kSalt.data()),
                                        kSalt.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()),
                                        info.size()),
      OSSL_PARAM_construct_end(),
  };
  return EVP_KDF_derive(ctx.get(), out, out_len, params) == 1;
}

std::string Hex(const unsigned char* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 0xf];
  }
  return out;
}

// What GCM authenticates besides the ciphertext: the header (so the key id
// and version cannot be swapped) and the caller's data, separated by a NUL.
std::string AssociatedData(std::string_view header, std::string_view caller) {
  std::string aad(header);
  aad += '\0';
  aad += caller;
  return aad;
}

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

FieldCipher::~FieldCipher() { OPENSSL_cleanse(key_.data(), key_.size()); }

Result<FieldCipher> FieldCipher::FromSecret(std::string_view secret) {
  if (secret.empty()) {
    return Status::InvalidArgument(Subject::kNone, "the database secret key is empty");
  }
  FieldCipher cipher;
  unsigned char id[kKeyIdBytes];
  if (!Hkdf(secret, kEncryptionInfo, cipher.key_.data(), cipher.key_.size()) ||
      !Hkdf(secret, kKeyIdInfo, id, sizeof(id))) {
    return Status::Internal("failed to derive the database encryption key (OpenSSL HKDF)");
  }
  cipher.key_id_ = Hex(id, sizeof(id));
  return cipher;
}

bool FieldCipher::LooksSealed(std::string_view value) {
  return value.substr(0, kPrefix.size()) == kPrefix;
}

Result<std::string> FieldCipher::Seal(std::string_view plaintext,
                                      std::string_view associated_data) const {
  const std::string header = std::string(kVersion1) + "." + key_id_;
  const std::string aad = AssociatedData(header, associated_data);
  std::string raw(kNonceBytes + plaintext.size() + kTagBytes, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(raw.data());
  unsigned char* body = nonce + kNonceBytes;
  if (RAND_bytes(nonce, static_cast<int>(kNonceBytes)) != 1) {
    return Status::Internal("failed to draw a nonce (OpenSSL RAND_bytes)");
  }
  std::unique_ptr<EVP_CIPHER_CTX, KdfDeleter> ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  int total = 0;
  bool ok = ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1;
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) == 1;
  ok = ok && EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key_.data(), nonce) == 1;
  ok = ok &&
       EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) == 1;
  ok = ok && EVP_EncryptUpdate(ctx.get(), body, &len, Bytes(plaintext),
                               static_cast<int>(plaintext.size())) == 1;
  total = len;
  ok = ok && EVP_EncryptFinal_ex(ctx.get(), body + total, &len) == 1;
  total += len;
  ok = ok && static_cast<size_t>(total) == plaintext.size() &&
       EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, body + total) == 1;
  if (!ok) return Status::Internal("failed to encrypt (OpenSSL AES-256-GCM)");
  std::string out = header;
  out += '.';
  out += Base64UrlEncode(raw);
  return out;
}

FieldCipher::Opened FieldCipher::Open(std::string_view sealed,
                                      std::string_view associated_data) const {
  Opened out;
  // qenc1.<16 hex>.<base64url>
  const size_t first = sealed.find('.');
  const size_t second = first == std::string_view::npos ? first : sealed.find('.', first + 1);
  if (first == std::string_view::npos || second == std::string_view::npos ||
      sealed.substr(0, first) != kVersion1 || second - first - 1 != 2 * kKeyIdBytes) {
    out.error = OpenError::kUnknownFormat;
    return out;
  }
  const std::string_view header = sealed.substr(0, second);
  if (sealed.substr(first + 1, 2 * kKeyIdBytes) != key_id_) {
    out.error = OpenError::kWrongKey;
    return out;
  }
  Result<std::string> raw = Base64UrlDecode(sealed.substr(second + 1));
  if (!raw.ok() || raw->size() < kNonceBytes + kTagBytes) {
    out.error = OpenError::kCorrupt;
    return out;
  }
  const std::string aad = AssociatedData(header, associated_data);
  const auto* nonce = Bytes(*raw);
  const size_t body_len = raw->size() - kNonceBytes - kTagBytes;
  const unsigned char* body = nonce + kNonceBytes;
  std::string plain(body_len, '\0');
  auto* plain_bytes = reinterpret_cast<unsigned char*>(plain.data());
  std::unique_ptr<EVP_CIPHER_CTX, KdfDeleter> ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  int total = 0;
  bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1;
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) == 1;
  ok = ok && EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key_.data(), nonce) == 1;
  ok = ok &&
       EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) == 1;
  ok = ok && EVP_DecryptUpdate(ctx.get(), plain_bytes, &len, body, static_cast<int>(body_len)) == 1;
  total = len;
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes,
                                 const_cast<unsigned char*>(body + body_len)) == 1;
  // The tag check happens here: nothing decrypted is returned unless it passes.
  ok = ok && EVP_DecryptFinal_ex(ctx.get(), plain_bytes + total, &len) == 1;
  if (!ok) {
    OPENSSL_cleanse(plain.data(), plain.size());
    out.error = OpenError::kCorrupt;
    return out;
  }
  out.plaintext = std::move(plain);
  return out;
}

}  // namespace quay::auth
