// quayd's HTTP server: cpp-httplib configured for the registry workload and
// wired to the dispatcher (one catch-all per method; the route table decides).
//
// Lifecycle: Bind() (port known), then Run() on some thread (blocks) or
// Start() (Bind + Run on an internal thread). Stop() from any thread: new
// requests get 503 and a closed connection, requests in flight finish (up to
// a drain timeout), then the listener closes and Run() returns once every
// connection thread has ended. The Registry must outlive the Server.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "host/api/api_exchange.h"
#include "host/net/http_server.h"
#include "host/obs/health.h"
#include "host/obs/metrics.h"
#include "host/v2/exchange.h"
#include "quay/access.h"
#include "quay/logger.h"
#include "quay/registry.h"
#include "quay/status.h"

namespace quayd {

class RegistryAuth;

// The listener and connection settings (address, threads, keep-alive and
// I/O timeouts: host/net/http_server.h) plus what the registry host adds.
struct ServerConfig : HttpServerOptions {
  // How long Stop() lets in-flight requests finish. Default: 20 s.
  std::chrono::seconds drain_timeout{20};

  HostLimits limits;

  // Docker token auth, users and audit (see registry_auth.h). When set, its
  // IdentityService's Authorizer decides and `authorizer` is ignored.
  // Default: null (no token auth).
  std::shared_ptr<RegistryAuth> auth;
  // Without `auth`. Default: AllowAll (anonymous pull and push).
  std::shared_ptr<quay::Authorizer> authorizer;
  // Default: discard.
  std::shared_ptr<quay::Logger> logger;

  // Quay's REST API (/api/v1), OAuth (/oauth) and /csrf_token: served only
  // with `auth` (they need the IdentityService). `session_key` signs session
  // cookies and page cursors (SECRET_KEY); empty: a random key for this
  // process. A null `clock` is the system clock.
  ApiOptions api;
  std::string session_key;
  std::shared_ptr<quay::Clock> clock;

  // The health routes (host/obs/health.h): the data folder whose disk
  // space they check (empty: not checked), the free space under which the
  // instance is not ready, and how long one probe's result is reused.
  std::string data_dir;
  // Prometheus metrics (host/obs/metrics.h): requests are counted in it and
  // the server adds its collectors. Null: the server makes its own.
  // `serve_metrics`: GET /metrics on this listener (false when metrics have
  // a listener of their own). `version`: quayd_build_info's label.
  std::shared_ptr<Metrics> metrics;
  bool serve_metrics = true;
  std::string version = "unknown";
  uint64_t health_min_free_bytes = HealthProbes{}.min_free_bytes;
  std::chrono::milliseconds health_probe_interval = HealthProbes{}.probe_interval;
};

class Server {
 public:
  Server(quay::Registry& registry, ServerConfig config);
  ~Server();  // Stop() and wait
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listening socket. Unavailable when the address cannot be bound.
  quay::Status Bind();
  // The bound port (valid after Bind()).
  int port() const { return port_; }

  // Serves until Stop(). Returns after in-flight requests have finished.
  void Run();

  // While serving, for tests and logs: connection threads alive, and
  // connections waiting for a request head (which hold no thread).
  size_t connection_threads() const;
  size_t waiting_for_head() const;

  // Bind() and Run() on an internal thread; returns once accepting.
  quay::Status Start();

  // Idempotent; callable from any thread (including a signal watcher). After
  // Start(), also waits for the serving thread, so the Registry may be closed
  // once it returns. After Run(), the caller waits for Run() to return.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace quayd
