#include "host/cmd/cli.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "host/net/client_address.h"
#include "host/net/http_ranges.h"

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
         "  org        add NAME --owner USER [--email E]: create an organization; USER\n"
         "             joins its owners team (admin)\n"
         "             team add ORG TEAM [--role member|creator|admin] [--description D]\n"
         "             (default role member)\n"
         "             team role ORG TEAM member|creator|admin\n"
         "             team member ORG TEAM USER|ORG+ROBOT: add a member to a team\n"
         "  config     validate FILE: list every problem of a configuration file (and\n"
         "             of the QUAYD_* variables) by key; exit 1 if there is any\n"
         "  version    print the version\n"
         "\n"
         "serve options:\n"
         "  --config FILE          YAML settings (Quay key names: SERVER_HOSTNAME,\n"
         "                         SUPER_USERS, FEATURE_ANONYMOUS_ACCESS, ...; see\n"
         "                         README); QUAYD_<KEY> variables win over the file,\n"
         "                         flags given here win over both\n"
         "  --listen HOST:PORT     address to listen on (default 127.0.0.1:5000; port 0\n"
         "                         picks a free port)\n"
         "  --data-dir DIR         registry data folder (default ./quay-data)\n"
         "  --no-fsync             do not fsync blobs and the database (faster, unsafe\n"
         "                         on power loss)\n"
         "  --log-level LEVEL      debug, info, warn or error (default info)\n"
         "  --log-format FORMAT    text (logfmt) or json (default text)\n"
         "  --threads N            most connections served at once; threads start on\n"
         "                         demand (default 1024); as many more may wait, and\n"
         "                         beyond that a new connection gets 503 at once\n"
         "  --max-connections-per-address N\n"
         "                         connections one client address may hold open; more\n"
         "                         are answered 429 and closed (default 256; 0: no\n"
         "                         limit; trusted proxies are exempt)\n"
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
         "  --config FILE          take DB_URI and DISTRIBUTED_STORAGE_CONFIG from FILE\n"
         "                         (the database and blob store to collect)\n"
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
         "user/robot/token/repo/org options:\n"
         "  --data-dir DIR         registry data folder (default ./quay-data, or the\n"
         "                         config file's data_dir)\n"
         "  --config FILE          read data_dir, DB_URI and identity settings from FILE\n"
         "\n"
         "On start quayd serve prints 'listening on HOST:PORT' to stdout. SIGINT/SIGTERM\n"
         "stop it gracefully. quayd gc may run while quayd serve uses the same folder;\n"
         "it prints one line of counts and exits 0, or prints the error and exits 1.\n"
         "The user/robot/token/repo/org commands may run while quayd serve uses the\n"
         "folder.\n";
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

// The options admin commands take, and where their values go.
enum AdminOption : unsigned {
  kOptEmail = 1u << 0,
  kOptDescription = 1u << 1,
  kOptTitle = 1u << 2,
  kOptOwner = 1u << 3,
  kOptRole = 1u << 4,
};

struct AdminOptionSpec {
  std::string_view name;
  AdminOption option;
  std::string AdminFlags::*field;
};

constexpr AdminOptionSpec kAdminOptions[] = {
    {"--email", kOptEmail, &AdminFlags::email},
    {"--description", kOptDescription, &AdminFlags::text},
    {"--title", kOptTitle, &AdminFlags::text},
    {"--owner", kOptOwner, &AdminFlags::owner},
    {"--role", kOptRole, &AdminFlags::role},
};

// One admin command: the words naming it, its positional arguments, the
// options it accepts and those it cannot do without. --data-dir and
// --config go with every one.
struct AdminCommandSpec {
  std::string_view words;
  AdminFlags::Verb verb;
  size_t positional;
  unsigned options;
  unsigned required;
};

constexpr AdminCommandSpec kAdminCommands[] = {
    {"user add", AdminFlags::Verb::kUserAdd, 1, kOptEmail, 0},
    {"user passwd", AdminFlags::Verb::kUserPasswd, 1, 0, 0},
    {"robot add", AdminFlags::Verb::kRobotAdd, 1, kOptDescription, 0},
    {"token add", AdminFlags::Verb::kTokenAdd, 1, kOptTitle, 0},
    {"repo visibility", AdminFlags::Verb::kRepoVisibility, 2, 0, 0},
    {"repo grant", AdminFlags::Verb::kRepoGrant, 3, 0, 0},
    {"org add", AdminFlags::Verb::kOrgAdd, 1, kOptOwner | kOptEmail, kOptOwner},
    {"org team add", AdminFlags::Verb::kTeamAdd, 2, kOptRole | kOptDescription, 0},
    {"org team role", AdminFlags::Verb::kTeamRole, 3, 0, 0},
    {"org team member", AdminFlags::Verb::kTeamMember, 3, 0, 0},
};

std::vector<std::string_view> Words(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const size_t space = text.find(' ');
    out.push_back(text.substr(0, space));
    text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
  }
  return out;
}

// How many leading `args` are the first words of `words` (all of them when
// the command is named in full).
size_t MatchingWords(const std::vector<std::string_view>& args, std::string_view words) {
  const std::vector<std::string_view> w = Words(words);
  size_t n = 0;
  while (n < w.size() && n < args.size() && args[n] == w[n]) ++n;
  return n;
}

std::string Joined(const std::vector<std::string_view>& args, size_t count) {
  std::string out;
  for (size_t i = 0; i < count && i < args.size(); ++i) {
    if (i > 0) out += ' ';
    out += args[i];
  }
  return out;
}

bool IsAdminNoun(std::string_view word) {
  for (const AdminCommandSpec& spec : kAdminCommands) {
    if (Words(spec.words).front() == word) return true;
  }
  return false;
}

// <words of a command> <positional...> [--data-dir D] [--config F] [options].
quay::Result<Command> ParseAdmin(const std::vector<std::string_view>& args) {
  Command command;
  command.kind = Command::Kind::kAdmin;
  AdminFlags& af = command.admin;
  const AdminCommandSpec* spec = nullptr;
  size_t known = 0;  // most leading words any command shares with args
  for (const AdminCommandSpec& candidate : kAdminCommands) {
    const size_t n = MatchingWords(args, candidate.words);
    if (n == Words(candidate.words).size()) {
      spec = &candidate;
      break;
    }
    known = std::max(known, n);
  }
  if (spec == nullptr) {
    if (known >= args.size()) {
      return Misuse(fmt::format("'{}' needs a subcommand", Joined(args, known)));
    }
    return Misuse(fmt::format("unknown command '{}'", Joined(args, known + 1)));
  }
  af.verb = spec->verb;
  for (size_t i = Words(spec->words).size(); i < args.size(); ++i) {
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
      continue;
    }
    if (name == "--config" && !value->empty()) {
      af.config_path = std::string(*value);
      continue;
    }
    const AdminOptionSpec* option = nullptr;
    for (const AdminOptionSpec& o : kAdminOptions) {
      if (o.name == name && (spec->options & o.option) != 0) option = &o;
    }
    if (option == nullptr) {
      return Misuse(fmt::format("unknown option '{}' for {}", name, spec->words));
    }
    af.*(option->field) = std::string(*value);
  }
  if (af.args.size() != spec->positional) {
    return Misuse(fmt::format("'{}' takes {} argument(s), got {}", spec->words, spec->positional,
                              af.args.size()));
  }
  for (const AdminOptionSpec& o : kAdminOptions) {
    if ((spec->required & o.option) != 0 && (af.*(o.field)).empty()) {
      return Misuse(fmt::format("'{}' needs {}", spec->words, o.name));
    }
  }
  return command;
}

}  // namespace

std::string_view AdminCommandName(AdminFlags::Verb verb) {
  for (const AdminCommandSpec& spec : kAdminCommands) {
    if (spec.verb == verb) return spec.words;
  }
  return "admin";
}

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
  if (verb == "config") {
    if (args.size() != 3 || args[1] != "validate" || args[2].empty()) {
      return Misuse("usage: quayd config validate FILE");
    }
    command.kind = Command::Kind::kConfigValidate;
    command.config_path = std::string(args[2]);
    return command;
  }
  if (IsAdminNoun(verb)) return ParseAdmin(args);
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
    } else if (name == "--config") {
      auto v = take_value();
      if (!v || v->empty()) return Misuse("--config needs a file");
      (serve ? sf.config_path : gf.config_path) = std::string(*v);
    } else if (serve && name == "--listen") {
      auto v = take_value();
      if (!v) return Misuse("--listen needs HOST:PORT");
      if (quay::Status s = ParseListen(*v, sf.host, sf.port); !s.ok()) return s;
    } else if (serve && name == "--threads") {
      auto v = take_value();
      std::optional<uint64_t> n = v ? ParseDecimal(*v) : std::nullopt;
      if (!n || *n < 1 || *n > 4096) return Misuse("--threads wants a number from 1 to 4096");
      sf.threads = static_cast<size_t>(*n);
    } else if (serve && name == "--max-connections-per-address") {
      auto v = take_value();
      std::optional<uint64_t> n = v ? ParseDecimal(*v) : std::nullopt;
      if (!n || *n > kMaxConnectionsPerAddress) {
        return Misuse("--max-connections-per-address wants a number from 0 to 1000000");
      }
      sf.max_connections_per_address = static_cast<size_t>(*n);
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
