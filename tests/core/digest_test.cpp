#include "quay/digest.h"

#include <doctest/doctest.h>

#include <string>
#include <unordered_set>

namespace quay {
namespace {

const std::string kEmptySha256 =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const std::string kAbcSha256 =
    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const std::string kAbcSha512 =
    "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";

Code ParseCode(std::string_view text) { return Digest::Parse(text).status().code(); }

TEST_CASE("Parse accepts sha256 and sha512 and splits algorithm from hex") {
  auto d = Digest::Parse(kAbcSha256);
  REQUIRE(d.ok());
  CHECK(d->algorithm() == DigestAlgorithm::kSha256);
  CHECK(d->algorithm_name() == "sha256");
  CHECK(d->hex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(d->str() == kAbcSha256);
  CHECK_FALSE(d->empty());

  auto d512 = Digest::Parse(kAbcSha512);
  REQUIRE(d512.ok());
  CHECK(d512->algorithm() == DigestAlgorithm::kSha512);
  CHECK(d512->algorithm_name() == "sha512");
  CHECK(d512->hex().size() == 128);
}

TEST_CASE("Parse rejects malformed digests as InvalidArgument(kDigest)") {
  const std::string hex64(64, 'a');
  const char* bad[] = {
      "",
      "sha256",                            // no colon
      "e3b0c44298fc1c149afbf4c8996fb924",  // no algorithm
      ":abc",                              // empty algorithm
      "sha256:",                           // empty hex
  };
  for (const char* text : bad) {
    CAPTURE(text);
    auto r = Digest::Parse(text);
    CHECK(r.status().code() == Code::kInvalidArgument);
    CHECK(r.status().subject() == Subject::kDigest);
  }
  CHECK(ParseCode("sha256:" + std::string(63, 'a')) == Code::kInvalidArgument);
  CHECK(ParseCode("sha256:" + std::string(65, 'a')) == Code::kInvalidArgument);
  CHECK(ParseCode("sha256:" + std::string(64, 'A')) == Code::kInvalidArgument);  // upper case
  CHECK(ParseCode("sha256:" + std::string(63, 'a') + "g") == Code::kInvalidArgument);
  CHECK(ParseCode("SHA256:" + hex64) == Code::kInvalidArgument);  // algorithm is lower-case
  CHECK(ParseCode("sha256:" + hex64 + ":x") == Code::kInvalidArgument);
  CHECK(ParseCode(" sha256:" + hex64) == Code::kInvalidArgument);
  CHECK(ParseCode("sha512:" + hex64) == Code::kInvalidArgument);  // sha512 needs 128
  CHECK(ParseCode("sha512:" + std::string(128, 'F')) == Code::kInvalidArgument);
  CHECK(ParseCode("sha384:abc/def") == Code::kInvalidArgument);  // '/' outside the grammar
  CHECK(ParseCode("sha..256:abc") == Code::kInvalidArgument);    // doubled separator
  CHECK(ParseCode("-sha:abc") == Code::kInvalidArgument);
}

TEST_CASE("Parse explains what is wrong") {
  CHECK(Digest::Parse("sha256:abc").status().message().find("64") != std::string::npos);
  CHECK(Digest::Parse("sha256").status().message().find("algorithm:hex") != std::string::npos);
}

TEST_CASE("Parse reports well-formed but unknown algorithms as Unsupported(kDigest)") {
  const char* unsupported[] = {
      "sha384:9a0364b9e99bb480dd25e1f0284c8555",
      "md5:d41d8cd98f00b204e9800998ecf8427e",
      "blake3:abcDEF012=_-",
      "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8",
      "sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564",
  };
  for (const char* text : unsupported) {
    CAPTURE(text);
    auto r = Digest::Parse(text);
    CHECK(r.status().code() == Code::kUnsupported);
    CHECK(r.status().subject() == Subject::kDigest);
  }
}

TEST_CASE("Of hashes known vectors") {
  CHECK(Digest::Of("").str() == kEmptySha256);
  CHECK(Digest::Of("abc").str() == kAbcSha256);
  CHECK(Digest::Of("abc", DigestAlgorithm::kSha512).str() == kAbcSha512);
  CHECK(Digest::Of("abc") == Digest::Parse(kAbcSha256).value());
}

TEST_CASE("Digester matches known vectors and lower-case hex") {
  Digester empty;
  Digest e = empty.Finish();
  CHECK(e.str() == kEmptySha256);
  CHECK(e.algorithm() == DigestAlgorithm::kSha256);

  Digester d;
  d.Update("abc", 3);
  CHECK(d.bytes() == 3);
  CHECK(d.Finish().str() == kAbcSha256);

  Digester d512(DigestAlgorithm::kSha512);
  CHECK(d512.algorithm() == DigestAlgorithm::kSha512);
  d512.Update("abc", 3);
  Digest r512 = d512.Finish();
  CHECK(r512.str() == kAbcSha512);
  CHECK(r512.algorithm() == DigestAlgorithm::kSha512);
  // What Finish produces must round-trip through Parse.
  CHECK(Digest::Parse(r512.str()).ok());
}

TEST_CASE("streaming in pieces equals hashing in one shot") {
  std::string data;
  for (int i = 0; i < 100000; ++i) data += static_cast<char>(i * 31 + 7);
  for (DigestAlgorithm alg : {DigestAlgorithm::kSha256, DigestAlgorithm::kSha512}) {
    Digester d(alg);
    size_t off = 0;
    size_t piece = 1;
    while (off < data.size()) {
      size_t n = std::min(piece, data.size() - off);
      d.Update(data.data() + off, n);
      off += n;
      piece = piece * 3 + 1;
    }
    d.Update(nullptr, 0);
    CHECK(d.bytes() == data.size());
    CHECK(d.Finish() == Digest::Of(data, alg));
  }
}

TEST_CASE("Reset starts a fresh hash and a moved Digester keeps its state") {
  Digester d;
  d.Update("garbage", 7);
  d.Reset();
  CHECK(d.bytes() == 0);
  d.Update("ab", 2);
  Digester moved(std::move(d));
  moved.Update("c", 1);
  CHECK(moved.bytes() == 3);
  CHECK(moved.Finish().str() == kAbcSha256);

  moved.Reset();
  Digester assigned(DigestAlgorithm::kSha512);
  assigned = std::move(moved);
  CHECK(assigned.algorithm() == DigestAlgorithm::kSha256);
  CHECK(assigned.Finish().str() == kEmptySha256);
}

TEST_CASE("Finish twice without Reset yields an empty digest, not a wrong one") {
  Digester d;
  d.Update("abc", 3);
  CHECK(d.Finish().str() == kAbcSha256);
  CHECK(d.Finish().empty());
}

TEST_CASE("Digests compare and hash by value") {
  Digest a = Digest::Of("a");
  Digest b = Digest::Of("b");
  CHECK(a != b);
  CHECK(a == Digest::Of("a"));
  CHECK((a < b) != (b < a));
  std::unordered_set<Digest> set{a, b, Digest::Of("a")};
  CHECK(set.size() == 2);
  Digest placeholder;
  CHECK(placeholder.empty());
  CHECK(placeholder.hex().empty());
}

}  // namespace
}  // namespace quay
