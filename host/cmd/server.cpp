#include "host/cmd/server.h"

#include <fmt/format.h>
#include <httplib.h>
#include <sys/statvfs.h>

#include "host/api/api_dispatch.h"
#include "host/auth/registry_auth.h"
#include "host/cmd/signals.h"
#include "host/net/http_server.h"
#include "host/net/request_body.h"
#include "host/obs/access_log.h"
#include "host/obs/health.h"
#include "host/route/errors.h"
#include "host/v2/dispatch.h"
#include "host/web/asset_server.h"

namespace quayd {
namespace {

// One flag per connection thread: whether the request it is serving was
// counted in Impl::in_flight_ (a malformed head is answered without running
// the dispatcher).
thread_local bool t_counted = false;

// One budget for every body held in memory, /v2 and /api/v1 alike.
ServerConfig WithBodyBudget(ServerConfig config) {
  if (!config.limits.body_budget) {
    config.limits.body_budget = std::make_shared<BodyBudget>(
        config.limits.body_budget_bytes, config.limits.body_budget_per_client_bytes);
  }
  config.api.body_budget = config.limits.body_budget;
  return config;
}

// Every client behind a trusted reverse proxy shares the proxy's address,
// so the per-address connection cap does not apply to it.
ServerConfig WithProxiesUncapped(ServerConfig config) {
  config.uncapped_addresses.insert(config.uncapped_addresses.end(),
                                   config.limits.trusted_proxies.begin(),
                                   config.limits.trusted_proxies.end());
  return config;
}

}  // namespace

class Server::Impl {
 public:
  Impl(quay::Registry& registry, ServerConfig config)
      : config_(WithProxiesUncapped(WithBodyBudget(std::move(config)))),
        authorizer_(config_.auth         ? config_.auth->shared_authorizer()
                    : config_.authorizer ? config_.authorizer
                                         : quay::Authorizer::AllowAll()),
        logger_(config_.logger ? config_.logger : quay::Logger::Discard()),
        dispatcher_(registry, config_.limits, *authorizer_, *logger_, config_.auth.get()),
        sessions_(config_.session_key.size() >= 32 ? config_.session_key : RandomToken()),
        health_(HealthProbesFor(registry, config_), logger_),
        metrics_(config_.metrics ? config_.metrics : std::make_shared<Metrics>()),
        http_(config_, Handlers()) {
    AddCollectors(registry);
    // The Server exists once the registry is open and the keys are loaded.
    health_.MarkReady();
    if (config_.auth) {
      config_.api.trusted_proxies = config_.limits.trusted_proxies;
      api_ = std::make_unique<ApiDispatcher>(ApiServices{
          registry, config_.auth->identity(), *logger_, config_.api, sessions_,
          config_.clock ? config_.clock : quay::Clock::System(), &config_.auth->throttle()});
    }
  }

  quay::Status Bind(int& port) {
    IgnoreSigpipe();
    return http_.Bind(port);
  }

  void Run() {
    run_started_.store(true);
    http_.Run();
    run_returned_.store(true);
  }

  bool accepting() const { return http_.running() || run_returned_.load(); }

  const HttpServer& http() const { return http_; }

  void Stop() {
    std::call_once(stop_once_, [this] {
      draining_.store(true);
      const auto deadline = std::chrono::steady_clock::now() + config_.drain_timeout;
      while (in_flight_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      http_.Stop();
      logger_->Log(quay::LogLevel::kInfo, "server", "stopped accepting connections",
                   {{"in_flight", std::to_string(in_flight_.load())}});
    });
  }

 private:
  HttpHandlers Handlers() {
    HttpHandlers handlers;
    handlers.serve = [this](const httplib::Request& req, httplib::Response& res,
                            const httplib::ContentReader* reader) {
      BeginRequest(req);
      in_flight_.fetch_add(1);
      t_counted = true;
      if (draining_.load()) {
        WriteError(res, quay::Status::Unavailable("shutting down"));
        ForceClose(res);
        return;
      }
      if (Health::Owns(req.path)) {
        CurrentRequest().route = "health";
        health_.Serve(req, res);
        return;
      }
      if (config_.serve_metrics && IsMetricsPath(req.path)) {
        CurrentRequest().route = "metrics";
        ServeMetrics(*metrics_, req, res);
        return;
      }
      if (api_ && ApiDispatcher::Owns(req.path)) {
        RequestBody body(req, reader);
        api_->Serve(req, res, body);
        return;
      }
      // The web UI: "/", /static/ and the UI's page paths, GET and HEAD only.
      if (AssetServer::Owns(req.method, req.path)) {
        CurrentRequest().route = "ui";
        web_.Serve(req, res);
        return;
      }
      if (config_.api.read_only && req.method != "GET" && req.method != "HEAD" &&
          req.path.starts_with("/v2/") && req.path != "/v2/auth") {
        WriteV2ReadOnly(res);
        return;
      }
      dispatcher_.Serve(req, res, reader);
    };
    // The dispatcher catches handler exceptions; this covers a malformed head
    // and anything thrown around it, so no exception text reaches a client.
    handlers.reject = [this](httplib::Response& res, int status, std::string_view message) {
      if (status == 503) {
        WriteError(res, quay::Status::Unavailable(std::string(message)));
      } else if (status == 429) {
        // Over the per-address connection cap, answered before a request
        // was read: the /v2 body, the surface most clients speak.
        WriteTooManyRequests(res, std::chrono::seconds(1), message);
        return;
      } else if (status >= 500) {
        logger_->Log(quay::LogLevel::kError, "http", "failed to handle request",
                     {{"error", std::string(message)}});
        WriteError(res, quay::Status::Internal(std::string(message)));
      } else {
        WriteError(res, quay::Status::InvalidArgument(quay::Subject::kNone, std::string(message)));
      }
      res.status = status;
    };
    // Every response, including refusals of malformed requests.
    handlers.decorate = [](const httplib::Request& req, httplib::Response& res) {
      res.set_header("X-Request-Id", EnsureRequestId(req));
      if (req.path.starts_with("/v2")) {
        res.set_header("Docker-Distribution-API-Version", "registry/2.0");
      }
    };
    handlers.log = [this](const httplib::Request& req, const httplib::Response& res) {
      LogAccess(*logger_, req, res, metrics_.get());
      if (t_counted) {
        t_counted = false;
        in_flight_.fetch_sub(1);
      }
    };
    return handlers;
  }

  static HealthProbes HealthProbesFor(quay::Registry& registry, const ServerConfig& config) {
    HealthProbes probes;
    probes.registry = [&registry] {
      quay::Registry::HealthReport report = registry.CheckHealth();
      return HealthProbes::Parts{std::move(report.database), std::move(report.storage)};
    };
    if (config.auth) {
      RegistryAuth* auth = config.auth.get();
      probes.service_key = [auth] { return auth->keys().signer() != nullptr; };
    }
    probes.data_dir = config.data_dir;
    probes.min_free_bytes = config.health_min_free_bytes;
    probes.probe_interval = config.health_probe_interval;
    return probes;
  }

  // The gauges read when Prometheus scrapes. Each collector asks one cheap
  // question (a COUNT over upload rows, a SUM over blob rows, counters).
  void AddCollectors(quay::Registry& registry) {
    metrics_->AddCollector([this, &registry](MetricsWriter& w) {
      w.Family("quayd_build_info", "gauge", "quayd's version (the value is always 1).");
      w.Sample("quayd_build_info", {{"version", config_.version}}, 1);
      w.Family("quayd_http_connection_threads", "gauge", "Threads serving connections.");
      w.Sample("quayd_http_connection_threads", static_cast<double>(http_.threads()));
      w.Family("quayd_http_connections_waiting", "gauge",
               "Open connections waiting for a request head (on no thread).");
      w.Sample("quayd_http_connections_waiting", static_cast<double>(http_.waiting_for_head()));
      w.Family("quayd_http_requests_in_flight", "gauge", "Requests being served.");
      w.Sample("quayd_http_requests_in_flight", static_cast<double>(in_flight_.load()));
      if (quay::Result<uint64_t> uploads = registry.OpenUploadCount(); uploads.ok()) {
        w.Family("quayd_upload_sessions_open", "gauge",
                 "Blob upload sessions started and not yet committed or cancelled.");
        w.Sample("quayd_upload_sessions_open", static_cast<double>(*uploads));
      }
      if (quay::Result<uint64_t> bytes = registry.TotalBlobBytes(); bytes.ok()) {
        w.Family("quayd_storage_blob_bytes", "gauge",
                 "Bytes of the blobs the registry holds, each digest once.");
        w.Sample("quayd_storage_blob_bytes", static_cast<double>(*bytes));
      }
      const quay::Registry::DatabaseWait wait = registry.WriterWait();
      w.Family("quayd_database_writer_waits_total", "counter",
               "Writes that waited for the database's writer connection.");
      w.Sample("quayd_database_writer_waits_total", static_cast<double>(wait.waits));
      w.Family("quayd_database_writer_wait_seconds_total", "counter",
               "Time writes spent waiting for the database's writer connection.");
      w.Sample("quayd_database_writer_wait_seconds_total",
               std::chrono::duration<double>(wait.total).count());
      if (config_.auth) {
        w.Family("quayd_audit_backlog_bytes", "gauge",
                 "Audit events accepted and not yet indexed into the audit database.");
        w.Sample("quayd_audit_backlog_bytes",
                 static_cast<double>(config_.auth->audit_backlog_bytes()));
      }
      if (!config_.data_dir.empty()) {
        struct statvfs fs {};
        const bool known = ::statvfs(config_.data_dir.c_str(), &fs) == 0;
        const uint64_t free_bytes = known ? uint64_t{fs.f_bavail} * fs.f_frsize : 0;
        const uint64_t size_bytes = known ? uint64_t{fs.f_blocks} * fs.f_frsize : 0;
        w.Family("quayd_data_filesystem_free_bytes", "gauge",
                 "Bytes available on the data folder's filesystem.");
        w.Sample("quayd_data_filesystem_free_bytes", static_cast<double>(free_bytes));
        w.Family("quayd_data_filesystem_size_bytes", "gauge",
                 "Size of the data folder's filesystem.");
        w.Sample("quayd_data_filesystem_size_bytes", static_cast<double>(size_bytes));
      }
    });
  }

  ServerConfig config_;
  std::shared_ptr<quay::Authorizer> authorizer_;
  std::shared_ptr<quay::Logger> logger_;
  Dispatcher dispatcher_;
  SessionCodec sessions_;
  std::unique_ptr<ApiDispatcher> api_;
  Health health_;
  std::shared_ptr<Metrics> metrics_;
  AssetServer web_;
  HttpServer http_;

  std::atomic<int> in_flight_{0};
  std::atomic<bool> draining_{false};
  std::atomic<bool> run_started_{false};
  std::atomic<bool> run_returned_{false};
  std::once_flag stop_once_;
};

Server::Server(quay::Registry& registry, ServerConfig config)
    : impl_(std::make_unique<Impl>(registry, std::move(config))) {}

Server::~Server() { Stop(); }

quay::Status Server::Bind() { return impl_->Bind(port_); }

void Server::Run() { impl_->Run(); }

size_t Server::connection_threads() const { return impl_->http().threads(); }

size_t Server::waiting_for_head() const { return impl_->http().waiting_for_head(); }

quay::Status Server::Start() {
  quay::Status bound = Bind();
  if (!bound.ok()) return bound;
  thread_ = std::thread([this] { impl_->Run(); });
  while (!impl_->accepting()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return quay::Status::Ok();
}

void Server::Stop() {
  impl_->Stop();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

}  // namespace quayd
