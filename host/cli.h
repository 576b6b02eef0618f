// quayd's command line:
//   quayd serve [--listen HOST:PORT] [--data-dir DIR] [--no-fsync]
//               [--log-level LEVEL] [--log-format text|json] [--threads N]
//               [--gc-interval SECONDS]
//   quayd gc [--data-dir DIR] [--dry-run] [--log-level LEVEL] [--log-format F]
//   quayd version
//   quayd --help
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "host/structured_logger.h"
#include "quay/logger.h"
#include "quay/status.h"

namespace quayd {

struct ServeFlags {
  std::string host = "127.0.0.1";
  int port = 5000;
  std::string data_dir = "./quay-data";
  bool fsync = true;
  quay::LogLevel log_level = quay::LogLevel::kInfo;
  LogFormat log_format = LogFormat::kText;
  size_t threads = 256;
  // Period of the background garbage collection; zero disables it.
  std::chrono::seconds gc_interval{3600};
};

struct GcFlags {
  std::string data_dir = "./quay-data";
  bool dry_run = false;
  quay::LogLevel log_level = quay::LogLevel::kWarn;
  LogFormat log_format = LogFormat::kText;
};

struct Command {
  enum class Kind : unsigned char { kHelp, kVersion, kServe, kGc };
  Kind kind = Kind::kHelp;
  ServeFlags serve;  // kServe
  GcFlags gc;        // kGc
};

// Parses argv[1..]. InvalidArgument with a one-line explanation on misuse.
quay::Result<Command> ParseCommandLine(const std::vector<std::string_view>& args);

// "HOST:PORT", "[v6]:PORT" or ":PORT" (all interfaces). InvalidArgument otherwise.
quay::Status ParseListen(std::string_view text, std::string& host, int& port);

std::string_view Usage();

}  // namespace quayd
