// The per-request pipeline between cpp-httplib and the route handlers:
// framing and path checks, route lookup, name validation, authentication
// (bearer token, when token auth is on), authorization, handler, error
// mapping, and leaving the connection usable.
#pragma once

#include "host/v2/exchange.h"
#include "quay/access.h"
#include "quay/logger.h"
#include "quay/registry.h"

namespace httplib {
class ContentReader;
struct Request;
struct Response;
}  // namespace httplib

namespace quayd {

class RegistryAuth;

class Dispatcher {
 public:
  // `auth` null: no token auth; every request is anonymous and `authorizer`
  // alone decides. Otherwise `authorizer` is auth's (the IdentityService's).
  Dispatcher(quay::Registry& registry, HostLimits limits, quay::Authorizer& authorizer,
             quay::Logger& logger, RegistryAuth* auth = nullptr)
      : registry_(registry),
        limits_(limits),
        authorizer_(authorizer),
        logger_(logger),
        auth_(auth) {}

  // Serves one request completely (the response is ready when it returns).
  // `reader` is null for methods cpp-httplib dispatches without one.
  void Serve(const httplib::Request& req, httplib::Response& res,
             const httplib::ContentReader* reader);

 private:
  quay::Registry& registry_;
  HostLimits limits_;
  quay::Authorizer& authorizer_;
  quay::Logger& logger_;
  RegistryAuth* auth_;
};

}  // namespace quayd
