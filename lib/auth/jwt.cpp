#include "auth/jwt.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <cstring>
#include <limits>
#include <optional>

namespace quay::auth {

// ---- OpenSSL handles ----

struct JwtPublicKey::Impl {
  EVP_PKEY* pkey = nullptr;
  ~Impl() { EVP_PKEY_free(pkey); }
};

struct JwtSigner::Impl {
  EVP_PKEY* pkey = nullptr;
  ~Impl() { EVP_PKEY_free(pkey); }
};

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigFree>;

constexpr size_t kEs256Half = 32;  // bytes of r and of s in a JWS ES256 signature
constexpr int kMinRsaBits = 2048;
// A token larger than this is garbage, not a registry token.
constexpr size_t kMaxTokenBytes = 64 * 1024;

Status Unauthenticated(std::string why) { return Status::Unauthenticated("invalid token: " + why); }

// Which JWS algorithm a key can serve; nullopt for anything else (DSA, small
// RSA, other curves).
std::optional<JwtAlgorithm> AlgorithmOf(EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "RSA")) {
    if (EVP_PKEY_get_bits(pkey) < kMinRsaBits) return std::nullopt;
    return JwtAlgorithm::kRS256;
  }
  if (EVP_PKEY_is_a(pkey, "EC")) {
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &len) != 1) {
      return std::nullopt;
    }
    std::string_view name(group, len);
    if (name == "prime256v1" || name == "P-256") return JwtAlgorithm::kES256;
  }
  return std::nullopt;
}

std::string BioToString(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

BioPtr ReadOnlyBio(std::string_view text) {
  if (text.size() > static_cast<size_t>(std::numeric_limits<int>::max())) return nullptr;
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// Refuses to prompt for a passphrase (OpenSSL's default callback reads the tty).
int NoPassphrase(char*, int, int, void*) { return 0; }

std::string PublicPemOf(EVP_PKEY* pkey) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), pkey) != 1) return {};
  return BioToString(bio.get());
}

Result<std::string> KeyIdOf(EVP_PKEY* pkey) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(pkey, &der);
  if (len <= 0) return Status::Internal("cannot encode the public key");
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int md_len = 0;
  int ok = EVP_Digest(der, static_cast<size_t>(len), md.data(), &md_len, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  if (ok != 1) return Status::Internal("cannot hash the public key");
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(md.data()), 16));
}

// Raw r||s (JWS) <-> DER ECDSA-Sig-Value (OpenSSL).
std::string EcdsaDerToRaw(const unsigned char* der, size_t len) {
  const unsigned char* p = der;
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len)));
  if (!sig) return {};
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw(2 * kEs256Half, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, kEs256Half) != static_cast<int>(kEs256Half) ||
      BN_bn2binpad(s, out + kEs256Half, kEs256Half) != static_cast<int>(kEs256Half)) {
    return {};
  }
  return raw;
}

std::string EcdsaRawToDer(std::string_view raw) {
  if (raw.size() != 2 * kEs256Half) return {};
  const auto* in = reinterpret_cast<const unsigned char*>(raw.data());
  BIGNUM* r = BN_bin2bn(in, kEs256Half, nullptr);
  BIGNUM* s = BN_bin2bn(in + kEs256Half, kEs256Half, nullptr);
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return {};
  }
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return {};
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

// ---- JSON ----

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void WriteString(Writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

std::string HeaderJson(JwtAlgorithm alg, std::string_view kid) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("alg");
  WriteString(w, JwtAlgorithmName(alg));
  w.Key("typ");
  w.String("JWT");
  w.Key("kid");
  WriteString(w, kid);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    return {};
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes);
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string ClaimsJson(const JwtClaims& c, const std::string& jti) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("iss");
  WriteString(w, c.issuer);
  w.Key("sub");
  WriteString(w, c.subject);
  w.Key("aud");
  WriteString(w, c.audience);
  w.Key("iat");
  w.Int64(c.issued_at);
  w.Key("nbf");
  w.Int64(c.not_before);
  w.Key("exp");
  w.Int64(c.expires_at);
  w.Key("jti");
  WriteString(w, jti);
  w.Key("access");
  w.StartArray();
  for (const JwtAccess& a : c.access) {
    w.StartObject();
    w.Key("type");
    WriteString(w, a.type);
    w.Key("name");
    WriteString(w, a.name);
    w.Key("actions");
    w.StartArray();
    for (const std::string& action : a.actions) WriteString(w, action);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  if (!c.context.empty()) {
    w.Key("context");
    w.StartObject();
    for (const auto& [key, value] : c.context) {
      WriteString(w, key);
      WriteString(w, value);
    }
    w.EndObject();
  }
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

bool ParseObject(std::string_view json, rapidjson::Document& doc) {
  // Without kParseStopWhenDoneFlag, bytes after the object are an error.
  doc.Parse(json.data(), json.size());
  return !doc.HasParseError() && doc.IsObject();
}

// Reads a string member; false if present with another type.
bool GetString(const rapidjson::Value& obj, const char* key, std::string& out, bool& present) {
  auto it = obj.FindMember(key);
  present = it != obj.MemberEnd();
  if (!present) return true;
  if (!it->value.IsString()) return false;
  out.assign(it->value.GetString(), it->value.GetStringLength());
  return true;
}

// NumericDate: an integer (a float with a fraction is truncated, as RFC 7519
// allows non-integers). False if present with another type or out of range.
bool GetTime(const rapidjson::Value& obj, const char* key, int64_t& out, bool& present) {
  auto it = obj.FindMember(key);
  present = it != obj.MemberEnd();
  if (!present) return true;
  if (it->value.IsInt64()) {
    out = it->value.GetInt64();
    return true;
  }
  if (it->value.IsDouble()) {
    double d = it->value.GetDouble();
    if (!(d > -9.2e18 && d < 9.2e18)) return false;
    out = static_cast<int64_t>(d);
    return true;
  }
  return false;
}

Status ParseClaims(const rapidjson::Document& doc, JwtClaims& c) {
  bool present = false;
  if (!GetString(doc, "iss", c.issuer, present) || !present) return Unauthenticated("bad iss");
  if (!GetString(doc, "sub", c.subject, present)) return Unauthenticated("bad sub");
  if (!GetString(doc, "jti", c.id, present)) return Unauthenticated("bad jti");
  if (!GetTime(doc, "exp", c.expires_at, present) || !present) return Unauthenticated("bad exp");
  if (!GetTime(doc, "nbf", c.not_before, present)) return Unauthenticated("bad nbf");
  if (!GetTime(doc, "iat", c.issued_at, present)) return Unauthenticated("bad iat");

  auto access = doc.FindMember("access");
  if (access != doc.MemberEnd()) {
    if (!access->value.IsArray()) return Unauthenticated("bad access");
    for (const auto& entry : access->value.GetArray()) {
      if (!entry.IsObject()) return Unauthenticated("bad access");
      JwtAccess a;
      bool has_type = false, has_name = false;
      if (!GetString(entry, "type", a.type, has_type) || !has_type ||
          !GetString(entry, "name", a.name, has_name) || !has_name) {
        return Unauthenticated("bad access");
      }
      auto actions = entry.FindMember("actions");
      if (actions != entry.MemberEnd()) {
        if (!actions->value.IsArray()) return Unauthenticated("bad access");
        for (const auto& action : actions->value.GetArray()) {
          if (!action.IsString()) return Unauthenticated("bad access");
          a.actions.emplace_back(action.GetString(), action.GetStringLength());
        }
      }
      c.access.push_back(std::move(a));
    }
  }
  auto context = doc.FindMember("context");
  if (context != doc.MemberEnd() && context->value.IsObject()) {
    for (const auto& m : context->value.GetObject()) {
      if (!m.value.IsString()) continue;  // only flat string fields are ours
      c.context.emplace(std::string(m.name.GetString(), m.name.GetStringLength()),
                        std::string(m.value.GetString(), m.value.GetStringLength()));
    }
  }
  return Status::Ok();
}

bool AudienceMatches(const rapidjson::Document& doc, std::string_view want, std::string& first) {
  auto aud = doc.FindMember("aud");
  if (aud == doc.MemberEnd()) return false;
  if (aud->value.IsString()) {
    first.assign(aud->value.GetString(), aud->value.GetStringLength());
    return first == want;
  }
  if (!aud->value.IsArray()) return false;
  bool found = false;
  for (const auto& v : aud->value.GetArray()) {
    if (!v.IsString()) return false;
    std::string_view s(v.GetString(), v.GetStringLength());
    if (first.empty()) first = s;
    if (s == want) {
      first = s;
      found = true;
    }
  }
  return found;
}

}  // namespace

// ---- base64url ----

std::string Base64UrlEncode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8) |
                 uint32_t(uint8_t(bytes[i + 2]));
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (rest == 2) {
    uint32_t v = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

Result<std::string> Base64UrlDecode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  if (text.size() % 4 == 1) {
    return Status::InvalidArgument(Subject::kNone, "base64url text has an impossible length");
  }
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = value(c);
    if (v < 0) return Status::InvalidArgument(Subject::kNone, "not base64url");
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  // The unused low bits of the last character must be zero (canonical form),
  // so one token has exactly one encoding.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
    return Status::InvalidArgument(Subject::kNone, "non-canonical base64url");
  }
  return out;
}

std::string_view JwtAlgorithmName(JwtAlgorithm alg) {
  return alg == JwtAlgorithm::kES256 ? "ES256" : "RS256";
}

// ---- JwtPublicKey ----

JwtPublicKey::JwtPublicKey(std::unique_ptr<Impl> impl, JwtAlgorithm alg)
    : impl_(std::move(impl)), alg_(alg) {}
JwtPublicKey::~JwtPublicKey() = default;

Result<std::shared_ptr<const JwtPublicKey>> JwtPublicKey::FromPublicPem(std::string_view pem) {
  BioPtr bio = ReadOnlyBio(pem);
  if (!bio) return Status::InvalidArgument(Subject::kNone, "public key PEM too large");
  auto impl = std::make_unique<Impl>();
  impl->pkey = PEM_read_bio_PUBKEY(bio.get(), nullptr, &NoPassphrase, nullptr);
  if (impl->pkey == nullptr) {
    return Status::InvalidArgument(Subject::kNone, "unreadable public key PEM");
  }
  std::optional<JwtAlgorithm> alg = AlgorithmOf(impl->pkey);
  if (!alg) {
    return Status::InvalidArgument(Subject::kNone, "public key is neither RSA-2048+ nor P-256");
  }
  return std::shared_ptr<const JwtPublicKey>(std::make_shared<JwtPublicKey>(std::move(impl), *alg));
}

bool JwtPublicKey::Verify(std::string_view input, std::string_view signature) const {
  std::string der;
  if (alg_ == JwtAlgorithm::kES256) {
    der = EcdsaRawToDer(signature);
    if (der.empty()) return false;
    signature = der;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, impl_->pkey) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                          input.size()) == 1;
}

// ---- JwtSigner ----

JwtSigner::JwtSigner(std::unique_ptr<Impl> impl, JwtAlgorithm alg, std::string kid,
                     std::shared_ptr<const JwtPublicKey> public_key)
    : impl_(std::move(impl)), alg_(alg), kid_(std::move(kid)), public_(std::move(public_key)) {}
JwtSigner::~JwtSigner() = default;

namespace {

Result<std::shared_ptr<const JwtSigner>> MakeSigner(PkeyPtr pkey, std::string kid) {
  std::optional<JwtAlgorithm> alg = AlgorithmOf(pkey.get());
  if (!alg) {
    return Status::InvalidArgument(Subject::kNone, "private key is neither RSA-2048+ nor P-256");
  }
  Result<std::shared_ptr<const JwtPublicKey>> pub =
      JwtPublicKey::FromPublicPem(PublicPemOf(pkey.get()));
  if (!pub.ok()) return pub.status();
  if (kid.empty()) {
    Result<std::string> derived = KeyIdOf(pkey.get());
    if (!derived.ok()) return derived.status();
    kid = std::move(derived).value();
  }
  auto impl = std::make_unique<JwtSigner::Impl>();
  impl->pkey = pkey.release();
  return std::shared_ptr<const JwtSigner>(
      std::make_shared<JwtSigner>(std::move(impl), *alg, std::move(kid), std::move(pub).value()));
}

}  // namespace

Result<std::shared_ptr<const JwtSigner>> JwtSigner::Generate(JwtAlgorithm alg) {
  PkeyCtxPtr ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, alg == JwtAlgorithm::kES256 ? "EC" : "RSA", nullptr));
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1) {
    return Status::Internal("cannot start key generation");
  }
  int set = alg == JwtAlgorithm::kES256 ? EVP_PKEY_CTX_set_group_name(ctx.get(), "P-256")
                                        : EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), kMinRsaBits);
  if (set != 1) return Status::Internal("cannot set key parameters");
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_generate(ctx.get(), &raw) != 1) return Status::Internal("key generation failed");
  return MakeSigner(PkeyPtr(raw), "");
}

Result<std::shared_ptr<const JwtSigner>> JwtSigner::FromPrivatePem(std::string_view pem,
                                                                   std::string kid) {
  BioPtr bio = ReadOnlyBio(pem);
  if (!bio) return Status::InvalidArgument(Subject::kNone, "private key PEM too large");
  PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, &NoPassphrase, nullptr));
  if (!pkey) return Status::InvalidArgument(Subject::kNone, "unreadable private key PEM");
  return MakeSigner(std::move(pkey), std::move(kid));
}

std::string JwtSigner::PrivatePem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), impl_->pkey, nullptr, nullptr, 0, nullptr,
                                       nullptr) != 1) {
    return {};
  }
  return BioToString(bio.get());
}

std::string JwtSigner::PublicPem() const { return PublicPemOf(impl_->pkey); }

Result<std::string> JwtSigner::Sign(const JwtClaims& claims) const {
  std::string jti = claims.id.empty() ? RandomHex(16) : claims.id;
  if (jti.empty()) return Status::Internal("no randomness for jti");
  std::string token = Base64UrlEncode(HeaderJson(alg_, kid_));
  token += '.';
  token += Base64UrlEncode(ClaimsJson(claims, jti));
  Result<std::string> signature = SignInput(token);
  if (!signature.ok()) return signature.status();
  token += '.';
  token += *signature;
  return token;
}

Result<std::string> JwtSigner::SignInput(std::string_view signing_input) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, impl_->pkey) != 1) {
    return Status::Internal("cannot start signing");
  }
  size_t len = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(signing_input.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &len, data, signing_input.size()) != 1) {
    return Status::Internal("cannot size the signature");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, data,
                     signing_input.size()) != 1) {
    return Status::Internal("signing failed");
  }
  sig.resize(len);
  if (alg_ == JwtAlgorithm::kES256) {
    sig = EcdsaDerToRaw(reinterpret_cast<const unsigned char*>(sig.data()), sig.size());
    if (sig.empty()) return Status::Internal("cannot encode the ECDSA signature");
  }
  return Base64UrlEncode(sig);
}

Result<std::string> KeyIdOfPublicPem(std::string_view public_pem) {
  BioPtr bio = ReadOnlyBio(public_pem);
  if (!bio) return Status::InvalidArgument(Subject::kNone, "public key PEM too large");
  PkeyPtr pkey(PEM_read_bio_PUBKEY(bio.get(), nullptr, &NoPassphrase, nullptr));
  if (!pkey) return Status::InvalidArgument(Subject::kNone, "unreadable public key PEM");
  return KeyIdOf(pkey.get());
}

// ---- verification ----

Result<JwtClaims> VerifyJwt(std::string_view token, const JwtVerifyOptions& options,
                            const KeyLookup& lookup) {
  if (token.empty() || token.size() > kMaxTokenBytes) return Unauthenticated("bad size");
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Unauthenticated("not a compact JWS");
  }
  const std::string_view header_b64 = token.substr(0, dot1);
  const std::string_view claims_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view sig_b64 = token.substr(dot2 + 1);

  Result<std::string> header_json = Base64UrlDecode(header_b64);
  if (!header_json.ok()) return Unauthenticated("bad header encoding");
  rapidjson::Document header;
  if (!ParseObject(*header_json, header)) return Unauthenticated("bad header JSON");
  std::string alg, kid, typ;
  bool has_alg = false, has_kid = false, has_typ = false;
  if (!GetString(header, "alg", alg, has_alg) || !has_alg) return Unauthenticated("no alg");
  if (!GetString(header, "kid", kid, has_kid) || !has_kid || kid.empty()) {
    return Unauthenticated("no kid");
  }
  if (!GetString(header, "typ", typ, has_typ)) return Unauthenticated("bad typ");
  // Extensions we do not understand must not be ignored (RFC 7515 4.1.11).
  if (header.HasMember("crit")) return Unauthenticated("unsupported crit header");

  // The algorithm is decided by the key, never by the token: "none", HS256
  // (public key used as an HMAC secret) and an RS/ES mix-up all fail here.
  if (alg != "RS256" && alg != "ES256") return Unauthenticated("unsupported alg");
  std::shared_ptr<const JwtPublicKey> key = lookup ? lookup(kid) : nullptr;
  if (!key) return Unauthenticated("unknown kid");
  if (JwtAlgorithmName(key->algorithm()) != alg) {
    return Unauthenticated("alg does not match the key");
  }

  Result<std::string> signature = Base64UrlDecode(sig_b64);
  if (!signature.ok() || signature->empty()) return Unauthenticated("bad signature encoding");
  if (!key->Verify(token.substr(0, dot2), *signature)) return Unauthenticated("bad signature");

  Result<std::string> claims_json = Base64UrlDecode(claims_b64);
  if (!claims_json.ok()) return Unauthenticated("bad claims encoding");
  rapidjson::Document doc;
  if (!ParseObject(*claims_json, doc)) return Unauthenticated("bad claims JSON");
  JwtClaims claims;
  if (Status parsed = ParseClaims(doc, claims); !parsed.ok()) return parsed;

  if (claims.issuer != options.issuer) return Unauthenticated("wrong issuer");
  if (!AudienceMatches(doc, options.audience, claims.audience)) {
    return Unauthenticated("wrong audience");
  }
  const int64_t leeway = options.leeway_seconds < 0 ? 0 : options.leeway_seconds;
  if (options.now - leeway >= claims.expires_at) return Unauthenticated("expired");
  if (doc.HasMember("nbf") && claims.not_before > options.now + leeway) {
    return Unauthenticated("not yet valid");
  }
  if (doc.HasMember("iat") && claims.issued_at > options.now + leeway) {
    return Unauthenticated("issued in the future");
  }
  if (options.max_lifetime_seconds > 0) {
    const int64_t start = doc.HasMember("iat") ? claims.issued_at : claims.not_before;
    // exp - start overflows int64 for far-apart times ("iat" -9e18, "exp"
    // 9e18: signed overflow, found by fuzz/jwt_fuzzer); the difference of two
    // int64 values always fits in uint64 when exp > start.
    if (claims.expires_at > start &&
        static_cast<uint64_t>(claims.expires_at) - static_cast<uint64_t>(start) >
            static_cast<uint64_t>(options.max_lifetime_seconds)) {
      return Unauthenticated("lifetime too long");
    }
  }
  return claims;
}

}  // namespace quay::auth
