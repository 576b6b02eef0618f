// The S3 driver's internal entry point: the public OpenS3BlobStore over a
// caller's HttpTransport, so that tests can fail chosen requests.
#pragma once

#include <memory>

#include "quay/storage.h"
#include "storage/s3/http_transport.h"

namespace quay::storage::s3 {

// `list_page_size`: keys per list request (0: the store's default).
Result<std::shared_ptr<BlobStore>> OpenS3BlobStoreWithTransport(
    const S3Options& options, std::shared_ptr<HttpTransport> transport, int list_page_size = 0);

// Validates options (InvalidArgument) without contacting the store.
Status CheckS3Options(const S3Options& options);

}  // namespace quay::storage::s3
