#include "host/cmd/config_file.h"

#include <fmt/format.h>
#include <openssl/sha.h>
#include <strings.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "host/auth/auth_parsing.h"
#include "host/net/client_address.h"
#include "host/net/http_ranges.h"

namespace quayd {
namespace {

using std::chrono::seconds;

// Ten years: past that a duration is a typo (and the arithmetic stays safe).
constexpr int64_t kMaxDurationSeconds = 10ll * 366 * 24 * 3600;

quay::Status Bad(std::string message) {
  return quay::Status::InvalidArgument(quay::Subject::kNone, std::move(message));
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// ---- typed readers: OK or a message saying what was expected ----

quay::Status ReadString(const YAML::Node& node, std::string& out) {
  if (!node.IsScalar()) return Bad("expected a string");
  out = node.Scalar();
  return quay::Status::Ok();
}

quay::Status ReadBool(const YAML::Node& node, bool& out) {
  if (!node.IsScalar()) return Bad("expected true or false");
  const std::string& s = node.Scalar();
  for (std::string_view yes : {"true", "yes", "on"}) {
    if (IEquals(s, yes)) {
      out = true;
      return quay::Status::Ok();
    }
  }
  for (std::string_view no : {"false", "no", "off"}) {
    if (IEquals(s, no)) {
      out = false;
      return quay::Status::Ok();
    }
  }
  return Bad("expected true or false");
}

quay::Status ReadCount(const YAML::Node& node, uint64_t min, uint64_t max, uint64_t& out) {
  std::optional<uint64_t> n = node.IsScalar() ? ParseDecimal(node.Scalar()) : std::nullopt;
  if (!n || *n < min || *n > max) {
    return Bad(fmt::format("expected a whole number from {} to {}", min, max));
  }
  out = *n;
  return quay::Status::Ok();
}

quay::Status ReadDuration(const YAML::Node& node, seconds& out, bool allow_zero = true) {
  std::optional<seconds> d = node.IsScalar() ? ParseDuration(node.Scalar()) : std::nullopt;
  if (!d || (!allow_zero && d->count() == 0)) {
    return Bad(allow_zero ? "expected a duration such as 90, 15m, 2h, 7d"
                          : "expected a positive duration such as 90, 15m, 2h, 7d");
  }
  out = *d;
  return quay::Status::Ok();
}

quay::Status ReadNames(const YAML::Node& node, std::vector<std::string>& out) {
  out.clear();
  if (node.IsNull()) return quay::Status::Ok();
  if (!node.IsSequence()) return Bad("expected a list of names");
  for (const YAML::Node& item : node) {
    if (!item.IsScalar() || item.Scalar().empty()) return Bad("expected a list of names");
    out.push_back(item.Scalar());
  }
  return quay::Status::Ok();
}

// ---- the keys ----

using Apply = quay::Status (*)(const YAML::Node&, ServeFlags&);

struct Key {
  std::string_view name;
  Apply apply;
  // A secret's value never reaches a log line, and the configuration
  // digest sees only whether it is set.
  bool secret = false;
  // A structured value with secrets inside (kSecretFields): the digest
  // sees the rest of it, and those fields only as set.
  bool secret_fields = false;
};

// Fields that hold secrets wherever they appear in a structured value.
constexpr std::string_view kSecretFields[] = {"s3_secret_key", "secret_key"};

// ---- DB_URI ----

// Quay's DB_URI as a database path for Options::database_path: PostgreSQL
// URIs pass unchanged (libpq reads them); Quay's SQLite form,
// sqlite:///PATH, gives PATH. Other databases Quay speaks (MySQL) are not
// supported.
std::optional<std::string> DatabasePathFromUri(const std::string& uri) {
  if (uri.starts_with("postgresql://") || uri.starts_with("postgres://")) return uri;
  constexpr std::string_view kSqlite = "sqlite:///";
  if (uri.starts_with(kSqlite) && uri.size() > kSqlite.size()) {
    return uri.substr(kSqlite.size());
  }
  return std::nullopt;
}

// ---- DISTRIBUTED_STORAGE_CONFIG ----

// The value of the first of `names` present in `params`, if any. (Nodes
// are copied, never assigned: assigning a yaml-cpp node rebinds the node it
// referred to, inside the document.)
std::optional<YAML::Node> FindParam(const YAML::Node& params,
                                    const std::vector<std::string_view>& names) {
  for (std::string_view name : names) {
    const YAML::Node value = params[std::string(name)];
    if (value.IsDefined() && !value.IsNull()) return value;
  }
  return std::nullopt;
}

quay::Status ReadStorageLocation(const std::string& name, const YAML::Node& entry,
                                 StorageLocation& out) {
  auto bad = [&](std::string_view what) { return Bad(fmt::format("{}: {}", name, what)); };
  if (!entry.IsSequence() || entry.size() < 1 || entry.size() > 2 || !entry[0].IsScalar()) {
    return bad("expected [driver, {parameters}]");
  }
  out.name = name;
  out.driver = entry[0].Scalar();
  const YAML::Node params = entry.size() == 2 ? entry[1] : YAML::Node(YAML::NodeType::Map);
  if (!params.IsMap()) return bad("the parameters must be a mapping");
  if (out.driver == "LocalStorage") return quay::Status::Ok();
  if (out.driver != "S3Storage" && out.driver != "RadosGWStorage") {
    return bad("unsupported driver (LocalStorage, S3Storage or RadosGWStorage)");
  }
  const bool rados = out.driver == "RadosGWStorage";
  quay::S3Options& s3 = out.s3;
  auto read = [&](const std::vector<std::string_view>& names, std::string& field,
                  bool required) -> quay::Status {
    const std::optional<YAML::Node> node = FindParam(params, names);
    if (!node) {
      return required ? bad(fmt::format("{} is required", *names.begin())) : quay::Status::Ok();
    }
    if (!node->IsScalar() || node->Scalar().empty()) {
      return bad(fmt::format("{}: expected a string", *names.begin()));
    }
    field = node->Scalar();
    return quay::Status::Ok();
  };
  // RadosGWStorage's names first and S3Storage's as the alternative, or the
  // other way round. (Vectors: an initializer_list's array would not outlive
  // a conditional expression.)
  auto names = [rados](std::string_view rgw, std::string_view s3_name) {
    return rados ? std::vector<std::string_view>{rgw, s3_name}
                 : std::vector<std::string_view>{s3_name, rgw};
  };
  const std::vector<std::string_view> bucket_names = names("bucket_name", "s3_bucket");
  const std::vector<std::string_view> access_names = names("access_key", "s3_access_key");
  const std::vector<std::string_view> secret_names = names("secret_key", "s3_secret_key");
  if (quay::Status s = read(bucket_names, s3.bucket, true); !s.ok()) return s;
  if (quay::Status s = read(access_names, s3.access_key, true); !s.ok()) return s;
  if (quay::Status s = read(secret_names, s3.secret_key, true); !s.ok()) return s;
  if (quay::Status s = read({"storage_path"}, s3.prefix, false); !s.ok()) return s;
  if (quay::Status s = read({"s3_region", "region"}, s3.region, false); !s.ok()) return s;
  std::string host;
  if (quay::Status s = read({"hostname", "host"}, host, rados); !s.ok()) return s;
  if (host.empty()) {
    host = s3.region == "us-east-1" ? "s3.amazonaws.com" : "s3." + s3.region + ".amazonaws.com";
  }
  if (!IsSaneHost(host)) return bad("hostname: expected a host name");
  bool secure = true;
  if (const std::optional<YAML::Node> node = FindParam(params, {"is_secure"})) {
    if (!ReadBool(*node, secure).ok()) return bad("is_secure: expected true or false");
  }
  std::string endpoint = (secure ? "https://" : "http://") + host;
  if (const std::optional<YAML::Node> node = FindParam(params, {"port"})) {
    uint64_t port = 0;
    if (!ReadCount(*node, 1, 65535, port).ok()) return bad("port: expected 1 to 65535");
    endpoint += ":" + std::to_string(port);
  }
  s3.endpoint = std::move(endpoint);
  if (const std::optional<YAML::Node> node = FindParam(params, {"create_bucket"})) {
    if (!ReadBool(*node, s3.create_bucket).ok())
      return bad("create_bucket: expected true or false");
  }
  return quay::Status::Ok();
}

quay::Status ReadStorageConfig(const YAML::Node& node, ServeFlags& f) {
  if (!node.IsMap()) return Bad("expected a mapping of location names to [driver, {parameters}]");
  std::vector<StorageLocation> locations;
  for (const auto& entry : node) {
    if (!entry.first.IsScalar() || entry.first.Scalar().empty()) {
      return Bad("location names must be strings");
    }
    StorageLocation location;
    if (quay::Status s = ReadStorageLocation(entry.first.Scalar(), entry.second, location);
        !s.ok()) {
      return s;
    }
    locations.push_back(std::move(location));
  }
  f.storage.locations = std::move(locations);
  return quay::Status::Ok();
}

// A copy of `node` with every kSecretFields value replaced by "(set)".
YAML::Node RedactSecretFields(const YAML::Node& node) {
  if (node.IsMap()) {
    YAML::Node out(YAML::NodeType::Map);
    for (const auto& entry : node) {
      const bool secret =
          entry.first.IsScalar() && std::find(std::begin(kSecretFields), std::end(kSecretFields),
                                              entry.first.Scalar()) != std::end(kSecretFields);
      out[entry.first] = secret ? YAML::Node("(set)") : RedactSecretFields(entry.second);
    }
    return out;
  }
  if (node.IsSequence()) {
    YAML::Node out(YAML::NodeType::Sequence);
    for (const auto& item : node) out.push_back(RedactSecretFields(item));
    return out;
  }
  return YAML::Clone(node);
}

const Key kKeys[] = {
    // Quay's keys.
    {"SERVER_HOSTNAME",
     [](const YAML::Node& n, ServeFlags& f) {
       std::string host;
       if (!ReadString(n, host).ok() || !IsSaneHost(host)) {
         return Bad("expected a host name with an optional :port");
       }
       f.auth.server_hostname = host;
       return quay::Status::Ok();
     }},
    {"PREFERRED_URL_SCHEME",
     [](const YAML::Node& n, ServeFlags& f) {
       std::string scheme;
       if (!ReadString(n, scheme).ok() || (scheme != "http" && scheme != "https")) {
         return Bad("expected http or https");
       }
       f.auth.url_scheme = scheme;
       return quay::Status::Ok();
     }},
    {"SUPER_USERS",
     [](const YAML::Node& n, ServeFlags& f) { return ReadNames(n, f.identity.super_users); }},
    {"SUPERUSERS",
     [](const YAML::Node& n, ServeFlags& f) { return ReadNames(n, f.identity.super_users); }},
    {"GLOBAL_READONLY_SUPER_USERS",
     [](const YAML::Node& n, ServeFlags& f) {
       return ReadNames(n, f.identity.global_readonly_super_users);
     }},
    {"TRUSTED_PROXIES",
     [](const YAML::Node& n, ServeFlags& f) {
       if (quay::Status s = ReadNames(n, f.trusted_proxies); !s.ok()) return s;
       for (const std::string& address : f.trusted_proxies) {
         if (!IsIpAddress(address)) return Bad("expected a list of IP addresses");
       }
       return quay::Status::Ok();
     }},
    {"FEATURE_SUPERUSERS_FULL_ACCESS",
     [](const YAML::Node& n, ServeFlags& f) {
       return ReadBool(n, f.identity.superusers_full_access);
     }},
    {"FEATURE_ANONYMOUS_ACCESS",
     [](const YAML::Node& n, ServeFlags& f) {
       quay::Status s = ReadBool(n, f.identity.anonymous_access);
       f.auth.anonymous_access = f.identity.anonymous_access;
       return s;
     }},
    {"FEATURE_PUBLIC_CATALOG",
     [](const YAML::Node& n, ServeFlags& f) { return ReadBool(n, f.identity.public_catalog); }},
    {"CREATE_PRIVATE_REPO_ON_PUSH",
     [](const YAML::Node& n, ServeFlags& f) {
       return ReadBool(n, f.identity.create_private_repo_on_push);
     }},
    {"CREATE_NAMESPACE_ON_PUSH",
     [](const YAML::Node& n, ServeFlags& f) {
       return ReadBool(n, f.identity.create_namespace_on_push);
     }},
    {"DATABASE_SECRET_KEY",
     [](const YAML::Node& n, ServeFlags& f) {
       // Quay configs often hold a UUID; YAML may read digits as a number,
       // which is still a scalar: its text is the secret.
       if (!ReadString(n, f.identity.database_secret_key).ok() ||
           f.identity.database_secret_key.empty()) {
         return Bad("expected a non-empty string");
       }
       return quay::Status::Ok();
     },
     true},
    {"FEATURE_USER_CREATION",
     [](const YAML::Node& n, ServeFlags& f) {
       return ReadBool(n, f.api.features[static_cast<size_t>(Feature::kUserCreation)]);
     }},
    {"FEATURE_USER_INITIALIZE",
     [](const YAML::Node& n, ServeFlags& f) {
       return ReadBool(n, f.api.features[static_cast<size_t>(Feature::kUserInitialize)]);
     }},
    {"FEATURE_DIRECT_LOGIN",
     [](const YAML::Node& n, ServeFlags& f) {
       return ReadBool(n, f.api.features[static_cast<size_t>(Feature::kDirectLogin)]);
     }},
    {"FEATURE_APP_SPECIFIC_TOKENS",
     [](const YAML::Node& n, ServeFlags& f) {
       return ReadBool(n, f.api.features[static_cast<size_t>(Feature::kAppSpecificTokens)]);
     }},
    {"FEATURE_SUPER_USERS",
     [](const YAML::Node& n, ServeFlags& f) {
       return ReadBool(n, f.api.features[static_cast<size_t>(Feature::kSuperUsers)]);
     }},
    {"FEATURE_ASSIGN_OAUTH_TOKEN",
     [](const YAML::Node& n, ServeFlags& f) {
       return ReadBool(n, f.api.features[static_cast<size_t>(Feature::kAssignOAuthToken)]);
     }},
    {"FEATURE_AGGREGATED_LOG_COUNT_RETRIEVAL",
     [](const YAML::Node& n, ServeFlags& f) {
       return ReadBool(n, f.api.features[static_cast<size_t>(Feature::kAggregatedLogs)]);
     }},
    {"FEATURE_IMMUTABLE_TAGS",
     [](const YAML::Node& n, ServeFlags& f) {
       quay::Status s = ReadBool(n, f.tag_policies.immutable_tags);
       f.api.features[static_cast<size_t>(Feature::kImmutableTags)] =
           f.tag_policies.immutable_tags;
       return s;
     }},
    {"FEATURE_IMMUTABLE_TAGS_CAN_EXPIRE",
     [](const YAML::Node& n, ServeFlags& f) {
       return ReadBool(n, f.tag_policies.immutable_tags_can_expire);
     }},
    {"FEATURE_AUTO_PRUNE",
     [](const YAML::Node& n, ServeFlags& f) {
       quay::Status s = ReadBool(n, f.tag_policies.auto_prune);
       f.api.features[static_cast<size_t>(Feature::kAutoPrune)] = f.tag_policies.auto_prune;
       return s;
     }},
    {"FEATURE_QUOTA_MANAGEMENT",
     [](const YAML::Node& n, ServeFlags& f) {
       return ReadBool(n, f.api.features[static_cast<size_t>(Feature::kQuotaManagement)]);
     }},
    {"FEATURE_SUPERUSERS_ORG_CREATION_ONLY",
     [](const YAML::Node& n, ServeFlags& f) {
       return ReadBool(n, f.api.superusers_org_creation_only);
     }},
    {"REGISTRY_STATE",
     [](const YAML::Node& n, ServeFlags& f) {
       std::string state;
       if (!ReadString(n, state).ok() || (state != "normal" && state != "readonly")) {
         return Bad("expected normal or readonly");
       }
       f.api.read_only = state == "readonly";
       return quay::Status::Ok();
     }},
    {"FRESH_LOGIN_TIMEOUT",
     [](const YAML::Node& n, ServeFlags& f) {
       return ReadDuration(n, f.api.fresh_login_timeout, false);
     }},
    {"SECRET_KEY",
     [](const YAML::Node& n, ServeFlags& f) {
       if (!ReadString(n, f.secret_key).ok() || f.secret_key.size() < 32) {
         return Bad("expected a string of at least 32 characters");
       }
       return quay::Status::Ok();
     },
     true},
    {"DB_URI",
     [](const YAML::Node& n, ServeFlags& f) {
       std::string uri;
       if (!ReadString(n, uri).ok()) return Bad("expected a database URI");
       std::optional<std::string> path = DatabasePathFromUri(uri);
       if (!path) return Bad("expected postgresql://... or sqlite:///PATH");
       f.database_uri = *path;
       return quay::Status::Ok();
     },
     true},  // a password may be in it
    {"DISTRIBUTED_STORAGE_CONFIG", ReadStorageConfig, false, true},
    {"DISTRIBUTED_STORAGE_PREFERENCE",
     [](const YAML::Node& n, ServeFlags& f) { return ReadNames(n, f.storage.preference); }},
    {"APP_SPECIFIC_TOKEN_EXPIRATION",
     [](const YAML::Node& n, ServeFlags& f) {
       if (n.IsNull()) {
         f.identity.app_token_lifetime = seconds(0);
         return quay::Status::Ok();
       }
       return ReadDuration(n, f.identity.app_token_lifetime, false);
     }},
    {"ACTION_LOG_AUDIT_LOGINS",
     [](const YAML::Node& n, ServeFlags& f) { return ReadBool(n, f.auth.login_audit); }},
    {"ACTION_LOG_AUDIT_LOGIN_FAILURES",
     [](const YAML::Node& n, ServeFlags& f) { return ReadBool(n, f.auth.login_failure_audit); }},
    {"REGISTRY_JWT_TOKEN_LIFETIME",
     [](const YAML::Node& n, ServeFlags& f) {
       return ReadDuration(n, f.auth.keys.token_lifetime, false);
     }},

    // quayd's own.
    {"listen",
     [](const YAML::Node& n, ServeFlags& f) {
       std::string text;
       if (!ReadString(n, text).ok()) return Bad("expected HOST:PORT");
       quay::Status s = ParseListen(text, f.host, f.port);
       return s.ok() ? s : Bad("expected HOST:PORT");
     }},
    {"metrics_listen",
     [](const YAML::Node& n, ServeFlags& f) {
       std::string text;
       if (!ReadString(n, text).ok()) return Bad("expected HOST:PORT");
       quay::Status s = ParseListen(text, f.metrics_host, f.metrics_port);
       return s.ok() ? s : Bad("expected HOST:PORT");
     }},
    {"tls_cert_file",
     [](const YAML::Node& n, ServeFlags& f) {
       if (!ReadString(n, f.tls_cert_file).ok() || f.tls_cert_file.empty()) {
         return Bad("expected the path of a PEM certificate chain");
       }
       return quay::Status::Ok();
     }},
    {"tls_key_file",
     [](const YAML::Node& n, ServeFlags& f) {
       if (!ReadString(n, f.tls_key_file).ok() || f.tls_key_file.empty()) {
         return Bad("expected the path of a PEM private key");
       }
       return quay::Status::Ok();
     }},
    {"webhook_ca_file",
     [](const YAML::Node& n, ServeFlags& f) {
       if (!ReadString(n, f.webhook_ca_file).ok() || f.webhook_ca_file.empty()) {
         return Bad("expected the path of a PEM CA bundle");
       }
       return quay::Status::Ok();
     }},
    {"data_dir",
     [](const YAML::Node& n, ServeFlags& f) {
       std::string dir;
       if (!ReadString(n, dir).ok() || dir.empty()) return Bad("expected a folder");
       f.data_dir = dir;
       return quay::Status::Ok();
     }},
    {"fsync", [](const YAML::Node& n, ServeFlags& f) { return ReadBool(n, f.fsync); }},
    {"blob_redirects",
     [](const YAML::Node& n, ServeFlags& f) { return ReadBool(n, f.blob_redirects); }},
    {"log_level",
     [](const YAML::Node& n, ServeFlags& f) {
       std::optional<quay::LogLevel> level =
           n.IsScalar() ? ParseLogLevel(n.Scalar()) : std::nullopt;
       if (!level) return Bad("expected debug, info, warn or error");
       f.log_level = *level;
       return quay::Status::Ok();
     }},
    {"log_format",
     [](const YAML::Node& n, ServeFlags& f) {
       std::optional<LogFormat> format = n.IsScalar() ? ParseLogFormat(n.Scalar()) : std::nullopt;
       if (!format) return Bad("expected text or json");
       f.log_format = *format;
       return quay::Status::Ok();
     }},
    {"threads",
     [](const YAML::Node& n, ServeFlags& f) {
       uint64_t threads = 0;
       quay::Status s = ReadCount(n, 1, 4096, threads);
       if (s.ok()) f.threads = static_cast<size_t>(threads);
       return s;
     }},
    {"max_connections_per_address",
     [](const YAML::Node& n, ServeFlags& f) {
       uint64_t cap = 0;
       quay::Status s = ReadCount(n, 0, kMaxConnectionsPerAddress, cap);
       if (s.ok()) f.max_connections_per_address = static_cast<size_t>(cap);
       return s;
     }},
    {"auto_prune_interval",
     [](const YAML::Node& n, ServeFlags& f) {
       return ReadDuration(n, f.tag_policies.auto_prune_interval);
     }},
    {"gc_interval",
     [](const YAML::Node& n, ServeFlags& f) { return ReadDuration(n, f.gc_interval); }},
    {"pull_audit",
     [](const YAML::Node& n, ServeFlags& f) { return ReadBool(n, f.auth.pull_audit); }},
    {"jwt_algorithm",
     [](const YAML::Node& n, ServeFlags& f) {
       std::string alg;
       if (!ReadString(n, alg).ok() || (alg != "RS256" && alg != "ES256")) {
         return Bad("expected RS256 or ES256");
       }
       f.auth.keys.algorithm =
           alg == "ES256" ? quay::auth::JwtAlgorithm::kES256 : quay::auth::JwtAlgorithm::kRS256;
       return quay::Status::Ok();
     }},
    {"signing_key_rotation",
     [](const YAML::Node& n, ServeFlags& f) {
       return ReadDuration(n, f.auth.keys.rotation, false);
     }},
    {"login_failure_limit",
     [](const YAML::Node& n, ServeFlags& f) {
       uint64_t limit = 0;
       quay::Status s = ReadCount(n, 0, 1000000, limit);
       if (s.ok()) f.auth.login_throttle.max_failures = static_cast<uint32_t>(limit);
       return s;
     }},
    {"login_failure_window",
     [](const YAML::Node& n, ServeFlags& f) {
       return ReadDuration(n, f.auth.login_throttle.window, false);
     }},
    {"login_backoff_max",
     [](const YAML::Node& n, ServeFlags& f) {
       return ReadDuration(n, f.auth.login_throttle.max_delay, false);
     }},
    {"password_hash_cost",
     [](const YAML::Node& n, ServeFlags& f) {
       std::string cost;
       if (!ReadString(n, cost).ok()) return Bad("expected interactive, moderate or minimum");
       if (cost == "interactive") {
         f.identity.password_hash_cost = quay::PasswordHashCost::kInteractive;
       } else if (cost == "moderate") {
         f.identity.password_hash_cost = quay::PasswordHashCost::kModerate;
       } else if (cost == "minimum") {
         f.identity.password_hash_cost = quay::PasswordHashCost::kMinimum;
       } else {
         return Bad("expected interactive, moderate or minimum");
       }
       return quay::Status::Ok();
     }},
};

}  // namespace

std::optional<seconds> ParseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t unit = 1;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    case 'w':
      unit = 7 * 86400;
      break;
    default:
      unit = 0;
      break;
  }
  if (unit != 0) text.remove_suffix(1);
  if (unit == 0) unit = 1;
  std::optional<uint64_t> n = ParseDecimal(text);
  if (!n || *n > static_cast<uint64_t>(kMaxDurationSeconds / unit)) return std::nullopt;
  return seconds(static_cast<int64_t>(*n) * unit);
}

namespace {

const Key* FindKey(std::string_view name) {
  for (const Key& k : kKeys) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

// Parses a YAML document: the root, or nullopt with the problem in `problem`.
std::optional<YAML::Node> ParseYaml(std::string_view text, std::string& problem) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    // The parser's message names a line and column, never a value.
    problem =
        fmt::format("not valid YAML (line {}, column {})", e.mark.line + 1, e.mark.column + 1);
    return std::nullopt;
  }
}

// Applies every entry of the mapping `root` over `flags`, each key through
// its reader. Every invalid value is one problem, "KEY: what is wrong";
// unknown keys are warnings. Applied keys land in `effective` (for the digest).
void ApplyMapping(const YAML::Node& root, ServeFlags& flags, std::vector<std::string>& warnings,
                  std::vector<std::string>& problems, std::map<std::string, YAML::Node>* effective,
                  std::string_view source_for_unknown) {
  try {
    for (const auto& entry : root) {
      if (!entry.first.IsScalar()) {
        problems.push_back("keys must be strings");
        continue;
      }
      const std::string& name = entry.first.Scalar();
      const Key* key = FindKey(name);
      if (key == nullptr) {
        warnings.push_back(fmt::format("unknown configuration key {}{} ignored", source_for_unknown,
                                       name.substr(0, 64)));
        continue;
      }
      if (quay::Status s = key->apply(entry.second, flags); !s.ok()) {
        problems.push_back(fmt::format("{}: {}", name, s.message()));
        continue;
      }
      if (effective) (*effective)[name] = entry.second;
    }
  } catch (const YAML::Exception& e) {
    problems.push_back(fmt::format("unreadable configuration (line {})", e.mark.line + 1));
  }
}

std::string Joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out += "; ";
    out += p;
  }
  return out;
}

// Reads a whole file; nullopt when it cannot be read.
std::optional<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return text.str();
}

// The digest of the applied keys: "sha256:" + hex of SHA-256 over
// "KEY=<value as flow YAML>\n" lines in key order, a secret's value replaced
// by "(set)" so that the digest cannot be used to guess it.
std::string DigestOf(const std::map<std::string, YAML::Node>& effective) {
  std::string text;
  for (const auto& [name, value] : effective) {
    const Key* key = FindKey(name);
    text += name;
    text += '=';
    if (key != nullptr && key->secret) {
      text += "(set)";
    } else {
      YAML::Emitter out;
      out << YAML::Flow
          << (key != nullptr && key->secret_fields ? RedactSecretFields(value) : value);
      text += out.c_str();
    }
    text += '\n';
  }
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), md);
  std::string hex = "sha256:";
  for (unsigned char b : md) hex += fmt::format("{:02x}", b);
  return hex;
}

}  // namespace

quay::Status ApplyConfigText(std::string_view yaml, ServeFlags& flags,
                             std::vector<std::string>& warnings) {
  std::string problem;
  std::optional<YAML::Node> root = ParseYaml(yaml, problem);
  if (!root) return Bad(problem);
  if (root->IsNull()) return quay::Status::Ok();  // an empty file
  if (!root->IsMap()) return Bad("the configuration must be a mapping of keys to values");
  ServeFlags updated = flags;
  std::vector<std::string> problems;
  ApplyMapping(*root, updated, warnings, problems, nullptr, "");
  if (!problems.empty()) return Bad(Joined(problems));
  flags = std::move(updated);
  return quay::Status::Ok();
}

std::vector<std::pair<std::string, std::string>> QuaydEnvironment(char** envp) {
  std::vector<std::pair<std::string, std::string>> out;
  for (char** e = envp; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    const size_t eq = entry.find('=');
    if (eq == std::string_view::npos || !entry.starts_with(kEnvironmentPrefix)) continue;
    out.emplace_back(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return out;
}

std::optional<std::string_view> KeyForVariable(std::string_view variable) {
  if (!variable.starts_with(kEnvironmentPrefix)) return std::nullopt;
  variable.remove_prefix(kEnvironmentPrefix.size());
  for (const Key& k : kKeys) {
    if (IEquals(k.name, variable)) return k.name;
  }
  return std::nullopt;
}

LoadedConfig LoadConfig(const std::string& path, const ConfigEnvironment& environment,
                        ServeFlags& flags) {
  LoadedConfig loaded;
  ServeFlags updated = flags;
  std::map<std::string, YAML::Node> effective;
  if (!path.empty()) {
    std::optional<std::string> text = ReadWholeFile(path);
    std::string problem;
    std::optional<YAML::Node> root = text ? ParseYaml(*text, problem) : std::nullopt;
    if (!text) {
      loaded.problems.push_back(fmt::format("{}: cannot be read", path));
    } else if (!root) {
      loaded.problems.push_back(fmt::format("{}: {}", path, problem));
    } else if (!root->IsNull() && !root->IsMap()) {
      loaded.problems.push_back(
          fmt::format("{}: the configuration must be a mapping of keys to values", path));
    } else if (root->IsMap()) {
      ApplyMapping(*root, updated, loaded.warnings, loaded.problems, &effective, "");
    }
  }
  // QUAYD_<KEY>=<YAML value>, over the file. A variable's value is parsed
  // as YAML so that lists ("[alice, bob]") and booleans read as in the file.
  YAML::Node from_env(YAML::NodeType::Map);
  for (const auto& [variable, value] : environment) {
    std::optional<std::string_view> key = KeyForVariable(variable);
    if (!key) {
      loaded.warnings.push_back(
          fmt::format("unknown configuration variable {} ignored", variable.substr(0, 64)));
      continue;
    }
    std::string problem;
    std::optional<YAML::Node> parsed = ParseYaml(value, problem);
    if (!parsed) {
      loaded.problems.push_back(fmt::format("{} ({}): {}", *key, variable, problem));
      continue;
    }
    from_env[std::string(*key)] = *parsed;
  }
  ApplyMapping(from_env, updated, loaded.warnings, loaded.problems, &effective, "");
  // The two storage keys name each other: checked once both are applied.
  if (quay::Result<const StorageLocation*> preferred = PreferredLocation(updated.storage);
      !preferred.ok()) {
    loaded.problems.push_back(preferred.status().message());
  }
  loaded.keys = effective.size();
  loaded.digest = DigestOf(effective);
  if (loaded.problems.empty()) flags = std::move(updated);
  return loaded;
}

quay::Status ApplyConfigFile(const std::string& path, ServeFlags& flags,
                             std::vector<std::string>& warnings) {
  std::optional<std::string> text = ReadWholeFile(path);
  if (!text) return Bad(fmt::format("{}: cannot be read", path));
  quay::Status applied = ApplyConfigText(*text, flags, warnings);
  if (!applied.ok()) return Bad(fmt::format("{}: {}", path, applied.message()));
  return applied;
}

}  // namespace quayd
