// quayd: the registry server. Parses the command line (and the --config
// file), opens the Registry and the IdentityService, serves HTTP with Docker
// token auth (and collects garbage in the background) until SIGINT/SIGTERM,
// then closes everything and exits 0. `quayd gc` collects garbage once; the
// user/robot/token/repo commands administer accounts (host/cmd/admin.h).

#include <sys/resource.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
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

int Serve(const quayd::ServeFlags& flags, const std::vector<std::string>& config_warnings) {
  auto logger = std::make_shared<quayd::StructuredLogger>(flags.log_level, flags.log_format);
  for (const std::string& warning : config_warnings) {
    logger->Log(quay::LogLevel::kWarn, "config", "unknown configuration key",
                {{"file", flags.config_path}, {"detail", warning}});
  }

  // Before any thread exists, so every thread inherits the blocked mask and
  // SIGINT/SIGTERM reach only the watcher.
  std::atomic<quayd::Server*> server_ptr{nullptr};
  std::atomic<bool> stop_requested{false};
  quayd::ShutdownSignals signals([&](int signo) {
    logger->Log(quay::LogLevel::kInfo, "server", "shutting down",
                {{"signal", signo == SIGINT ? "SIGINT" : "SIGTERM"}});
    stop_requested.store(true);
    if (quayd::Server* server = server_ptr.load()) server->Stop();
  });

  quay::Options options;
  options.data_dir = flags.data_dir;
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
  quayd::PeriodicGc gc(*registry, flags.gc_interval, *logger);
  // Webhook notifications: the queue is in the database; one thread polls it.
  quay::WebhookOptions webhook_options;
  webhook_options.server_hostname = flags.auth.server_hostname;
  webhook_options.url_scheme = flags.auth.url_scheme;
  webhook_options.poll_interval = std::chrono::seconds(1);
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
  config.threads = flags.threads;
  config.max_connections_per_address = flags.max_connections_per_address;
  const rlim_t open_files = RaiseOpenFileLimit();
  config.limits.max_manifest_bytes = options.max_manifest_bytes;
  config.limits.trusted_proxies = flags.trusted_proxies;
  config.logger = logger;
  config.auth = auth;
  config.api = flags.api;
  config.api.server_hostname = flags.auth.server_hostname;
  config.api.url_scheme = flags.auth.url_scheme;
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

// One collection; the report on stdout as one line. Errors on stderr, exit 1.
int CollectGarbage(const quayd::GcFlags& flags) {
  // Registry::Open creates a missing folder; a mistyped path must not.
  std::error_code ec;
  if (!std::filesystem::is_directory(flags.data_dir, ec)) {
    std::fprintf(stderr, "quayd gc: %s is not a registry data folder\n", flags.data_dir.c_str());
    return 1;
  }
  auto logger = std::make_shared<quayd::StructuredLogger>(flags.log_level, flags.log_format);
  quay::Options options;
  options.data_dir = flags.data_dir;
  options.logger = logger;
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
  quay::Result<quayd::Command> command = quayd::ParseCommandLine(args);
  if (!command.ok()) {
    std::fprintf(stderr, "quayd: %s\n\n%.*s", command.status().message().c_str(),
                 static_cast<int>(quayd::Usage().size()), quayd::Usage().data());
    return 2;
  }
  // Defaults, then the config file, then the flags: parse again over the file.
  std::vector<std::string> config_warnings;
  if (command->kind == quayd::Command::Kind::kServe && !command->serve.config_path.empty()) {
    quayd::ServeFlags from_file;
    quay::Status loaded =
        quayd::ApplyConfigFile(command->serve.config_path, from_file, config_warnings);
    if (!loaded.ok()) {
      std::fprintf(stderr, "quayd: invalid configuration: %s\n", loaded.message().c_str());
      return 2;
    }
    command = quayd::ParseCommandLine(args, from_file);
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
      return Serve(command->serve, config_warnings);
    case quayd::Command::Kind::kGc:
      return CollectGarbage(command->gc);
    case quayd::Command::Kind::kAdmin:
      return quayd::RunAdmin(command->admin);
  }
  return 2;
}
