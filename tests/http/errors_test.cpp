// The Status -> HTTP/OCI table (host/route/errors.h).
#include "host/route/errors.h"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

using quay::Status;
using quay::Subject;

namespace {

void Expect(const Status& status, int http, std::string_view code) {
  CAPTURE(status.ToString());
  quayd::HttpError mapped = quayd::MapStatus(status);
  CHECK(mapped.http_status == http);
  CHECK(mapped.oci_code == code);
}

}  // namespace

TEST_CASE("MapStatus: the OCI table") {
  Expect(Status::NotFound(Subject::kBlob, ""), 404, "BLOB_UNKNOWN");
  Expect(Status::NotFound(Subject::kUpload, ""), 404, "BLOB_UPLOAD_UNKNOWN");
  Expect(Status::NotFound(Subject::kManifest, ""), 404, "MANIFEST_UNKNOWN");
  Expect(Status::NotFound(Subject::kTag, ""), 404, "MANIFEST_UNKNOWN");
  Expect(Status::NotFound(Subject::kExpiredTag, ""), 404, "TAG_EXPIRED");
  Expect(Status::NotFound(Subject::kRepository, ""), 404, "NAME_UNKNOWN");
  Expect(Status::NotFound(Subject::kReference, ""), 400, "MANIFEST_BLOB_UNKNOWN");
  Expect(Status::NotFound(Subject::kNone, ""), 404, "NAME_UNKNOWN");
  Expect(Status::InvalidArgument(Subject::kName, ""), 400, "NAME_INVALID");
  Expect(Status::InvalidArgument(Subject::kDigest, ""), 400, "DIGEST_INVALID");
  Expect(Status::DigestMismatch(""), 400, "DIGEST_INVALID");
  Expect(Status::Unsupported(Subject::kDigest, ""), 400, "DIGEST_INVALID");
  for (Subject s : {Subject::kManifest, Subject::kTag, Subject::kReference, Subject::kMediaType}) {
    Expect(Status::InvalidArgument(s, ""), 400, "MANIFEST_INVALID");
  }
  Expect(Status::Unsupported(Subject::kMediaType, ""), 415, "MANIFEST_INVALID");
  Expect(Status::InvalidArgument(Subject::kUpload, ""), 400, "BLOB_UPLOAD_INVALID");
  Expect(Status::InvalidArgument(Subject::kRange, ""), 400, "BLOB_UPLOAD_INVALID");
  Expect(Status::InvalidArgument(Subject::kSize, ""), 400, "SIZE_INVALID");
  Expect(Status::SizeMismatch(""), 400, "SIZE_INVALID");
  Expect(Status::RangeInvalid(Subject::kUpload, ""), 416, "BLOB_UPLOAD_INVALID");
  Expect(Status::RangeInvalid(Subject::kRange, ""), 416, "RANGE_INVALID");
  Expect(Status::TooLarge(Subject::kManifest, ""), 413, "SIZE_INVALID");
  Expect(Status::TooLarge(Subject::kUpload, ""), 413, "BLOB_UPLOAD_INVALID");
  Expect(Status::Conflict(Subject::kUpload, ""), 409, "BLOB_UPLOAD_INVALID");
  Expect(Status::Unauthenticated(""), 401, "UNAUTHORIZED");
  Expect(Status::Denied(""), 403, "DENIED");
  Expect(Status::Unsupported(Subject::kNone, ""), 405, "UNSUPPORTED");
  Expect(Status::Unavailable(""), 503, "UNAVAILABLE");
  Expect(Status::NoSpace(""), 507, "UNAVAILABLE");
  Expect(Status::Internal(""), 500, "UNKNOWN");
}

namespace {

// A Status for (code, subject) through the public constructors; codes whose
// constructor fixes the subject ignore `s`.
Status Make(quay::Code code, Subject s) {
  switch (code) {
    case quay::Code::kOk:
      break;
    case quay::Code::kNotFound:
      return Status::NotFound(s, "");
    case quay::Code::kInvalidArgument:
      return Status::InvalidArgument(s, "");
    case quay::Code::kDigestMismatch:
      return Status::DigestMismatch("");
    case quay::Code::kSizeMismatch:
      return Status::SizeMismatch("");
    case quay::Code::kRangeInvalid:
      return Status::RangeInvalid(s, "");
    case quay::Code::kTooLarge:
      return Status::TooLarge(s, "");
    case quay::Code::kUnauthenticated:
      return Status::Unauthenticated("");
    case quay::Code::kDenied:
      return Status::Denied("");
    case quay::Code::kConflict:
      return Status::Conflict(s, "");
    case quay::Code::kUnsupported:
      return Status::Unsupported(s, "");
    case quay::Code::kUnavailable:
      return Status::Unavailable("");
    case quay::Code::kInternal:
      return Status::Internal("");
  }
  return Status::Ok();
}

}  // namespace

TEST_CASE("every Code x Subject maps to an error status") {
  for (int c = 1; c <= static_cast<int>(quay::Code::kInternal); ++c) {
    for (int s = 0; s <= static_cast<int>(Subject::kStorage); ++s) {
      Status status = Make(static_cast<quay::Code>(c), static_cast<Subject>(s));
      CAPTURE(status.ToString());
      quayd::HttpError mapped = quayd::MapStatus(status);
      CHECK(mapped.http_status >= 400);
      CHECK(mapped.http_status < 600);
      CHECK_FALSE(mapped.oci_code.empty());
    }
  }
}

TEST_CASE("ErrorBody: OCI JSON, escaped, internals hidden") {
  std::string body = quayd::ErrorBody(Status::NotFound(Subject::kBlob, "blob \"x\"\n unknown"));
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc["errors"].IsArray());
  const auto& e = doc["errors"][0];
  CHECK(std::string(e["code"].GetString()) == "BLOB_UNKNOWN");
  CHECK(std::string(e["message"].GetString()) == "blob \"x\"\n unknown");
  CHECK(e["detail"].IsObject());

  std::string internal = quayd::ErrorBody(Status::Internal("sqlite: disk I/O error at /var/lib/x"));
  CHECK(internal.find("sqlite") == std::string::npos);
  CHECK(internal.find("/var/lib") == std::string::npos);
  std::string unavailable = quayd::ErrorBody(Status::Unavailable("open /secret/path failed"));
  CHECK(unavailable.find("/secret") == std::string::npos);
  std::string full = quayd::ErrorBody(Status::NoSpace("write /secret/path: No space left"));
  CHECK(full.find("/secret") == std::string::npos);
  CHECK(full.find("out of space") != std::string::npos);
}

TEST_CASE("a full disk is 507 on /api/v1 too, with the same message") {
  const Status full = Status::NoSpace("write /secret/path: No space left on device");
  CHECK(quayd::MapApiStatus(full).http_status == 507);
  CHECK(quayd::MapApiStatus(Status::Unavailable("")).http_status == 503);
}
