#include "host/cli.h"

#include <fmt/format.h>

#include <optional>

#include "host/client_address.h"
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
         "  user       add NAME [--email E] | passwd NAME: create a user or set its\n"
         "             password (read from stdin)\n"
         "  robot      add NS+NAME [--description D]: create a robot account; prints\n"
         "             its token\n"
         "  token      add USER [--title T]: create an app-specific token; prints it\n"
         "  repo       visibility NS/NAME public|private\n"
         "             grant NS/NAME user:NAME|robot:NS+NAME|team:NAME read|write|admin\n"
         "  version    print the version\n"
         "\n"
         "serve options:\n"
         "  --config FILE          YAML settings (Quay key names: SERVER_HOSTNAME,\n"
         "                         SUPER_USERS, FEATURE_ANONYMOUS_ACCESS, ...; see\n"
         "                         README); flags given here win over the file\n"
         "  --listen HOST:PORT     address to listen on (default 127.0.0.1:5000; port 0\n"
         "                         picks a free port)\n"
         "  --data-dir DIR         registry data folder (default ./quay-data)\n"
         "  --no-fsync             do not fsync blobs and the database (faster, unsafe\n"
         "                         on power loss)\n"
         "  --log-level LEVEL      debug, info, warn or error (default info)\n"
         "  --log-format FORMAT    text (logfmt) or json (default text)\n"
         "  --threads N            most connections served at once; threads start on\n"
         "                         demand (default 1024)\n"
         "  --gc-interval SECONDS  collect garbage in the background every SECONDS\n"
         "                         (default 3600; 0 disables)\n"
         "  --no-pull-audit        do not record pull_repo audit rows\n"
         "  --trusted-proxy ADDR   believe X-Forwarded-For from this peer address (a\n"
         "                         reverse proxy); repeatable (default: none)\n"
         "  --protection-window SECONDS, --tag-recovery-window SECONDS\n"
         "                         the background collections' windows (as for gc)\n"
         "\n"
         "gc options:\n"
         "  --data-dir DIR         registry data folder (default ./quay-data)\n"
         "  --dry-run              report what would be freed, change nothing\n"
         "  --log-level LEVEL      debug, info, warn or error (default warn)\n"
         "  --log-format FORMAT    text (logfmt) or json (default text)\n"
         "  --protection-window SECONDS\n"
         "                         keep anything created this recently, referenced or\n"
         "                         not: a push in progress (default 3600)\n"
         "  --tag-recovery-window SECONDS\n"
         "                         keep what a tag pointed at this recently, so it can\n"
         "                         be restored (default 1209600, 14 days)\n"
         "\n"
         "user/robot/token/repo options:\n"
         "  --data-dir DIR         registry data folder (default ./quay-data, or the\n"
         "                         config file's data_dir)\n"
         "  --config FILE          read data_dir and identity settings from FILE\n"
         "\n"
         "On start quayd serve prints 'listening on HOST:PORT' to stdout. SIGINT/SIGTERM\n"
         "stop it gracefully. quayd gc may run while quayd serve uses the same folder;\n"
         "it prints one line of counts and exits 0, or prints the error and exits 1.\n"
         "The user/robot/token/repo commands may run while quayd serve uses the folder.\n";
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

namespace {

// user|robot|token|repo <verb> <positional...> [--data-dir D] [--config F]
// [--email E] [--description D] [--title T].
quay::Result<Command> ParseAdmin(const std::vector<std::string_view>& args) {
  Command command;
  command.kind = Command::Kind::kAdmin;
  AdminFlags& af = command.admin;
  const std::string_view noun = args[0];
  if (args.size() < 2) return Misuse(fmt::format("'{}' needs a subcommand", noun));
  const std::string_view verb = args[1];
  size_t positional = 0;
  std::string_view text_flag;
  if (noun == "user" && verb == "add") {
    af.verb = AdminFlags::Verb::kUserAdd;
    positional = 1;
  } else if (noun == "user" && verb == "passwd") {
    af.verb = AdminFlags::Verb::kUserPasswd;
    positional = 1;
  } else if (noun == "robot" && verb == "add") {
    af.verb = AdminFlags::Verb::kRobotAdd;
    positional = 1;
    text_flag = "--description";
  } else if (noun == "token" && verb == "add") {
    af.verb = AdminFlags::Verb::kTokenAdd;
    positional = 1;
    text_flag = "--title";
  } else if (noun == "repo" && verb == "visibility") {
    af.verb = AdminFlags::Verb::kRepoVisibility;
    positional = 2;
  } else if (noun == "repo" && verb == "grant") {
    af.verb = AdminFlags::Verb::kRepoGrant;
    positional = 3;
  } else {
    return Misuse(fmt::format("unknown command '{} {}'", noun, verb));
  }
  for (size_t i = 2; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      command.kind = Command::Kind::kHelp;
      return command;
    }
    if (arg.substr(0, 2) != "--") {
      af.args.emplace_back(arg);
      continue;
    }
    std::string_view name = arg;
    std::optional<std::string_view> value;
    if (size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    }
    if (!value) return Misuse(fmt::format("{} needs a value", name));
    if (name == "--data-dir" && !value->empty()) {
      af.data_dir = std::string(*value);
      af.data_dir_given = true;
    } else if (name == "--config" && !value->empty()) {
      af.config_path = std::string(*value);
    } else if (name == "--email" && af.verb == AdminFlags::Verb::kUserAdd) {
      af.email = std::string(*value);
    } else if (!text_flag.empty() && name == text_flag) {
      af.text = std::string(*value);
    } else {
      return Misuse(fmt::format("unknown option '{}' for {} {}", name, noun, verb));
    }
  }
  if (af.args.size() != positional) {
    return Misuse(fmt::format("'{} {}' takes {} argument(s), got {}", noun, verb, positional,
                              af.args.size()));
  }
  return command;
}

}  // namespace

quay::Result<Command> ParseCommandLine(const std::vector<std::string_view>& args,
                                       const ServeFlags& serve_base) {
  Command command;
  command.serve = serve_base;
  if (args.empty()) return Misuse("missing command");
  const std::string_view verb = args[0];
  if (verb == "--help" || verb == "-h" || verb == "help") return command;
  if (verb == "version" || verb == "--version") {
    command.kind = Command::Kind::kVersion;
    return command;
  }
  if (verb == "user" || verb == "robot" || verb == "token" || verb == "repo") {
    return ParseAdmin(args);
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
  bool trusted_proxies_from_flags = false;

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
    if (serve && arg == "--no-pull-audit") {
      sf.auth.pull_audit = false;
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
    } else if (serve && name == "--config") {
      auto v = take_value();
      if (!v || v->empty()) return Misuse("--config needs a file");
      sf.config_path = std::string(*v);
    } else if (serve && name == "--listen") {
      auto v = take_value();
      if (!v) return Misuse("--listen needs HOST:PORT");
      if (quay::Status s = ParseListen(*v, sf.host, sf.port); !s.ok()) return s;
    } else if (serve && name == "--threads") {
      auto v = take_value();
      std::optional<uint64_t> n = v ? ParseDecimal(*v) : std::nullopt;
      if (!n || *n < 1 || *n > 4096) return Misuse("--threads wants a number from 1 to 4096");
      sf.threads = static_cast<size_t>(*n);
    } else if (serve && name == "--trusted-proxy") {
      auto v = take_value();
      if (!v || !IsIpAddress(*v)) return Misuse("--trusted-proxy wants an IP address");
      // The flags replace the file's list rather than add to it.
      if (!trusted_proxies_from_flags) sf.trusted_proxies.clear();
      trusted_proxies_from_flags = true;
      sf.trusted_proxies.emplace_back(*v);
    } else if (serve && name == "--gc-interval") {
      auto v = take_value();
      std::optional<uint64_t> n = v ? ParseDecimal(*v) : std::nullopt;
      if (!n || *n > kMaxGcIntervalSeconds) {
        return Misuse("--gc-interval wants a number of seconds (0 disables)");
      }
      sf.gc_interval = std::chrono::seconds(static_cast<int64_t>(*n));
    } else if (name == "--protection-window" || name == "--tag-recovery-window") {
      auto v = take_value();
      std::optional<uint64_t> n = v ? ParseDecimal(*v) : std::nullopt;
      if (!n || *n > kMaxGcIntervalSeconds) {
        return Misuse(fmt::format("{} wants a number of seconds", name));
      }
      const bool protection = name == "--protection-window";
      std::chrono::seconds& window =
          serve ? (protection ? sf.protection_window : sf.tag_recovery_window)
                : (protection ? gf.protection_window : gf.tag_recovery_window);
      window = std::chrono::seconds(static_cast<int64_t>(*n));
    } else {
      return Misuse(fmt::format("unknown option '{}' for {}", arg, verb));
    }
  }
  return command;
}

}  // namespace quayd
