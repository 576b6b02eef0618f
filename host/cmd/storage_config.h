// Where quayd keeps blobs: Quay's DISTRIBUTED_STORAGE_CONFIG (named
// locations, each [driver, {parameters}]) and DISTRIBUTED_STORAGE_PREFERENCE
// (the location used; quayd uses the first). Drivers:
//
//   LocalStorage     the data folder (storage_path is ignored: blobs live
//                    under data_dir)
//   S3Storage        s3_bucket, s3_access_key, s3_secret_key, storage_path,
//                    host (default s3.<s3_region>.amazonaws.com), port,
//                    is_secure (true), s3_region (us-east-1)
//   RadosGWStorage   hostname, port, is_secure, access_key, secret_key,
//                    bucket_name, storage_path
//
// Both S3 drivers also take the other's key names, and quayd's own
// create_bucket (false): create the bucket when it is missing.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "quay/clock.h"
#include "quay/status.h"
#include "quay/storage.h"

namespace quayd {

struct StorageLocation {
  std::string name;
  std::string driver;  // "LocalStorage", "S3Storage" or "RadosGWStorage"
  quay::S3Options s3;  // the S3 drivers' settings
};

struct StorageSettings {
  std::vector<StorageLocation> locations;  // DISTRIBUTED_STORAGE_CONFIG
  std::vector<std::string> preference;     // DISTRIBUTED_STORAGE_PREFERENCE
};

// The location quayd stores blobs in: the first preferred one, or the only
// one when there is no preference; null when nothing is configured.
// InvalidArgument when the preference names no configured location or
// several locations are configured without a preference.
quay::Result<const StorageLocation*> PreferredLocation(const StorageSettings& settings);

// The blob store of the preferred location: null for LocalStorage or no
// configuration (the registry then uses the data folder). The S3 drivers'
// errors (Unavailable, NotFound for a missing bucket, ...) pass through.
quay::Result<std::shared_ptr<quay::BlobStore>> OpenConfiguredBlobStore(
    const StorageSettings& settings, std::shared_ptr<quay::Clock> clock);

}  // namespace quayd
