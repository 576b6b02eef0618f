// Registry JWTs: a good token verifies; every way a token can be wrong (bad
// signature, wrong audience or issuer, expired, not yet valid, unknown kid,
// malformed base64url or JSON, alg "none", algorithm confusion) is rejected.
#include "auth/jwt.h"

#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>

namespace quay::auth {
namespace {

constexpr int64_t kNow = 1'700'000'000;

JwtClaims SampleClaims() {
  JwtClaims c;
  c.issuer = "quay";
  c.subject = "alice";
  c.audience = "registry.example:5000";
  c.issued_at = kNow;
  c.not_before = kNow;
  c.expires_at = kNow + 3600;
  c.access.push_back({"repository", "alice/app", {"pull", "push"}});
  c.context = {{"kind", "user"}};
  return c;
}

JwtVerifyOptions Options(int64_t now = kNow) {
  JwtVerifyOptions o;
  o.issuer = "quay";
  o.audience = "registry.example:5000";
  o.now = now;
  return o;
}

// Keys by kid, as the host's store-backed lookup would serve them.
struct Keys {
  std::map<std::string, std::shared_ptr<const JwtPublicKey>, std::less<>> by_kid;
  void Add(const JwtSigner& signer) { by_kid[signer.kid()] = signer.PublicKey(); }
  KeyLookup lookup() const {
    return [this](std::string_view kid) -> std::shared_ptr<const JwtPublicKey> {
      auto it = by_kid.find(kid);
      return it == by_kid.end() ? nullptr : it->second;
    };
  }
};

std::shared_ptr<const JwtSigner> NewSigner(JwtAlgorithm alg) {
  auto signer = JwtSigner::Generate(alg);
  REQUIRE(signer.ok());
  return *signer;
}

std::string SignOrDie(const JwtSigner& signer, const JwtClaims& claims) {
  auto token = signer.Sign(claims);
  REQUIRE(token.ok());
  return *token;
}

// The three dot-separated parts of a compact token.
struct Parts {
  std::string header, claims, signature;
};
Parts Split(const std::string& token) {
  size_t a = token.find('.');
  size_t b = token.find('.', a + 1);
  return {token.substr(0, a), token.substr(a + 1, b - a - 1), token.substr(b + 1)};
}
std::string Join(const Parts& p) { return p.header + "." + p.claims + "." + p.signature; }

bool RejectedWith(const Result<JwtClaims>& r, std::string_view reason) {
  if (r.ok()) return false;
  CHECK(r.status().code() == Code::kUnauthenticated);
  CAPTURE(r.status().message());
  return r.status().message().find(reason) != std::string::npos;
}

TEST_CASE("base64url round-trips and rejects what is not canonical base64url") {
  for (std::string s :
       {std::string(), std::string("f"), std::string("fo"), std::string("foo"), std::string("foob"),
        std::string("fooba"), std::string("foobar"), std::string("\0\xff\xfe", 3)}) {
    auto decoded = Base64UrlDecode(Base64UrlEncode(s));
    REQUIRE(decoded.ok());
    CHECK(*decoded == s);
  }
  CHECK(Base64UrlEncode("\xfb\xff") == "-_8");
  CHECK_FALSE(Base64UrlDecode("Zg==").ok());    // padding
  CHECK_FALSE(Base64UrlDecode("Z").ok());       // impossible length
  CHECK_FALSE(Base64UrlDecode("Zm9v+/").ok());  // standard alphabet
  CHECK_FALSE(Base64UrlDecode("Zm 9").ok());
  CHECK_FALSE(Base64UrlDecode("Zh").ok());  // non-zero unused bits
  CHECK(Base64UrlDecode("Zg").ok());
}

TEST_CASE("a good token verifies, for RS256 and ES256") {
  for (JwtAlgorithm alg : {JwtAlgorithm::kRS256, JwtAlgorithm::kES256}) {
    CAPTURE(JwtAlgorithmName(alg));
    auto signer = NewSigner(alg);
    Keys keys;
    keys.Add(*signer);
    std::string token = SignOrDie(*signer, SampleClaims());

    Parts parts = Split(token);
    auto header = Base64UrlDecode(parts.header);
    REQUIRE(header.ok());
    CHECK(header->find("\"kid\":\"" + signer->kid() + "\"") != std::string::npos);
    CHECK(header->find(std::string("\"alg\":\"") + std::string(JwtAlgorithmName(alg)) + "\"") !=
          std::string::npos);

    auto claims = VerifyJwt(token, Options(), keys.lookup());
    REQUIRE(claims.ok());
    CHECK(claims->issuer == "quay");
    CHECK(claims->subject == "alice");
    CHECK(claims->audience == "registry.example:5000");
    CHECK(claims->issued_at == kNow);
    CHECK(claims->not_before == kNow);
    CHECK(claims->expires_at == kNow + 3600);
    CHECK(claims->id.size() == 32);  // random jti
    REQUIRE(claims->access.size() == 1);
    CHECK(claims->access[0].type == "repository");
    CHECK(claims->access[0].name == "alice/app");
    CHECK(claims->access[0].actions == std::vector<std::string>{"pull", "push"});
    CHECK(claims->context.at("kind") == "user");

    // Two tokens of the same claims differ by jti.
    CHECK(SignOrDie(*signer, SampleClaims()) != token);
  }
}

TEST_CASE("keys survive a PEM round trip (what the signing-key store holds)") {
  auto signer = NewSigner(JwtAlgorithm::kRS256);
  auto reloaded = JwtSigner::FromPrivatePem(signer->PrivatePem(), signer->kid());
  REQUIRE(reloaded.ok());
  CHECK((*reloaded)->kid() == signer->kid());
  auto derived = KeyIdOfPublicPem(signer->PublicPem());
  REQUIRE(derived.ok());
  CHECK(*derived == signer->kid());

  auto pub = JwtPublicKey::FromPublicPem(signer->PublicPem());
  REQUIRE(pub.ok());
  std::string token = SignOrDie(**reloaded, SampleClaims());
  std::string kid = signer->kid();
  auto claims =
      VerifyJwt(token, Options(), [&](std::string_view k) { return k == kid ? *pub : nullptr; });
  CHECK(claims.ok());

  CHECK_FALSE(JwtPublicKey::FromPublicPem("not a pem").ok());
  CHECK_FALSE(
      JwtSigner::FromPrivatePem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
          .ok());
}

TEST_CASE("a bad signature is rejected") {
  auto signer = NewSigner(JwtAlgorithm::kRS256);
  Keys keys;
  keys.Add(*signer);
  Parts parts = Split(SignOrDie(*signer, SampleClaims()));

  SUBCASE("flipped signature bit") {
    auto sig = Base64UrlDecode(parts.signature);
    REQUIRE(sig.ok());
    (*sig)[10] = static_cast<char>((*sig)[10] ^ 1);
    parts.signature = Base64UrlEncode(*sig);
    CHECK(RejectedWith(VerifyJwt(Join(parts), Options(), keys.lookup()), "bad signature"));
  }
  SUBCASE("claims changed after signing (more access)") {
    JwtClaims more = SampleClaims();
    more.access[0].actions.push_back("*");
    parts.claims = Split(SignOrDie(*signer, more)).claims;
    CHECK(RejectedWith(VerifyJwt(Join(parts), Options(), keys.lookup()), "bad signature"));
  }
  SUBCASE("signed by another key under the same kid") {
    auto other = NewSigner(JwtAlgorithm::kRS256);
    auto forged = JwtSigner::FromPrivatePem(other->PrivatePem(), signer->kid());
    REQUIRE(forged.ok());
    CHECK(RejectedWith(VerifyJwt(SignOrDie(**forged, SampleClaims()), Options(), keys.lookup()),
                       "bad signature"));
  }
  SUBCASE("empty signature") {
    parts.signature.clear();
    CHECK(RejectedWith(VerifyJwt(Join(parts), Options(), keys.lookup()), "signature"));
  }
  SUBCASE("ES256 signature of the wrong length") {
    auto es = NewSigner(JwtAlgorithm::kES256);
    keys.Add(*es);
    Parts p = Split(SignOrDie(*es, SampleClaims()));
    auto sig = Base64UrlDecode(p.signature);
    REQUIRE(sig.ok());
    CHECK(sig->size() == 64);
    p.signature = Base64UrlEncode(sig->substr(0, 63));
    CHECK(RejectedWith(VerifyJwt(Join(p), Options(), keys.lookup()), "bad signature"));
  }
}

TEST_CASE("wrong audience or issuer is rejected") {
  auto signer = NewSigner(JwtAlgorithm::kES256);
  Keys keys;
  keys.Add(*signer);
  std::string token = SignOrDie(*signer, SampleClaims());

  JwtVerifyOptions other_service = Options();
  other_service.audience = "other.example";
  CHECK(RejectedWith(VerifyJwt(token, other_service, keys.lookup()), "wrong audience"));

  JwtVerifyOptions other_issuer = Options();
  other_issuer.issuer = "someone-else";
  CHECK(RejectedWith(VerifyJwt(token, other_issuer, keys.lookup()), "wrong issuer"));
}

TEST_CASE("expiry and not-before are checked with the leeway") {
  auto signer = NewSigner(JwtAlgorithm::kRS256);
  Keys keys;
  keys.Add(*signer);
  std::string token = SignOrDie(*signer, SampleClaims());

  CHECK(VerifyJwt(token, Options(kNow + 3600 + 29), keys.lookup()).ok());  // inside leeway
  CHECK(RejectedWith(VerifyJwt(token, Options(kNow + 3600 + 30), keys.lookup()), "expired"));
  CHECK(RejectedWith(VerifyJwt(token, Options(kNow + 86400), keys.lookup()), "expired"));

  CHECK(VerifyJwt(token, Options(kNow - 30), keys.lookup()).ok());
  CHECK(RejectedWith(VerifyJwt(token, Options(kNow - 31), keys.lookup()), "not yet valid"));

  JwtVerifyOptions strict = Options(kNow + 3600);
  strict.leeway_seconds = 0;
  CHECK(RejectedWith(VerifyJwt(token, strict, keys.lookup()), "expired"));

  JwtVerifyOptions capped = Options();
  capped.max_lifetime_seconds = 600;
  CHECK(RejectedWith(VerifyJwt(token, capped, keys.lookup()), "lifetime too long"));
}

TEST_CASE("an unknown kid is rejected") {
  auto signer = NewSigner(JwtAlgorithm::kRS256);
  Keys keys;  // empty: the key was never stored, or it expired
  std::string token = SignOrDie(*signer, SampleClaims());
  CHECK(RejectedWith(VerifyJwt(token, Options(), keys.lookup()), "unknown kid"));
  CHECK(RejectedWith(VerifyJwt(token, Options(), nullptr), "unknown kid"));

  // A rotated key keeps verifying while it is still served by the lookup.
  keys.Add(*signer);
  auto next = NewSigner(JwtAlgorithm::kRS256);
  keys.Add(*next);
  CHECK(VerifyJwt(token, Options(), keys.lookup()).ok());
  CHECK(VerifyJwt(SignOrDie(*next, SampleClaims()), Options(), keys.lookup()).ok());
}

TEST_CASE("malformed tokens are rejected cleanly") {
  auto signer = NewSigner(JwtAlgorithm::kRS256);
  Keys keys;
  keys.Add(*signer);
  Parts good = Split(SignOrDie(*signer, SampleClaims()));
  auto verify = [&](const std::string& token) {
    return VerifyJwt(token, Options(), keys.lookup());
  };

  for (std::string bad : {std::string(""), std::string("abc"), std::string("a.b"),
                          std::string("a.b.c.d"), std::string(".."), Join(good) + "."}) {
    CAPTURE(bad);
    CHECK_FALSE(verify(bad).ok());
  }
  // Not base64url.
  CHECK(RejectedWith(verify("!!!." + good.claims + "." + good.signature), "bad header encoding"));
  CHECK(RejectedWith(verify(good.header + "." + good.claims + ".a+b/"), "signature encoding"));
  // Header not JSON / not an object / trailing garbage.
  CHECK(
      RejectedWith(verify(Base64UrlEncode("{\"alg\":") + "." + good.claims + "." + good.signature),
                   "bad header JSON"));
  CHECK(RejectedWith(verify(Base64UrlEncode("[1]") + "." + good.claims + "." + good.signature),
                     "bad header JSON"));
  CHECK(RejectedWith(verify(Base64UrlEncode(*Base64UrlDecode(good.header) + "x") + "." +
                            good.claims + "." + good.signature),
                     "bad header JSON"));
  // Header without kid.
  CHECK(RejectedWith(
      verify(Base64UrlEncode("{\"alg\":\"RS256\"}") + "." + good.claims + "." + good.signature),
      "no kid"));
  // A crit header we cannot honour.
  CHECK(RejectedWith(verify(Base64UrlEncode("{\"alg\":\"RS256\",\"kid\":\"" + signer->kid() +
                                            "\",\"crit\":[\"x\"]}") +
                            "." + good.claims + "." + good.signature),
                     "crit"));

  // Claims that are not JSON or have the wrong shape, correctly signed.
  std::string header_json = *Base64UrlDecode(good.header);
  for (std::string claims_json :
       {std::string("not json"), std::string("[]"), std::string("{\"iss\":\"quay\"}"),
        std::string("{\"iss\":\"quay\",\"aud\":\"registry.example:5000\",\"exp\":\"soon\"}"),
        std::string("{\"iss\":7,\"exp\":1800000000}"),
        std::string("{\"iss\":\"quay\",\"exp\":1800000000,\"access\":{}}"),
        std::string("{\"iss\":\"quay\",\"exp\":1800000000,\"access\":[{\"type\":1}]}"),
        std::string("{\"iss\":\"quay\",\"exp\":1800000000,\"access\":[{\"type\":\"repository\","
                    "\"name\":\"a/b\",\"actions\":[1]}]}"),
        std::string("{\"iss\":\"quay\",\"exp\":1800000000,\"aud\":[1]}"),
        std::string("{\"iss\":\"quay\",\"exp\":1800000000}")}) {  // no aud
    CAPTURE(claims_json);
    std::string input = Base64UrlEncode(header_json) + "." + Base64UrlEncode(claims_json);
    auto signature = signer->SignInput(input);
    REQUIRE(signature.ok());
    auto r = verify(input + "." + *signature);
    CHECK_FALSE(r.ok());
    CHECK(r.status().code() == Code::kUnauthenticated);
  }
  // The same machinery accepts a hand-made token that is well formed, with
  // aud given as an array.
  std::string input = Base64UrlEncode(header_json) + "." +
                      Base64UrlEncode(
                          "{\"iss\":\"quay\",\"exp\":1700003600,\"aud\":[\"x\","
                          "\"registry.example:5000\"],\"sub\":\"bob\"}");
  auto signature = signer->SignInput(input);
  REQUIRE(signature.ok());
  auto ok = verify(input + "." + *signature);
  REQUIRE(ok.ok());
  CHECK(ok->subject == "bob");
  CHECK(ok->audience == "registry.example:5000");
}

TEST_CASE("alg none, HS256 and algorithm confusion are rejected") {
  auto rsa = NewSigner(JwtAlgorithm::kRS256);
  auto ec = NewSigner(JwtAlgorithm::kES256);
  Keys keys;
  keys.Add(*rsa);
  keys.Add(*ec);
  Parts good = Split(SignOrDie(*rsa, SampleClaims()));
  auto verify = [&](const std::string& token) {
    return VerifyJwt(token, Options(), keys.lookup());
  };

  auto with_header = [&](const std::string& header_json, const std::string& signature) {
    return Base64UrlEncode(header_json) + "." + good.claims + "." + signature;
  };
  CHECK(RejectedWith(verify(with_header("{\"alg\":\"none\",\"kid\":\"" + rsa->kid() + "\"}", "")),
                     "unsupported alg"));
  CHECK(RejectedWith(
      verify(with_header("{\"alg\":\"none\",\"kid\":\"" + rsa->kid() + "\"}", good.signature)),
      "unsupported alg"));
  CHECK(RejectedWith(
      verify(with_header("{\"alg\":\"HS256\",\"kid\":\"" + rsa->kid() + "\"}", good.signature)),
      "unsupported alg"));
  CHECK(RejectedWith(
      verify(with_header("{\"alg\":\"ES256\",\"kid\":\"" + rsa->kid() + "\"}", good.signature)),
      "alg does not match the key"));
  CHECK(RejectedWith(
      verify(with_header("{\"alg\":\"RS256\",\"kid\":\"" + ec->kid() + "\"}", good.signature)),
      "alg does not match the key"));
  // "None" spelled differently is just as unsupported.
  CHECK(RejectedWith(verify(with_header("{\"alg\":\"NONE\",\"kid\":\"" + rsa->kid() + "\"}", "")),
                     "unsupported alg"));
}

TEST_CASE("claims with impossible times are rejected even when correctly signed") {
  auto signer = NewSigner(JwtAlgorithm::kES256);
  Keys keys;
  keys.Add(*signer);

  JwtClaims no_exp = SampleClaims();
  no_exp.expires_at = 0;  // "exp": 0 -> long expired
  CHECK(RejectedWith(VerifyJwt(SignOrDie(*signer, no_exp), Options(), keys.lookup()), "expired"));

  JwtClaims future = SampleClaims();
  future.issued_at = kNow + 3600;
  future.not_before = kNow;
  future.expires_at = kNow + 7200;
  CHECK(RejectedWith(VerifyJwt(SignOrDie(*signer, future), Options(), keys.lookup()),
                     "issued in the future"));

  JwtClaims empty_issuer = SampleClaims();
  empty_issuer.issuer.clear();
  CHECK(RejectedWith(VerifyJwt(SignOrDie(*signer, empty_issuer), Options(), keys.lookup()),
                     "wrong issuer"));
}

TEST_CASE("a lifetime too long to compute is rejected, not overflowed (fuzz/jwt_fuzzer)") {
  auto signer = NewSigner(JwtAlgorithm::kES256);
  Keys keys;
  keys.Add(*signer);
  JwtVerifyOptions options = Options();
  options.max_lifetime_seconds = 3600;

  JwtClaims far = SampleClaims();
  far.issued_at = -9000000000000000000;  // exp - iat does not fit in int64
  far.not_before = kNow;
  far.expires_at = 9000000000000000000;
  CHECK(RejectedWith(VerifyJwt(SignOrDie(*signer, far), options, keys.lookup()),
                     "lifetime too long"));

  JwtClaims fine = SampleClaims();  // iat kNow, exp kNow + 1h: exactly the limit
  fine.expires_at = fine.issued_at + 3600;
  CHECK(VerifyJwt(SignOrDie(*signer, fine), options, keys.lookup()).ok());
}

TEST_CASE("error messages never echo the token") {
  auto signer = NewSigner(JwtAlgorithm::kRS256);
  Keys keys;
  std::string token = SignOrDie(*signer, SampleClaims());
  auto r = VerifyJwt(token, Options(), keys.lookup());
  REQUIRE_FALSE(r.ok());
  Parts parts = Split(token);
  CHECK(r.status().message().find(parts.signature) == std::string::npos);
  CHECK(r.status().message().find(parts.claims) == std::string::npos);
}

}  // namespace
}  // namespace quay::auth
