// The per-request pipeline between cpp-httplib and the route handlers:
// framing and path checks, route lookup, name validation, authorization,
// handler, error mapping, and leaving the connection usable.
#pragma once

#include "host/exchange.h"
#include "quay/access.h"
#include "quay/logger.h"
#include "quay/registry.h"

namespace httplib {
class ContentReader;
struct Request;
struct Response;
}  // namespace httplib

namespace quayd {

class Dispatcher {
 public:
  Dispatcher(quay::Registry& registry, HostLimits limits, quay::Authorizer& authorizer,
             quay::Logger& logger)
      : registry_(registry), limits_(limits), authorizer_(authorizer), logger_(logger) {}

  // Serves one request completely (the response is ready when it returns).
  // `reader` is null for methods cpp-httplib dispatches without one.
  void Serve(const httplib::Request& req, httplib::Response& res,
             const httplib::ContentReader* reader);

 private:
  quay::Registry& registry_;
  HostLimits limits_;
  quay::Authorizer& authorizer_;
  quay::Logger& logger_;
};

}  // namespace quayd
