#include "quay/reference.h"

#include <doctest/doctest.h>

#include <string>

namespace quay {
namespace {

TEST_CASE("valid repository names") {
  const char* good[] = {"a",     "library/ubuntu",  "quay/app-1", "a__b",    "a_b",
                        "a.b",   "a---b",           "0",          "a/b/c/d", "my.org/x_y/z",
                        "9a/b9", "foo.bar-baz__qux"};
  for (const char* name : good) {
    CAPTURE(name);
    CHECK(ValidateRepositoryName(name).ok());
  }
  CHECK(ValidateRepositoryName(std::string(255, 'a')).ok());
  std::string long_path = std::string(127, 'a') + "/" + std::string(127, 'b');
  CHECK(ValidateRepositoryName(long_path).ok());
}

TEST_CASE("invalid repository names are InvalidArgument(kName)") {
  const char* bad[] = {
      "",      "..",    "a/../b", "/abs", "a//b", "a/",   "A",     "Library/ubuntu",
      "a%2Fb", "a___b", "-a",     "a-",   "a.",   ".a",   "_a",    "a..b",
      "a._b",  "a_-b",  "a-_b",   "a b",  "a:b",  "a\\b", "a/./b", "a\n",
      "a@b",   "a/B",   "é",      "a/.",  "a/-b", "a__",  "a/b/",  "./a",
  };
  for (const char* name : bad) {
    CAPTURE(name);
    Status s = ValidateRepositoryName(name);
    CHECK(s.code() == Code::kInvalidArgument);
    CHECK(s.subject() == Subject::kName);
    CHECK_FALSE(s.message().empty());
  }
  CHECK_FALSE(ValidateRepositoryName(std::string(256, 'a')).ok());
  CHECK_FALSE(ValidateRepositoryName(std::string(128, 'a') + "/" + std::string(127, 'b')).ok());
  CHECK_FALSE(ValidateRepositoryName(std::string_view("a\0b", 3)).ok());
}

TEST_CASE("repository name errors say what is wrong") {
  auto message = [](std::string_view name) { return ValidateRepositoryName(name).message(); };
  CHECK(message("a//b") == "repository name component must not be empty");
  CHECK(message("/abs") == "repository name component must not be empty");
  CHECK(message("") == "repository name must not be empty");
  CHECK(message("A") == "repository name must be lower-case");
  CHECK(message("a/Bc") == "repository name must be lower-case");
  CHECK(message(std::string(256, 'a')).find("255") != std::string::npos);
  CHECK(message("a%2Fb").find("'%'") != std::string::npos);
  CHECK(message("a___b").find("\"___\"") != std::string::npos);
  CHECK(message("a-").find("must end with") != std::string::npos);
  CHECK(message("..").find("must start with") != std::string::npos);
  CHECK(message("a\x01").find("0x01") != std::string::npos);
}

TEST_CASE("valid and invalid tags") {
  const char* good[] = {"latest", "v1.0.0", "_hidden", "1", "A-b_c.D", "sha256-abc.sig"};
  for (const char* tag : good) {
    CAPTURE(tag);
    CHECK(ValidateTag(tag).ok());
  }
  CHECK(ValidateTag(std::string(128, 'x')).ok());

  const char* bad[] = {"", ".hidden", "-x", "a:b", "a/b", "a b", "a@b", "tag+1"};
  for (const char* tag : bad) {
    CAPTURE(tag);
    Status s = ValidateTag(tag);
    CHECK(s.code() == Code::kInvalidArgument);
    CHECK(s.subject() == Subject::kTag);
  }
  CHECK(ValidateTag(std::string(129, 'x')).code() == Code::kInvalidArgument);
  CHECK(ValidateTag(std::string(129, 'x')).message().find("128") != std::string::npos);
  CHECK(ValidateTag("").message() == "tag must not be empty");
}

TEST_CASE("Reference::Parse tells tags from digests") {
  auto tag = Reference::Parse("v1.2");
  REQUIRE(tag.ok());
  CHECK_FALSE(tag->is_digest());
  CHECK(tag->tag() == "v1.2");
  CHECK(tag->digest().empty());
  CHECK(tag->str() == "v1.2");

  std::string text = Digest::Of("x").str();
  auto digest = Reference::Parse(text);
  REQUIRE(digest.ok());
  CHECK(digest->is_digest());
  CHECK(digest->tag().empty());
  CHECK(digest->digest() == Digest::Of("x"));
  CHECK(digest->str() == text);
}

TEST_CASE("Reference::Parse reports the right subject for each failure") {
  CHECK(Reference::Parse("bad tag").status().subject() == Subject::kTag);
  CHECK(Reference::Parse("").status().subject() == Subject::kTag);
  auto bad_digest = Reference::Parse("sha256:nothex");
  CHECK(bad_digest.status().code() == Code::kInvalidArgument);
  CHECK(bad_digest.status().subject() == Subject::kDigest);
  auto unknown = Reference::Parse("sha384:abcd");
  CHECK(unknown.status().code() == Code::kUnsupported);
  CHECK(unknown.status().subject() == Subject::kDigest);
}

}  // namespace
}  // namespace quay
