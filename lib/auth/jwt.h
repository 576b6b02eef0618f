// Registry bearer tokens: compact JSON Web Tokens (RFC 7519) signed with
// RS256 (RSA-2048+, PKCS#1 v1.5, SHA-256) or ES256 (ECDSA P-256, SHA-256),
// in the shape Docker's token authentication uses:
//
//   header  {"alg":"RS256","typ":"JWT","kid":"<key id>"}
//   claims  {"iss","sub","aud","iat","nbf","exp","jti",
//            "access":[{"type":"repository","name":"ns/repo","actions":["pull"]}],
//            "context":{...string fields...}}
//
// A JwtSigner issues tokens; VerifyJwt checks one against the public key its
// `kid` names (looked up through a callback, so keys can come from a store
// shared by several instances), then the issuer, audience and the nbf/exp
// window with a small leeway. Anything else -- `alg` "none" or not matching
// the key's type, bad base64url, bad JSON, an unknown kid, a bad signature --
// is Unauthenticated with a message that names the reason and never echoes
// the token.
//
// All crypto goes through OpenSSL's EVP interface. No OpenSSL type appears
// here: keys are held behind pimpl handles. Thread safety: JwtSigner and
// JwtPublicKey are immutable after construction and safe to share between
// threads; VerifyJwt is reentrant.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "quay/export.h"
#include "quay/status.h"

namespace quay::auth {

enum class JwtAlgorithm : unsigned char {
  kRS256,  // RSA, PKCS#1 v1.5 with SHA-256 (Quay's choice; cheapest to verify)
  kES256,  // ECDSA P-256 with SHA-256 (smaller keys, cheaper to sign)
};

QUAY_EXPORT std::string_view JwtAlgorithmName(JwtAlgorithm alg);  // "RS256" / "ES256"

// One entry of Docker's "access" claim.
struct JwtAccess {
  std::string type;                  // "repository" (or "registry" for the catalog)
  std::string name;                  // "ns/repo" as requested
  std::vector<std::string> actions;  // "pull", "push", "delete", "*"
};

struct JwtClaims {
  std::string issuer;      // iss
  std::string subject;     // sub: the user or robot name, "(anonymous)"
  std::string audience;    // aud: the registry service name
  std::string id;          // jti: unique per token (random when issued empty)
  int64_t issued_at = 0;   // iat, seconds since the Unix epoch
  int64_t not_before = 0;  // nbf
  int64_t expires_at = 0;  // exp
  std::vector<JwtAccess> access;
  // Flat string fields of the private "context" claim (e.g. the kind of
  // principal the subject is). Empty: the claim is omitted.
  std::map<std::string, std::string> context;
};

// base64url without padding (RFC 4648 section 5), as JWS uses it.
QUAY_EXPORT std::string Base64UrlEncode(std::string_view bytes);
// Strict: rejects padding, whitespace, characters outside the alphabet and
// impossible lengths. InvalidArgument on malformed input.
QUAY_EXPORT Result<std::string> Base64UrlDecode(std::string_view text);

// A public key that verifies signatures of one algorithm.
class QUAY_EXPORT JwtPublicKey {
 public:
  // Parses a PEM "PUBLIC KEY" (SubjectPublicKeyInfo). InvalidArgument when
  // the PEM is unreadable or the key is neither RSA >= 2048 bits nor P-256.
  static Result<std::shared_ptr<const JwtPublicKey>> FromPublicPem(std::string_view pem);

  ~JwtPublicKey();
  JwtAlgorithm algorithm() const { return alg_; }
  // True when `signature` (JWS form: raw r||s for ES256) signs `input`.
  bool Verify(std::string_view input, std::string_view signature) const;

  struct Impl;
  JwtPublicKey(std::unique_ptr<Impl> impl, JwtAlgorithm alg);

 private:
  std::unique_ptr<Impl> impl_;
  JwtAlgorithm alg_;
};

// A private key with its key id; signs tokens.
class QUAY_EXPORT JwtSigner {
 public:
  // A fresh key: RSA-2048 for RS256, P-256 for ES256. Its kid is KeyIdOf()
  // its public key. Internal if OpenSSL fails.
  static Result<std::shared_ptr<const JwtSigner>> Generate(JwtAlgorithm alg);
  // Parses a PEM private key (PKCS#8 or traditional; never prompts for a
  // passphrase). An empty `kid` derives it from the public key.
  static Result<std::shared_ptr<const JwtSigner>> FromPrivatePem(std::string_view pem,
                                                                 std::string kid = "");

  ~JwtSigner();
  const std::string& kid() const { return kid_; }
  JwtAlgorithm algorithm() const { return alg_; }
  std::string PrivatePem() const;  // PKCS#8 PEM
  std::string PublicPem() const;   // SubjectPublicKeyInfo PEM
  std::shared_ptr<const JwtPublicKey> PublicKey() const { return public_; }

  // The compact token for `claims` (a random jti when claims.id is empty).
  // Internal if OpenSSL fails.
  Result<std::string> Sign(const JwtClaims& claims) const;
  // The base64url JWS signature over `signing_input` ("<header>.<claims>",
  // both base64url). Sign() uses it; tests use it to build odd tokens.
  Result<std::string> SignInput(std::string_view signing_input) const;

  struct Impl;
  JwtSigner(std::unique_ptr<Impl> impl, JwtAlgorithm alg, std::string kid,
            std::shared_ptr<const JwtPublicKey> public_key);

 private:
  std::unique_ptr<Impl> impl_;
  JwtAlgorithm alg_;
  std::string kid_;
  std::shared_ptr<const JwtPublicKey> public_;
};

// A stable id for a public key: base64url of the first 16 bytes of the
// SHA-256 of its DER SubjectPublicKeyInfo (22 characters).
QUAY_EXPORT Result<std::string> KeyIdOfPublicPem(std::string_view public_pem);

struct JwtVerifyOptions {
  std::string issuer;    // required value of iss
  std::string audience;  // required member of aud (string or array)
  int64_t now = 0;       // seconds since the Unix epoch
  // Clock skew tolerated on nbf and exp (Quay: 30 s). Default: 30.
  int64_t leeway_seconds = 30;
  // A token whose exp - iat exceeds this is rejected (0: no limit); guards
  // against tokens minted with an absurd lifetime. Default: 0.
  int64_t max_lifetime_seconds = 0;
};

// The key for a kid, or null when the kid is unknown. Called once per
// verification; may block (a database read) and must be thread-safe.
using KeyLookup = std::function<std::shared_ptr<const JwtPublicKey>(std::string_view kid)>;

// Checks signature, algorithm, issuer, audience and time window, and returns
// the claims. Unauthenticated on any failure. Never throws.
QUAY_EXPORT Result<JwtClaims> VerifyJwt(std::string_view token, const JwtVerifyOptions& options,
                                        const KeyLookup& lookup);

}  // namespace quay::auth
