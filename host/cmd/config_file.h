// quayd's configuration file (`quayd serve --config config.yaml`): one YAML
// mapping. Keys that Quay has keep Quay's names and meaning (so a Quay
// config.yaml mostly reads as-is); quayd's own settings are lower-case.
//
//   Quay keys                         meaning (default)
//   SERVER_HOSTNAME                   token service / realm host (request Host)
//   PREFERRED_URL_SCHEME              http | https, for the realm URL (http)
//   SUPER_USERS (alias SUPERUSERS)    list of superuser names ([])
//   GLOBAL_READONLY_SUPER_USERS       list of read-everything users ([])
//   FEATURE_SUPERUSERS_FULL_ACCESS    superusers pass every check (false)
//   FEATURE_ANONYMOUS_ACCESS          anonymous pull of public repos (true)
//   FEATURE_PUBLIC_CATALOG            anonymous catalog of public repos (false)
//   CREATE_PRIVATE_REPO_ON_PUSH       push-created repos are private (true)
//   CREATE_NAMESPACE_ON_PUSH          a push to a missing namespace creates
//                                     it as an org owned by the pusher (false)
//   DATABASE_SECRET_KEY               secret that stored private signing keys
//                                     are encrypted under (a random one in
//                                     <data_dir>/database_secret_key)
//   APP_SPECIFIC_TOKEN_EXPIRATION     app token lifetime, null = never (null)
//   ACTION_LOG_AUDIT_LOGINS           audit login_success on /v2/auth (true)
//   ACTION_LOG_AUDIT_LOGIN_FAILURES   audit login_failure (false)
//   REGISTRY_JWT_TOKEN_LIFETIME       registry token lifetime (1h) [quayd's;
//                                     Quay hard-codes 3600 s]
//   FEATURE_IMMUTABLE_TAGS            immutable tags and policies (false)
//   FEATURE_IMMUTABLE_TAGS_CAN_EXPIRE an immutable tag may expire (false)
//   FEATURE_AUTO_PRUNE                auto-prune policies (false)
//   FEATURE_QUOTA_MANAGEMENT          namespace quotas (false)
//   DB_URI                            the metadata database: postgresql://...
//                                     (shared by several instances) or
//                                     sqlite:///PATH (default: SQLite in
//                                     data_dir); a secret in the digest
//   DISTRIBUTED_STORAGE_CONFIG        blob storage locations: LocalStorage (the
//                                     data folder), S3Storage, RadosGWStorage
//                                     (storage_config.h; secret keys count as
//                                     secrets in the digest)
//   DISTRIBUTED_STORAGE_PREFERENCE    the location used (its first name)
//
//   quayd keys
//   listen, metrics_listen, tls_cert_file, tls_key_file, data_dir, fsync, blob_redirects,
//   log_level, log_format,
//   threads, max_connections_per_address (256; 0: no limit), gc_interval, auto_prune_interval (1h,
//   with FEATURE_AUTO_PRUNE), pull_audit, jwt_algorithm (RS256|ES256), signing_key_rotation,
//   login_failure_limit, login_failure_window, login_backoff_max,
//   password_hash_cost (interactive|moderate|minimum)
//
// Durations are a number of seconds or a number with a unit: s, m, h, d, w
// ("90", "15m", "2w"). Booleans are YAML booleans or the strings
// "true"/"false" (Quay accepts those too).
//
// Every key can also be set from the environment: QUAYD_ + the key's name in
// upper case (QUAYD_SERVER_HOSTNAME, QUAYD_LISTEN, QUAYD_DATA_DIR), the value
// read as YAML (QUAYD_SUPER_USERS='[alice, bob]', QUAYD_FSYNC=false). The
// environment wins over the file; flags win over both.
//
// Unknown keys (and unknown QUAYD_ variables) are reported as warnings (Quay
// configs carry many keys quayd has no use for). A known key with an invalid
// value is an error naming the key; quayd then refuses to start, and
// `quayd config validate FILE` lists every such problem. The values never
// reach a log line; the effective configuration's digest does (secrets
// counted only as set).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "host/cmd/cli.h"
#include "quay/status.h"

namespace quayd {

// Applies the settings of `yaml` (the file's text) over `flags`. Appends one
// message per unknown key to `warnings`. InvalidArgument
// ("<KEY>: <what is wrong>", several joined by "; ") for a malformed
// document or value; then `flags` is unchanged.
quay::Status ApplyConfigText(std::string_view yaml, ServeFlags& flags,
                             std::vector<std::string>& warnings);

// The QUAYD_* variables of an environment block (environ).
using ConfigEnvironment = std::vector<std::pair<std::string, std::string>>;
inline constexpr std::string_view kEnvironmentPrefix = "QUAYD_";
ConfigEnvironment QuaydEnvironment(char** envp);
// The configuration key a QUAYD_ variable sets (its name compared without
// case), or nullopt.
std::optional<std::string_view> KeyForVariable(std::string_view variable);

struct LoadedConfig {
  std::vector<std::string> warnings;  // unknown keys and variables
  std::vector<std::string> problems;  // "KEY: what is wrong", one per invalid value
  // "sha256:<hex>" over the keys applied from the file and the environment
  // (secrets only as "set"): two instances with the same digest run the
  // same configuration.
  std::string digest;
  size_t keys = 0;  // keys applied
};

// The file at `path` (empty: none), then `environment`'s QUAYD_ variables,
// over `flags`; `flags` changes only when there is no problem.
LoadedConfig LoadConfig(const std::string& path, const ConfigEnvironment& environment,
                        ServeFlags& flags);

// Reads `path` and applies it. InvalidArgument when it cannot be read,
// prefixed with the path.
quay::Status ApplyConfigFile(const std::string& path, ServeFlags& flags,
                             std::vector<std::string>& warnings);

// "90" -> 90 s; "15m", "2h", "3d", "1w", "45s". nullopt for anything else
// (negative, empty, unknown unit, overflow past ten years).
std::optional<std::chrono::seconds> ParseDuration(std::string_view text);

}  // namespace quayd
