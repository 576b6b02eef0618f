// What the port answers while `quayd serve` starts: the listener is bound
// first (a port in use fails at once, and clients and probes never meet a
// refused connection), and until the registry is open - migrations run,
// signing keys loaded - a small server on it answers /healthz 200, the
// readiness and health routes 503, and everything else 503 with
// Retry-After. Stop() hands the listener over: connections waiting in its
// backlog are accepted by the real server.
#pragma once

#include <memory>
#include <thread>

#include "host/net/http_server.h"
#include "host/obs/health.h"
#include "quay/logger.h"

namespace quayd {

class StartupResponder {
 public:
  // Serves a duplicate of `listen_fd` (which stays open for the caller).
  StartupResponder(int listen_fd, HttpServerOptions options, std::shared_ptr<quay::Logger> logger);
  ~StartupResponder();  // Stop()
  StartupResponder(const StartupResponder&) = delete;
  StartupResponder& operator=(const StartupResponder&) = delete;

  // Starts serving on a thread; false if the listener could not be used.
  bool Start();
  // Idempotent: stops and waits for the thread.
  void Stop();

 private:
  Health health_;
  std::unique_ptr<HttpServer> http_;
  std::thread thread_;
};

}  // namespace quayd
