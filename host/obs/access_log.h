// Per-request identity and the access log.
//
// cpp-httplib serves a request on one thread from its first header byte to
// the end of its response, so the request being served lives in a
// thread-local RequestContext: the dispatcher fills it, StructuredLogger
// stamps its id on every line logged meanwhile (library lines included), and
// the access-log hook (cpp-httplib's logger, called after the response is
// written) reads and clears it.
//
// Redaction: the access line carries the decoded path and only the *names* of
// query parameters; never header values, so Authorization and tokens cannot
// reach a log.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "quay/logger.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace quayd {

class Metrics;

struct RequestContext {
  bool active = false;  // between BeginRequest and LogAccess
  std::string id;
  std::chrono::steady_clock::time_point start;
  std::string_view route;  // route id ("blob.get"); empty when unrouted
  uint64_t bytes_in = 0;   // request body bytes read
};

// The calling thread's current request.
RequestContext& CurrentRequest();

// Starts the calling thread's request context. The id is the client's
// X-Request-Id when it is sane (1-64 chars of [A-Za-z0-9._-]), else a new
// random one.
void BeginRequest(const httplib::Request& req);

// The id for the response being written: the current one, or a new one for
// responses cpp-httplib writes without a handler (malformed request line,
// bad Range header); then the context is started here.
const std::string& EnsureRequestId(const httplib::Request& req);

// 16 random hex digits.
std::string NewRequestId();

// "digest,mount": query parameter names only, in order, without values.
std::string QueryNames(const httplib::Request& req);

// Writes the access line for `res`, counts the request in `metrics` (when
// not null), and ends the context.
void LogAccess(quay::Logger& logger, const httplib::Request& req, const httplib::Response& res,
               Metrics* metrics = nullptr);

}  // namespace quayd
