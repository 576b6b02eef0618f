// The S3 gateway the tests run against, from the environment that
// tests/storage/rgw/rgw_gateway.py sets (QUAY_TEST_S3_*). Absent when the
// tests run without a gateway: S3 cases then do not run (the meson test
// wrapper that starts the gateway reports SKIP when Ceph is missing).
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <optional>
#include <string>

#include "quay/storage.h"

namespace quay::storage_test {

inline std::optional<S3Options> S3OptionsFromEnvironment() {
  const char* endpoint = std::getenv("QUAY_TEST_S3_ENDPOINT");
  const char* bucket = std::getenv("QUAY_TEST_S3_BUCKET");
  const char* access = std::getenv("QUAY_TEST_S3_ACCESS_KEY");
  const char* secret = std::getenv("QUAY_TEST_S3_SECRET_KEY");
  if (!endpoint || !bucket || !access || !secret) return std::nullopt;
  S3Options options;
  options.endpoint = endpoint;
  options.bucket = bucket;
  options.access_key = access;
  options.secret_key = secret;
  if (const char* region = std::getenv("QUAY_TEST_S3_REGION")) options.region = region;
  options.part_size = 5u << 20;  // the minimum, so that 8 MiB blobs have several parts
  options.create_bucket = true;
  return options;
}

// A prefix no other store in this run (or an earlier run) uses: every store
// a test opens starts empty although they share one bucket.
inline std::string FreshS3Prefix(std::string_view what) {
  static std::atomic<int> counter{0};
  return "test/" + std::string(what) + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter.fetch_add(1));
}

}  // namespace quay::storage_test
