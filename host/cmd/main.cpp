// quayd: the registry server. Parses the command line (and the --config
// file), opens the Registry and the IdentityService, serves HTTP with Docker
// token auth (and collects garbage in the background) until SIGINT/SIGTERM,
// then closes everything and exits 0. `quayd gc` collects garbage once; the
// user/robot/token/repo commands administer accounts (host/cmd/admin.h).

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "host/auth/registry_auth.h"
#include "host/auth/session.h"
#include "host/cmd/admin.h"
#include "host/cmd/cli.h"
#include "host/cmd/config_file.h"
#include "host/cmd/gc.h"
#include "host/cmd/server.h"
#include "host/cmd/signals.h"
#include "host/cmd/space_reserve.h"
#include "host/cmd/startup.h"
#include "host/cmd/storage_config.h"
#include "host/net/http_server.h"
#include "host/net/tls_context.h"
#include "host/obs/metrics.h"
#include "host/obs/structured_logger.h"
#include "quay/identity.h"
#include "quay/options.h"
#include "quay/registry.h"
#include "quay/webhooks.h"

#ifndef QUAYD_VERSION
#define QUAYD_VERSION "unknown"
#endif

namespace {

// A connection waiting for its head costs no thread but one descriptor, so
// the number of clients quayd can hold is its descriptor limit: the soft
// limit (often 1024) is raised to the hard one. Returns the limit in force.
rlim_t RaiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur;
}

int Serve(const quayd::ServeFlags& flags, const quayd::LoadedConfig& config_loaded) {
  auto logger = std::make_shared<quayd::StructuredLogger>(flags.log_level, flags.log_format);
  for (const std::string& warning : config_loaded.warnings) {
    logger->Log(quay::LogLevel::kWarn, "config", "unknown configuration key",
                {{"file", flags.config_path}, {"detail", warning}});
  }
  // Which configuration this instance runs, without a value: instances
  // behind one balancer should log the same digest.
  logger->Log(quay::LogLevel::kInfo, "config", "configuration loaded",
              {{"file", flags.config_path.empty() ? std::string("(none)") : flags.config_path},
               {"keys", std::to_string(config_loaded.keys)},
               {"digest", config_loaded.digest}});

  // Before any thread exists, so every thread inherits the blocked mask and
  // SIGINT/SIGTERM reach only the watcher.
  // TLS: the certificate before the port, so a bad file fails at once.
  std::shared_ptr<quayd::TlsContext> tls;
  if (flags.tls_cert_file.empty() != flags.tls_key_file.empty()) {
    logger->Log(quay::LogLevel::kError, "config", "tls_cert_file and tls_key_file go together", {});
    return 2;
  }
  if (!flags.tls_cert_file.empty()) {
    quay::Result<std::shared_ptr<quayd::TlsContext>> loaded =
        quayd::TlsContext::Load(flags.tls_cert_file, flags.tls_key_file);
    if (!loaded.ok()) {
      logger->Log(quay::LogLevel::kError, "config", "failed to load the TLS certificate",
                  {{"error", loaded.status().ToString()}});
      return 2;
    }
    tls = *loaded;
  }

  std::atomic<quayd::Server*> server_ptr{nullptr};
  std::atomic<bool> stop_requested{false};
  quayd::ShutdownSignals signals([&](int signo) {
    if (signo == SIGHUP) {
      // New connections get the files' certificate; open ones keep theirs.
      if (!tls) return;
      quay::Status reloaded = tls->Reload();
      logger->Log(reloaded.ok() ? quay::LogLevel::kInfo : quay::LogLevel::kError, "server",
                  reloaded.ok() ? "reloaded the TLS certificate"
                                : "failed to reload the TLS certificate; the old one stays",
                  {{"cert_file", tls->cert_file()},
                   {"error", reloaded.ok() ? std::string("-") : reloaded.ToString()}});
      return;
    }
    logger->Log(quay::LogLevel::kInfo, "server", "shutting down",
                {{"signal", signo == SIGINT ? "SIGINT" : "SIGTERM"}});
    stop_requested.store(true);
    if (quayd::Server* server = server_ptr.load()) server->Stop();
  });

  // The port first: in use fails at once, and while the registry opens
  // (migrations, key loading) it answers "starting" rather than refusing.
  quay::Result<int> listener = quayd::ListenOn(flags.host, flags.port);
  if (!listener.ok()) {
    logger->Log(quay::LogLevel::kError, "server", "failed to listen",
                {{"error", listener.status().ToString()}});
    return 1;
  }
  {
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    int port = flags.port;
    if (::getsockname(*listener, reinterpret_cast<sockaddr*>(&bound), &len) == 0) {
      port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                               : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    }
    logger->Log(quay::LogLevel::kInfo, "server", "starting",
                {{"address", flags.host + ":" + std::to_string(port)}});
  }
  quayd::HttpServerOptions startup_options;
  startup_options.io_timeout = std::chrono::seconds(10);
  startup_options.tls = tls;  // probes speak TLS to this port from the start
  auto startup = std::make_unique<quayd::StartupResponder>(*listener, startup_options, logger);
  if (!startup->Start()) {
    logger->Log(quay::LogLevel::kError, "server", "failed to serve the listener", {});
    return 1;
  }

  // A shared database is shared by instances that must read each other's
  // rows: signing keys stored under DATABASE_SECRET_KEY and cookies and
  // cursors signed with SECRET_KEY. Random per-folder secrets would split
  // them, so on PostgreSQL both come from the configuration.
  if (flags.database_uri.starts_with("postgres") &&
      (flags.secret_key.empty() || flags.identity.database_secret_key.empty())) {
    logger->Log(quay::LogLevel::kError, "server",
                "DB_URI names a shared database: set SECRET_KEY and DATABASE_SECRET_KEY, the "
                "same on every instance",
                {});
    return 1;
  }
  quay::Options options;
  options.data_dir = flags.data_dir;
  options.database_path = flags.database_uri;
  options.durable = flags.fsync;
  options.logger = logger;
  options.identity = flags.identity;
  options.tag_policies = flags.tag_policies;
  if (options.tag_policies.auto_prune && options.tag_policies.auto_prune_interval.count() == 0) {
    options.tag_policies.auto_prune_interval = std::chrono::hours(1);
  }
  options.gc_protection_window = flags.protection_window;
  options.tag_recovery_window = flags.tag_recovery_window;
  // Blobs a client has pushed but not yet referenced from a manifest are
  // protected only by this window; a short one lets background GC take the
  // layers of a push in progress (fine for benchmarks, not for a registry).
  if (flags.gc_interval.count() > 0 && flags.protection_window < std::chrono::minutes(10)) {
    logger->Log(quay::LogLevel::kWarn, "gc",
                "the protection window is short: background GC may remove blobs of pushes in "
                "progress",
                {{"protection_window_s", std::to_string(flags.protection_window.count())}});
  }
  quay::Result<std::shared_ptr<quay::BlobStore>> blob_store =
      quayd::OpenConfiguredBlobStore(flags.storage, options.clock);
  if (!blob_store.ok()) {
    logger->Log(quay::LogLevel::kError, "server", "failed to open blob storage",
                {{"error", blob_store.status().ToString()}});
    return 1;
  }
  options.blob_store = std::move(blob_store).value();
  quay::Result<std::unique_ptr<quay::Registry>> opened = quay::Registry::Open(options);
  if (!opened.ok()) {
    logger->Log(quay::LogLevel::kError, "server", "failed to open registry",
                {{"data_dir", flags.data_dir}, {"error", opened.status().ToString()}});
    return 1;
  }
  std::unique_ptr<quay::Registry> registry = std::move(opened).value();
  if (!quayd::EnsureSpaceReserve(flags.data_dir)) {
    logger->Log(quay::LogLevel::kWarn, "server",
                "failed to make the space reserve: quayd gc may not free space on a full disk",
                {{"data_dir", flags.data_dir}});
  }
  quay::Result<std::unique_ptr<quay::IdentityService>> identity_opened =
      quay::IdentityService::Open(options, *registry);
  if (!identity_opened.ok()) {
    logger->Log(quay::LogLevel::kError, "server", "failed to open identity service",
                {{"data_dir", flags.data_dir}, {"error", identity_opened.status().ToString()}});
    return 1;
  }
  std::unique_ptr<quay::IdentityService> identity = std::move(identity_opened).value();
  quayd::RegistryAuthOptions auth_options = flags.auth;
  // Nothing answers plain HTTP on a TLS port: the token realm and the
  // session cookie are https.
  if (tls && auth_options.url_scheme == "http") auth_options.url_scheme = "https";
  auth_options.anonymous_access = flags.identity.anonymous_access;
  quay::Result<std::unique_ptr<quayd::RegistryAuth>> auth_opened =
      quayd::RegistryAuth::Open(*identity, auth_options, options.clock, logger);
  if (!auth_opened.ok()) {
    logger->Log(quay::LogLevel::kError, "server", "failed to load token signing keys",
                {{"error", auth_opened.status().ToString()}});
    return 1;
  }
  std::shared_ptr<quayd::RegistryAuth> auth = std::move(auth_opened).value();
  auth->keys().StartMaintenance();
  // Declared after the registry, so it stops before the registry closes on
  // every return path.
  auto metrics = std::make_shared<quayd::Metrics>();
  quayd::PeriodicGc gc(*registry, flags.gc_interval, *logger, metrics.get());
  // Webhook notifications: the queue is in the database; one thread polls it.
  quay::WebhookOptions webhook_options;
  webhook_options.server_hostname = flags.auth.server_hostname;
  webhook_options.url_scheme = auth_options.url_scheme;  // https with TLS
  webhook_options.poll_interval = std::chrono::seconds(1);
  webhook_options.ca_file = flags.webhook_ca_file;
  quay::Result<std::unique_ptr<quay::WebhookDelivery>> webhooks =
      quay::WebhookDelivery::Open(*registry, webhook_options);
  if (!webhooks.ok()) {
    logger->Log(quay::LogLevel::kError, "server", "failed to start webhook delivery",
                {{"error", webhooks.status().ToString()}});
    return 1;
  }

  quayd::ServerConfig config;
  config.host = flags.host;
  config.port = flags.port;
  config.data_dir = flags.data_dir;
  config.tls = tls;
  config.metrics = metrics;
  config.version = QUAYD_VERSION;
  config.threads = flags.threads;
  config.max_connections_per_address = flags.max_connections_per_address;
  const rlim_t open_files = RaiseOpenFileLimit();
  config.limits.max_manifest_bytes = options.max_manifest_bytes;
  config.limits.trusted_proxies = flags.trusted_proxies;
  config.limits.blob_redirects = flags.blob_redirects;
  config.logger = logger;
  config.auth = auth;
  config.api = flags.api;
  config.api.server_hostname = flags.auth.server_hostname;
  config.api.url_scheme = auth_options.url_scheme;
  config.clock = options.clock;
  config.session_key = flags.secret_key;
  if (config.session_key.empty()) {
    std::optional<std::string> key = quayd::LoadOrCreateSessionKey(flags.data_dir);
    if (!key) {
      logger->Log(quay::LogLevel::kError, "server", "failed to create the session key",
                  {{"data_dir", flags.data_dir}});
      return 1;
    }
    config.session_key = *key;
  }
  {
    // metrics_listen: /metrics on a listener of its own (an address only
    // Prometheus reaches), and not on the main one.
    std::unique_ptr<quayd::HttpServer> metrics_server;
    std::thread metrics_thread;
    if (!flags.metrics_host.empty()) {
      config.serve_metrics = false;
      quayd::HttpServerOptions metrics_options;
      metrics_options.host = flags.metrics_host;
      metrics_options.port = flags.metrics_port;
      metrics_options.threads = 4;
      quayd::HttpHandlers handlers;
      handlers.serve = [metrics](const httplib::Request& req, httplib::Response& res,
                                 const httplib::ContentReader*) {
        if (quayd::IsMetricsPath(req.path)) {
          quayd::ServeMetrics(*metrics, req, res);
        } else {
          res.status = 404;
          res.set_content("not found\n", "text/plain");
        }
      };
      handlers.reject = [](httplib::Response& res, int status, std::string_view) {
        res.status = status;
      };
      handlers.decorate = [](const httplib::Request&, httplib::Response&) {};
      handlers.log = [](const httplib::Request&, const httplib::Response&) {};
      metrics_server = std::make_unique<quayd::HttpServer>(metrics_options, std::move(handlers));
      int metrics_port = 0;
      if (quay::Status bound = metrics_server->Bind(metrics_port); !bound.ok()) {
        logger->Log(quay::LogLevel::kError, "server", "failed to listen for metrics",
                    {{"error", bound.ToString()}});
        return 1;
      }
      metrics_thread = std::thread([&metrics_server] { metrics_server->Run(); });
      logger->Log(quay::LogLevel::kInfo, "server", "metrics listening",
                  {{"address", flags.metrics_host + ":" + std::to_string(metrics_port)}});
    }
    // Stops the metrics listener on every way out of this block.
    struct MetricsStop {
      std::unique_ptr<quayd::HttpServer>& server;
      std::thread& thread;
      ~MetricsStop() {
        if (server) server->Stop();
        if (thread.joinable()) thread.join();
      }
    } metrics_stop{metrics_server, metrics_thread};

    // Startup is over: the real server takes the listener over.
    startup->Stop();
    startup.reset();
    config.listen_fd = *listener;
    quayd::Server server(*registry, config);
    if (quay::Status bound = server.Bind(); !bound.ok()) {
      logger->Log(quay::LogLevel::kError, "server", "failed to listen",
                  {{"error", bound.ToString()}});
      return 1;
    }
    server_ptr.store(&server);
    if (stop_requested.load()) server.Stop();

    std::printf("listening on %s:%d\n", flags.host.c_str(), server.port());
    std::fflush(stdout);
    logger->Log(
        quay::LogLevel::kInfo, "server", "listening",
        {{"address", flags.host + ":" + std::to_string(server.port())},
         {"data_dir", flags.data_dir},
         {"fsync", flags.fsync ? "true" : "false"},
         {"gc_interval_s", std::to_string(flags.gc_interval.count())},
         {"server_hostname", flags.auth.server_hostname.empty() ? std::string("(request Host)")
                                                                : flags.auth.server_hostname},
         {"anonymous_access", flags.identity.anonymous_access ? "true" : "false"},
         {"pull_audit", flags.auth.pull_audit ? "true" : "false"},
         {"max_connections_per_address", std::to_string(flags.max_connections_per_address)},
         {"open_files_limit", std::to_string(open_files)}});

    server.Run();
    server_ptr.store(nullptr);
  }
  gc.Stop();  // waits for a collection in progress
  config.auth.reset();
  auth.reset();  // flushes queued audit rows, stops key maintenance
  identity.reset();
  registry.reset();  // closes the database after the last request finished
  logger->Log(quay::LogLevel::kInfo, "server", "stopped", {});
  return 0;
}

// `quayd config validate FILE`: every problem of FILE (and of the QUAYD_*
// variables) on stderr, one per line by key; exit 1 if there is any, else
// "FILE: valid" and the digest on stdout. Unknown keys are listed as warnings.
int ValidateConfig(const std::string& path) {
  quayd::ServeFlags flags;
  const quayd::LoadedConfig loaded =
      quayd::LoadConfig(path, quayd::QuaydEnvironment(environ), flags);
  for (const std::string& warning : loaded.warnings) {
    std::fprintf(stderr, "warning: %s\n", warning.c_str());
  }
  for (const std::string& problem : loaded.problems) {
    std::fprintf(stderr, "error: %s\n", problem.c_str());
  }
  if (!loaded.problems.empty()) {
    std::fprintf(stderr, "%s: %zu problem(s)\n", path.c_str(), loaded.problems.size());
    return 1;
  }
  std::printf("%s: valid (%zu keys, %s)\n", path.c_str(), loaded.keys, loaded.digest.c_str());
  return 0;
}

// One collection; the report on stdout as one line. Errors on stderr, exit 1.
int CollectGarbage(const quayd::GcFlags& flags) {
  // Registry::Open creates a missing folder; a mistyped path must not.
  std::error_code ec;
  if (!std::filesystem::is_directory(flags.data_dir, ec)) {
    std::fprintf(stderr, "quayd gc: %s is not a registry data folder\n", flags.data_dir.c_str());
    return 1;
  }
  auto logger = std::make_shared<quayd::StructuredLogger>(flags.log_level, flags.log_format);
  // The same file and QUAYD_* variables as serve: they say which database
  // and which blob store hold what is collected.
  quayd::ServeFlags settings;
  const quayd::LoadedConfig loaded =
      quayd::LoadConfig(flags.config_path, quayd::QuaydEnvironment(environ), settings);
  if (!loaded.problems.empty()) {
    std::fprintf(stderr, "quayd gc: invalid configuration: %s\n", loaded.problems.front().c_str());
    return 2;
  }
  quay::Options options;
  options.data_dir = flags.data_dir;
  options.database_path = settings.database_uri;
  options.logger = logger;
  quay::Result<std::shared_ptr<quay::BlobStore>> blob_store =
      quayd::OpenConfiguredBlobStore(settings.storage, options.clock);
  if (!blob_store.ok()) {
    std::fprintf(stderr, "quayd gc: failed to open blob storage: %s\n",
                 blob_store.status().ToString().c_str());
    return 1;
  }
  options.blob_store = std::move(blob_store).value();
  options.gc_protection_window = flags.protection_window;
  options.tag_recovery_window = flags.tag_recovery_window;
  // quayd serve may be running on this folder: its crash recovery is its own.
  options.reconcile_uploads = false;
  quay::Result<std::unique_ptr<quay::Registry>> opened = quay::Registry::Open(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "quayd gc: failed to open registry in %s: %s\n", flags.data_dir.c_str(),
                 opened.status().ToString().c_str());
    return 1;
  }
  quay::GcOptions gc_options;
  gc_options.dry_run = flags.dry_run;
  quay::Result<quay::GcReport> report = (*opened)->CollectGarbage(gc_options);
  if (!report.ok() && report.status().IsNoSpace() && !flags.dry_run &&
      quayd::ReleaseSpaceReserve(flags.data_dir)) {
    // A full disk: the database could not record the deletions. The
    // reserve gives it the room; what was collected before the failure
    // stays collected, and a second pass takes the rest.
    logger->Log(quay::LogLevel::kWarn, "gc", "disk full: released the space reserve to collect",
                {{"data_dir", flags.data_dir}});
    report = (*opened)->CollectGarbage(gc_options);
  }
  (void)quayd::EnsureSpaceReserve(flags.data_dir);
  if (!report.ok()) {
    std::fprintf(stderr, "quayd gc: failed to collect garbage: %s\n",
                 report.status().ToString().c_str());
    return 1;
  }
  std::printf("%s\n", quayd::FormatGcReport(*report, flags.dry_run).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  // A named default rather than the parameter's temporary: GCC 12 at -O3
  // reports the temporary's strings as maybe-uninitialized (a false positive).
  const quayd::ServeFlags defaults;
  quay::Result<quayd::Command> command = quayd::ParseCommandLine(args, defaults);
  if (!command.ok()) {
    std::fprintf(stderr, "quayd: %s\n\n%.*s", command.status().message().c_str(),
                 static_cast<int>(quayd::Usage().size()), quayd::Usage().data());
    return 2;
  }
  if (command->kind == quayd::Command::Kind::kConfigValidate) {
    return ValidateConfig(command->config_path);
  }
  // Defaults, then the config file, then QUAYD_* variables, then the flags:
  // parse again over what the file and the environment set.
  quayd::LoadedConfig config;
  if (command->kind == quayd::Command::Kind::kServe) {
    quayd::ServeFlags base;
    config = quayd::LoadConfig(command->serve.config_path, quayd::QuaydEnvironment(environ), base);
    if (!config.problems.empty()) {
      for (const std::string& problem : config.problems) {
        std::fprintf(stderr, "quayd: invalid configuration: %s\n", problem.c_str());
      }
      return 2;
    }
    command = quayd::ParseCommandLine(args, base);
    if (!command.ok()) return 2;  // parsed once already
  }
  switch (command->kind) {
    case quayd::Command::Kind::kHelp:
      std::fwrite(quayd::Usage().data(), 1, quayd::Usage().size(), stdout);
      return 0;
    case quayd::Command::Kind::kVersion:
      std::printf("quayd %s\n", QUAYD_VERSION);
      return 0;
    case quayd::Command::Kind::kServe:
      return Serve(command->serve, config);
    case quayd::Command::Kind::kGc:
      return CollectGarbage(command->gc);
    case quayd::Command::Kind::kAdmin:
      return quayd::RunAdmin(command->admin);
    case quayd::Command::Kind::kConfigValidate:
      return ValidateConfig(command->config_path);  // answered above
  }
  return 2;
}
