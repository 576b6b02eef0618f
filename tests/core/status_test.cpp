#include "quay/status.h"

#include <doctest/doctest.h>

namespace quay {
namespace {

TEST_CASE("a default Status is OK and prints as OK") {
  Status s;
  CHECK(s.ok());
  CHECK(s.code() == Code::kOk);
  CHECK(s.subject() == Subject::kNone);
  CHECK(s.ToString() == "OK");
  CHECK(Status::Ok().ToString() == "OK");
}

TEST_CASE("ToString names the code, the subject and the message") {
  CHECK(Status::NotFound(Subject::kBlob, "sha256:abc unknown").ToString() ==
        "NotFound(blob): sha256:abc unknown");
  CHECK(Status::InvalidArgument(Subject::kName, "bad").ToString() == "InvalidArgument(name): bad");
  CHECK(Status::Unsupported(Subject::kMediaType, "schema 1").ToString() ==
        "Unsupported(media type): schema 1");
  CHECK(Status::DigestMismatch("x").ToString() == "DigestMismatch(digest): x");
  CHECK(Status::SizeMismatch("x").ToString() == "SizeMismatch(size): x");
  CHECK(Status::RangeInvalid(Subject::kRange, "x").ToString() == "RangeInvalid(range): x");
  CHECK(Status::TooLarge(Subject::kManifest, "x").ToString() == "TooLarge(manifest): x");
  CHECK(Status::Conflict(Subject::kUpload, "x").ToString() == "Conflict(upload): x");
}

TEST_CASE("ToString omits an absent subject and an empty message") {
  CHECK(Status::Denied("no push").ToString() == "Denied: no push");
  CHECK(Status::Unauthenticated("").ToString() == "Unauthenticated");
  CHECK(Status::Unavailable("db busy").ToString() == "Unavailable: db busy");
  CHECK(Status::Internal("oops").ToString() == "Internal: oops");
  CHECK(Status::NotFound(Subject::kTag, "").ToString() == "NotFound(tag)");
}

TEST_CASE("Result carries either a value or the error") {
  Result<int> good = 7;
  REQUIRE(good.ok());
  CHECK(*good == 7);
  CHECK(good.status().ok());

  Result<int> bad = Status::NotFound(Subject::kRepository, "gone");
  CHECK_FALSE(bad.ok());
  CHECK(bad.status().IsNotFound());
  CHECK(bad.status().subject() == Subject::kRepository);
}

}  // namespace
}  // namespace quay
