// The JWT parser (lib/auth/jwt.h). The first byte picks what the rest is:
//  even: a whole compact token, verified against an ES256 key every kid
//        names, as a forged or mangled token from the wire would be;
//  odd:  "<header JSON>\n<claims JSON>", which the fuzzer signs with that
//        key, so the claims parser and the time checks behind the signature
//        check are reached too.
// Checked: a token that verifies has the required issuer and audience and is
// inside its validity window.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "jwt.h"

namespace {

using quay::auth::JwtSigner;

constexpr int64_t kNow = 1700000000;

const JwtSigner& Signer() {
  static const std::shared_ptr<const JwtSigner> signer = [] {
    auto generated = JwtSigner::Generate(quay::auth::JwtAlgorithm::kES256);
    if (!generated.ok()) std::abort();
    return *generated;
  }();
  return *signer;
}

quay::auth::JwtVerifyOptions Options() {
  quay::auth::JwtVerifyOptions o;
  o.issuer = "quay";
  o.audience = "registry.example:5000";
  o.now = kNow;
  o.max_lifetime_seconds = 3600;  // exercises the lifetime arithmetic
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return -1;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const JwtSigner& signer = Signer();

  std::string token;
  if ((data[0] & 1) == 0) {
    token.assign(rest);
  } else {
    const size_t newline = rest.find('\n');
    if (newline == std::string_view::npos) return -1;
    token = quay::auth::Base64UrlEncode(rest.substr(0, newline)) + "." +
            quay::auth::Base64UrlEncode(rest.substr(newline + 1));
    quay::Result<std::string> signature = signer.SignInput(token);
    if (!signature.ok()) std::abort();
    token += ".";
    token += *signature;
  }

  const quay::auth::KeyLookup lookup = [&signer](std::string_view) { return signer.PublicKey(); };
  const quay::auth::JwtVerifyOptions options = Options();
  quay::Result<quay::auth::JwtClaims> claims = quay::auth::VerifyJwt(token, options, lookup);
  if (!claims.ok()) {
    if (claims.status().code() != quay::Code::kUnauthenticated) std::abort();
    return 0;
  }
  if (claims->issuer != options.issuer || claims->audience != options.audience) std::abort();
  if (claims->expires_at <= kNow - options.leeway_seconds) std::abort();

  // Base64url round trip on the same bytes.
  quay::Result<std::string> decoded =
      quay::auth::Base64UrlDecode(quay::auth::Base64UrlEncode(rest));
  if (!decoded.ok() || *decoded != rest) std::abort();
  return 0;
}
