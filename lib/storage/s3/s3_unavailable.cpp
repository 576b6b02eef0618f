// OpenS3BlobStore in a build without libcurl (meson option s3=disabled).
#include "quay/storage.h"

namespace quay {

Result<std::shared_ptr<BlobStore>> OpenS3BlobStore(const S3Options&) {
  return Status::Unsupported(Subject::kNone, "this libquay was built without the S3 driver");
}

}  // namespace quay
