// What a route handler gets for one request: the HTTP request and response,
// the body stream, the matched path parts and the services it may call.
#pragma once

#include <cstdint>
#include <string_view>

#include "host/router.h"
#include "quay/logger.h"
#include "quay/registry.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace quayd {

class RequestBody;

// Limits the host enforces before handing bytes to the library.
struct HostLimits {
  // Largest manifest body read into memory; larger is 413 before reading.
  // Default: 4 MiB (the library's Options::max_manifest_bytes default).
  uint64_t max_manifest_bytes = 4ull << 20;
};

struct Exchange {
  const httplib::Request& req;
  httplib::Response& res;
  RequestBody& body;
  PathMatch match;  // name and argument point into req.path
  quay::Registry& registry;
  const HostLimits& limits;
  quay::Logger& logger;
};

}  // namespace quayd
