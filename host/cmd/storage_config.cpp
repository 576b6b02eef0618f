#include "host/cmd/storage_config.h"

namespace quayd {

quay::Result<const StorageLocation*> PreferredLocation(const StorageSettings& settings) {
  if (settings.preference.empty()) {
    if (settings.locations.empty()) return static_cast<const StorageLocation*>(nullptr);
    if (settings.locations.size() == 1) return &settings.locations.front();
    return quay::Status::InvalidArgument(
        quay::Subject::kNone,
        "DISTRIBUTED_STORAGE_PREFERENCE: required when DISTRIBUTED_STORAGE_CONFIG has several "
        "locations");
  }
  for (const StorageLocation& location : settings.locations) {
    if (location.name == settings.preference.front()) return &location;
  }
  return quay::Status::InvalidArgument(
      quay::Subject::kNone, "DISTRIBUTED_STORAGE_PREFERENCE: " + settings.preference.front() +
                                " is not a location of DISTRIBUTED_STORAGE_CONFIG");
}

quay::Result<std::shared_ptr<quay::BlobStore>> OpenConfiguredBlobStore(
    const StorageSettings& settings, std::shared_ptr<quay::Clock> clock) {
  auto location = PreferredLocation(settings);
  if (!location.ok()) return location.status();
  if (*location == nullptr || (*location)->driver == "LocalStorage") {
    return std::shared_ptr<quay::BlobStore>();
  }
  quay::S3Options options = (*location)->s3;
  options.clock = std::move(clock);
  return quay::OpenS3BlobStore(options);
}

}  // namespace quayd
