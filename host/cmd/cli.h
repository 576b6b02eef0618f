// quayd's command line:
//   quayd serve [--config FILE] [--listen HOST:PORT] [--data-dir DIR] [--no-fsync]
//               [--log-level LEVEL] [--log-format text|json] [--threads N]
//               [--max-connections-per-address N]
//               [--gc-interval SECONDS] [--no-pull-audit]
//               [--protection-window SECONDS] [--tag-recovery-window SECONDS]
//   quayd gc [--data-dir DIR] [--dry-run] [--log-level LEVEL] [--log-format F]
//            [--protection-window SECONDS] [--tag-recovery-window SECONDS]
//   quayd user add NAME [--email E] | user passwd NAME      (password on stdin)
//   quayd robot add NS+NAME [--description D]               (prints the token)
//   quayd token add USER [--title T]                        (prints the token)
//   quayd repo visibility NS/NAME public|private
//   quayd repo grant NS/NAME user:NAME|robot:NS+NAME|team:NAME read|write|admin
//   quayd org add NAME --owner USER [--email E]
//   quayd org team add ORG TEAM [--role member|creator|admin] [--description D]
//   quayd org team role ORG TEAM member|creator|admin
//   quayd org team member ORG TEAM USER|ORG+ROBOT
//         (the admin commands take --data-dir DIR and/or --config FILE)
//   quayd config validate FILE   every problem by key; exit 1 if any
//   quayd version
//   quayd --help
//
// Settings come from defaults, then the --config file (config_file.h), then
// the QUAYD_* environment variables, then the flags: a flag given on the
// command line wins over both.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "host/api/api_exchange.h"
#include "host/auth/registry_auth.h"
#include "host/cmd/storage_config.h"
#include "host/obs/structured_logger.h"
#include "quay/logger.h"
#include "quay/options.h"
#include "quay/status.h"

namespace quayd {

// The largest --max-connections-per-address (and config key) accepted.
inline constexpr uint64_t kMaxConnectionsPerAddress = 1000000;

struct ServeFlags {
  std::string host = "127.0.0.1";
  int port = 5000;
  std::string data_dir = "./quay-data";
  // DB_URI: where the metadata lives. Empty: SQLite in data_dir. A
  // postgresql:// URI: that PostgreSQL database (Options::database_path);
  // several instances may share it.
  std::string database_uri;
  bool fsync = true;
  // blob_redirects: answer blob GETs with a 307 to the store's presigned URL
  // (S3 storage only; HostLimits::blob_redirects).
  bool blob_redirects = false;
  quay::LogLevel log_level = quay::LogLevel::kInfo;
  LogFormat log_format = LogFormat::kText;
  size_t threads = 1024;
  // Connections one peer address may hold open; 0: unlimited
  // (HttpServerOptions::max_connections_per_address).
  size_t max_connections_per_address = 256;
  // Period of the background garbage collection; zero disables it.
  std::chrono::seconds gc_interval{3600};
  // Options::gc_protection_window and tag_recovery_window for the background
  // collections (bench/run.sh's GC case sets both to 0 so that what it
  // deleted is garbage at once).
  std::chrono::seconds protection_window = quay::Options{}.gc_protection_window;
  std::chrono::seconds tag_recovery_window = quay::Options{}.tag_recovery_window;
  // --trusted-proxy (repeatable), TRUSTED_PROXIES: peers whose
  // X-Forwarded-For names the client (host/net/client_address.h).
  std::vector<std::string> trusted_proxies;
  // --config FILE; empty: none.
  std::string config_path;
  // metrics_listen: GET /metrics on its own listener (HOST:PORT) rather than
  // on the main one. Empty host: on the main listener.
  std::string metrics_host;
  int metrics_port = 0;
  // tls_cert_file / tls_key_file: TLS on the main listener (PEM chain and
  // key; SIGHUP reloads them). Both or neither.
  std::string tls_cert_file;
  std::string tls_key_file;
  // webhook_ca_file: the CAs https:// webhook and Slack receivers are
  // verified against (WebhookOptions::ca_file); empty: the system's.
  std::string webhook_ca_file;
  // Users, permissions and tokens (SUPER_USERS, FEATURE_ANONYMOUS_ACCESS...).
  quay::IdentityOptions identity;
  // Tag policies (FEATURE_IMMUTABLE_TAGS, FEATURE_AUTO_PRUNE, auto_prune_interval;
  // the interval defaults to 1 h when FEATURE_AUTO_PRUNE is on).
  quay::TagPolicyOptions tag_policies;
  // Token auth (SERVER_HOSTNAME, REGISTRY_JWT_TOKEN_LIFETIME...) and audit
  // (--no-pull-audit). anonymous_access mirrors identity.anonymous_access.
  RegistryAuthOptions auth;
  // /api/v1 and /oauth: feature flags, REGISTRY_STATE, FRESH_LOGIN_TIMEOUT.
  ApiOptions api;
  // SECRET_KEY: signs session cookies and page cursors; empty: a random key
  // kept in DATA_DIR/session_secret_key.
  std::string secret_key;
  // DISTRIBUTED_STORAGE_CONFIG / _PREFERENCE: where blobs live (default: the
  // data folder).
  StorageSettings storage;
};

struct GcFlags {
  std::string data_dir = "./quay-data";
  // --config FILE: its DB_URI and DISTRIBUTED_STORAGE_CONFIG say where the
  // metadata and blobs to collect are (QUAYD_* variables apply too).
  std::string config_path;
  bool dry_run = false;
  // Options::gc_protection_window and tag_recovery_window for this run
  // (tests and operators who know no push is in flight shorten them).
  std::chrono::seconds protection_window = quay::Options{}.gc_protection_window;
  std::chrono::seconds tag_recovery_window = quay::Options{}.tag_recovery_window;
  quay::LogLevel log_level = quay::LogLevel::kWarn;
  LogFormat log_format = LogFormat::kText;
};

// The account and repository administration commands: they open the
// IdentityService on the data folder (possibly while quayd serve uses it).
struct AdminFlags {
  enum class Verb : unsigned char {
    kUserAdd,         // user add NAME [--email E]
    kUserPasswd,      // user passwd NAME
    kRobotAdd,        // robot add NS+NAME [--description D]
    kTokenAdd,        // token add USER [--title T]
    kRepoVisibility,  // repo visibility NS/NAME public|private
    kRepoGrant,       // repo grant NS/NAME KIND:NAME ROLE
    kOrgAdd,          // org add NAME --owner USER [--email E]
    kTeamAdd,         // org team add ORG TEAM [--role R] [--description D]
    kTeamRole,        // org team role ORG TEAM ROLE
    kTeamMember,      // org team member ORG TEAM MEMBER
  };
  Verb verb = Verb::kUserAdd;
  std::vector<std::string> args;  // the positional arguments after the verb
  std::string email;
  std::string text;   // --description / --title
  std::string owner;  // --owner
  std::string role;   // --role (empty: the command's default)
  std::string data_dir = "./quay-data";
  std::string config_path;
  bool data_dir_given = false;  // --data-dir wins over the config file's
};

struct Command {
  enum class Kind : unsigned char { kHelp, kVersion, kServe, kGc, kAdmin, kConfigValidate };
  Kind kind = Kind::kHelp;
  std::string config_path;  // kConfigValidate: the file
  ServeFlags serve;         // kServe
  GcFlags gc;               // kGc
  AdminFlags admin;         // kAdmin
};

// Parses argv[1..]; `serve_base` holds what the serve flags start from (the
// defaults, or what a --config file set). InvalidArgument with a one-line
// explanation on misuse.
quay::Result<Command> ParseCommandLine(const std::vector<std::string_view>& args,
                                       const ServeFlags& serve_base = ServeFlags{});

// "HOST:PORT", "[v6]:PORT" or ":PORT" (all interfaces). InvalidArgument otherwise.
quay::Status ParseListen(std::string_view text, std::string& host, int& port);

std::string_view Usage();

// "user add", "org team member", ...: how the command line spells `verb`.
std::string_view AdminCommandName(AdminFlags::Verb verb);

}  // namespace quayd
