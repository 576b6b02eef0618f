#include "quay/status.h"

namespace quay {
namespace {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "OK";
    case Code::kNotFound:
      return "NotFound";
    case Code::kInvalidArgument:
      return "InvalidArgument";
    case Code::kDigestMismatch:
      return "DigestMismatch";
    case Code::kSizeMismatch:
      return "SizeMismatch";
    case Code::kRangeInvalid:
      return "RangeInvalid";
    case Code::kTooLarge:
      return "TooLarge";
    case Code::kUnauthenticated:
      return "Unauthenticated";
    case Code::kDenied:
      return "Denied";
    case Code::kConflict:
      return "Conflict";
    case Code::kUnsupported:
      return "Unsupported";
    case Code::kUnavailable:
      return "Unavailable";
    case Code::kInternal:
      return "Internal";
  }
  // Reached only if a Status was built from an out-of-range cast; still print
  // something useful rather than crash inside an error path.
  return "Unknown";
}

std::string_view SubjectName(Subject subject) {
  switch (subject) {
    case Subject::kNone:
      return "";
    case Subject::kBlob:
      return "blob";
    case Subject::kUpload:
      return "upload";
    case Subject::kManifest:
      return "manifest";
    case Subject::kTag:
      return "tag";
    case Subject::kRepository:
      return "repository";
    case Subject::kName:
      return "name";
    case Subject::kDigest:
      return "digest";
    case Subject::kReference:
      return "reference";
    case Subject::kMediaType:
      return "media type";
    case Subject::kSize:
      return "size";
    case Subject::kRange:
      return "range";
    case Subject::kStorage:
      return "storage";
    case Subject::kExpiredTag:
      return "expired tag";
  }
  return "unknown";
}

}  // namespace

std::string Status::ToString() const {
  std::string out(CodeName(code_));
  if (ok()) return out;
  std::string_view subject = SubjectName(subject_);
  if (!subject.empty()) {
    out += '(';
    out += subject;
    out += ')';
  }
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

}  // namespace quay
