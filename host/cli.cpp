#include "host/cli.h"

#include <fmt/format.h>

#include <optional>

#include "host/http_ranges.h"

namespace quayd {
namespace {

quay::Status Misuse(std::string message) {
  return quay::Status::InvalidArgument(quay::Subject::kNone, std::move(message));
}

// Ten years: anything longer is a typo, and it keeps the steady-clock
// deadline far from overflow.
constexpr uint64_t kMaxGcIntervalSeconds = 10ull * 366 * 24 * 3600;

}  // namespace

std::string_view Usage() {
  return "usage: quayd <command> [options]\n"
         "\n"
         "commands:\n"
         "  serve      run the registry HTTP server\n"
         "  gc         collect garbage once in a data folder and print what was freed\n"
         "  version    print the version\n"
         "\n"
         "serve options:\n"
         "  --listen HOST:PORT     address to listen on (default 127.0.0.1:5000; port 0\n"
         "                         picks a free port)\n"
         "  --data-dir DIR         registry data folder (default ./quay-data)\n"
         "  --no-fsync             do not fsync blobs and the database (faster, unsafe\n"
         "                         on power loss)\n"
         "  --log-level LEVEL      debug, info, warn or error (default info)\n"
         "  --log-format FORMAT    text (logfmt) or json (default text)\n"
         "  --threads N            connection threads (default 256)\n"
         "  --gc-interval SECONDS  collect garbage in the background every SECONDS\n"
         "                         (default 3600; 0 disables)\n"
         "\n"
         "gc options:\n"
         "  --data-dir DIR         registry data folder (default ./quay-data)\n"
         "  --dry-run              report what would be freed, change nothing\n"
         "  --log-level LEVEL      debug, info, warn or error (default warn)\n"
         "  --log-format FORMAT    text (logfmt) or json (default text)\n"
         "\n"
         "On start quayd serve prints 'listening on HOST:PORT' to stdout. SIGINT/SIGTERM\n"
         "stop it gracefully. quayd gc may run while quayd serve uses the same folder;\n"
         "it prints one line of counts and exits 0, or prints the error and exits 1.\n";
}

quay::Status ParseListen(std::string_view text, std::string& host, int& port) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return Misuse("--listen wants HOST:PORT");
  std::string_view h = text.substr(0, colon);
  std::optional<uint64_t> p = ParseDecimal(text.substr(colon + 1));
  if (!p || *p > 65535) return Misuse(fmt::format("invalid port in --listen {}", text));
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  host = h.empty() ? "0.0.0.0" : std::string(h);
  port = static_cast<int>(*p);
  return quay::Status::Ok();
}

quay::Result<Command> ParseCommandLine(const std::vector<std::string_view>& args) {
  Command command;
  if (args.empty()) return Misuse("missing command");
  const std::string_view verb = args[0];
  if (verb == "--help" || verb == "-h" || verb == "help") return command;
  if (verb == "version" || verb == "--version") {
    command.kind = Command::Kind::kVersion;
    return command;
  }
  if (verb == "serve") {
    command.kind = Command::Kind::kServe;
  } else if (verb == "gc") {
    command.kind = Command::Kind::kGc;
  } else {
    return Misuse(fmt::format("unknown command '{}'", verb));
  }
  const bool serve = command.kind == Command::Kind::kServe;
  ServeFlags& sf = command.serve;
  GcFlags& gf = command.gc;

  for (size_t i = 1; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      command.kind = Command::Kind::kHelp;
      return command;
    }
    if (serve && arg == "--no-fsync") {
      sf.fsync = false;
      continue;
    }
    if (!serve && arg == "--dry-run") {
      gf.dry_run = true;
      continue;
    }
    // --name VALUE or --name=VALUE
    std::string_view name = arg;
    std::optional<std::string_view> value;
    if (size_t eq = arg.find('='); eq != std::string_view::npos && arg.substr(0, 2) == "--") {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    auto take_value = [&]() -> std::optional<std::string_view> {
      if (value) return value;
      if (i + 1 < args.size()) return args[++i];
      return std::nullopt;
    };

    if (name == "--data-dir") {
      auto v = take_value();
      if (!v || v->empty()) return Misuse("--data-dir needs a folder");
      (serve ? sf.data_dir : gf.data_dir) = std::string(*v);
    } else if (name == "--log-level") {
      auto v = take_value();
      std::optional<quay::LogLevel> level = v ? ParseLogLevel(*v) : std::nullopt;
      if (!level) return Misuse("--log-level wants debug, info, warn or error");
      (serve ? sf.log_level : gf.log_level) = *level;
    } else if (name == "--log-format") {
      auto v = take_value();
      std::optional<LogFormat> format = v ? ParseLogFormat(*v) : std::nullopt;
      if (!format) return Misuse("--log-format wants text or json");
      (serve ? sf.log_format : gf.log_format) = *format;
    } else if (serve && name == "--listen") {
      auto v = take_value();
      if (!v) return Misuse("--listen needs HOST:PORT");
      if (quay::Status s = ParseListen(*v, sf.host, sf.port); !s.ok()) return s;
    } else if (serve && name == "--threads") {
      auto v = take_value();
      std::optional<uint64_t> n = v ? ParseDecimal(*v) : std::nullopt;
      if (!n || *n < 1 || *n > 4096) return Misuse("--threads wants a number from 1 to 4096");
      sf.threads = static_cast<size_t>(*n);
    } else if (serve && name == "--gc-interval") {
      auto v = take_value();
      std::optional<uint64_t> n = v ? ParseDecimal(*v) : std::nullopt;
      if (!n || *n > kMaxGcIntervalSeconds) {
        return Misuse("--gc-interval wants a number of seconds (0 disables)");
      }
      sf.gc_interval = std::chrono::seconds(static_cast<int64_t>(*n));
    } else {
      return Misuse(fmt::format("unknown option '{}' for {}", arg, verb));
    }
  }
  return command;
}

}  // namespace quayd
