// quayd: the registry server. Parses the command line, opens the Registry,
// serves HTTP (and collects garbage in the background) until SIGINT/SIGTERM,
// then closes everything and exits 0. `quayd gc` collects garbage once.

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "host/cli.h"
#include "host/gc.h"
#include "host/server.h"
#include "host/signals.h"
#include "host/structured_logger.h"
#include "quay/options.h"
#include "quay/registry.h"

#ifndef QUAYD_VERSION
#define QUAYD_VERSION "unknown"
#endif

namespace {

int Serve(const quayd::ServeFlags& flags) {
  auto logger = std::make_shared<quayd::StructuredLogger>(flags.log_level, flags.log_format);

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
  quay::Result<std::unique_ptr<quay::Registry>> opened = quay::Registry::Open(options);
  if (!opened.ok()) {
    logger->Log(quay::LogLevel::kError, "server", "failed to open registry",
                {{"data_dir", flags.data_dir}, {"error", opened.status().ToString()}});
    return 1;
  }
  std::unique_ptr<quay::Registry> registry = std::move(opened).value();
  // Declared after the registry, so it stops before the registry closes on
  // every return path.
  quayd::PeriodicGc gc(*registry, flags.gc_interval, *logger);

  quayd::ServerConfig config;
  config.host = flags.host;
  config.port = flags.port;
  config.threads = flags.threads;
  config.limits.max_manifest_bytes = options.max_manifest_bytes;
  config.logger = logger;
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
    logger->Log(quay::LogLevel::kInfo, "server", "listening",
                {{"address", flags.host + ":" + std::to_string(server.port())},
                 {"data_dir", flags.data_dir},
                 {"fsync", flags.fsync ? "true" : "false"},
                 {"gc_interval_s", std::to_string(flags.gc_interval.count())}});

    server.Run();
    server_ptr.store(nullptr);
  }
  gc.Stop();  // waits for a collection in progress
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
  quay::Result<std::unique_ptr<quay::Registry>> opened = quay::Registry::Open(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "quayd gc: failed to open registry in %s: %s\n", flags.data_dir.c_str(),
                 opened.status().ToString().c_str());
    return 1;
  }
  quay::GcOptions gc_options;
  gc_options.dry_run = flags.dry_run;
  quay::Result<quay::GcReport> report = (*opened)->CollectGarbage(gc_options);
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
  switch (command->kind) {
    case quayd::Command::Kind::kHelp:
      std::fwrite(quayd::Usage().data(), 1, quayd::Usage().size(), stdout);
      return 0;
    case quayd::Command::Kind::kVersion:
      std::printf("quayd %s\n", QUAYD_VERSION);
      return 0;
    case quayd::Command::Kind::kServe:
      return Serve(command->serve);
    case quayd::Command::Kind::kGc:
      return CollectGarbage(command->gc);
  }
  return 2;
}
