// The S3 driver's view of HTTP: one request in, one response out, bodies in
// memory (at most one part or one read window, never a whole blob). An
// interface so that the driver's tests can fail chosen requests.
//
// Thread safety: Send may be called from many threads at once.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "quay/status.h"

namespace quay::storage::s3 {

struct HttpRequest {
  std::string method;
  std::string url;  // scheme://host[:port]/path?query, already encoded
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;  // not owned; empty for no body
};

struct HttpResponse {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;

  // The first header named `name` (lower case), or empty.
  std::string_view Header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return {};
  }
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // A response for any HTTP status; Unavailable when no response came
  // (connection refused or reset, timeout), Internal for a local failure.
  virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;
};

struct HttpTransportOptions {
  std::chrono::milliseconds connect_timeout{5000};
  // A request that makes no progress (fewer than 1 byte/s) for this long is
  // abandoned; a large transfer that keeps moving is never cut off.
  std::chrono::milliseconds stall_timeout{30000};
  bool verify_tls = true;
  std::string ca_file;  // empty: the system's trust store
};

// libcurl, with connections kept alive and reused across requests.
std::shared_ptr<HttpTransport> NewCurlTransport(const HttpTransportOptions& options);

}  // namespace quay::storage::s3
