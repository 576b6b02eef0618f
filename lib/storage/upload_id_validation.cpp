#include "storage/upload_id_validation.h"

#include <string>

namespace quay::storage {

namespace {

bool IsUploadIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

}  // namespace

Status ValidateUploadId(std::string_view id) {
  if (id.empty() || id.size() > kMaxUploadIdLength) {
    return Status::InvalidArgument(Subject::kUpload, "upload id must be 1 to 64 characters");
  }
  for (char c : id) {
    if (!IsUploadIdChar(c)) {
      // The id itself is not echoed: it may hold control bytes meant for a log.
      return Status::InvalidArgument(Subject::kUpload,
                                     "upload id may contain only letters, digits and '-'");
    }
  }
  return Status::Ok();
}

}  // namespace quay::storage
