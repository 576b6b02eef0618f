// quayd's config file (host/cmd/config_file.h) and how it combines with the
// command line: defaults < file < flags. Also the admin subcommands' parsing.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "host/cmd/admin.h"
#include "host/cmd/cli.h"
#include "host/cmd/config_file.h"
#include "http_test_support.h"
#include "quay/identity.h"
#include "test_database.h"

using namespace quayd;
using std::chrono::seconds;

namespace {

quay::Status Apply(const std::string& yaml, ServeFlags& flags,
                   std::vector<std::string>* warnings = nullptr) {
  std::vector<std::string> local;
  return ApplyConfigText(yaml, flags, warnings ? *warnings : local);
}

}  // namespace

TEST_CASE("config: Quay keys and quayd keys land in the serve settings") {
  ServeFlags f;
  std::vector<std::string> warnings;
  quay::Status s = Apply(R"(
SERVER_HOSTNAME: registry.example:8443
PREFERRED_URL_SCHEME: https
SUPER_USERS: [admin, root]
GLOBAL_READONLY_SUPER_USERS:
  - auditor
FEATURE_SUPERUSERS_FULL_ACCESS: true
FEATURE_ANONYMOUS_ACCESS: "false"
FEATURE_PUBLIC_CATALOG: yes
CREATE_PRIVATE_REPO_ON_PUSH: false
CREATE_NAMESPACE_ON_PUSH: true
DATABASE_SECRET_KEY: a8c2744b-7004-4af2-bcee-e417e7bdd235
APP_SPECIFIC_TOKEN_EXPIRATION: 30d
REGISTRY_JWT_TOKEN_LIFETIME: 15m
ACTION_LOG_AUDIT_LOGINS: false
ACTION_LOG_AUDIT_LOGIN_FAILURES: true
listen: 0.0.0.0:5001
data_dir: /srv/quay
fsync: false
log_level: debug
log_format: json
threads: 64
gc_interval: 2h
pull_audit: false
jwt_algorithm: ES256
signing_key_rotation: 1w
login_failure_limit: 7
login_failure_window: 10m
login_backoff_max: 1h
password_hash_cost: moderate
DB_URI: postgresql://ignored
FEATURE_BUILD_SUPPORT: false
)",
                         f, &warnings);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CHECK(f.auth.server_hostname == "registry.example:8443");
  CHECK(f.auth.url_scheme == "https");
  CHECK(f.identity.super_users == std::vector<std::string>{"admin", "root"});
  CHECK(f.identity.global_readonly_super_users == std::vector<std::string>{"auditor"});
  CHECK(f.identity.superusers_full_access);
  CHECK_FALSE(f.identity.anonymous_access);
  CHECK_FALSE(f.auth.anonymous_access);
  CHECK(f.identity.public_catalog);
  CHECK_FALSE(f.identity.create_private_repo_on_push);
  CHECK(f.identity.create_namespace_on_push);
  CHECK(f.identity.database_secret_key == "a8c2744b-7004-4af2-bcee-e417e7bdd235");
  CHECK(f.identity.app_token_lifetime == seconds(30 * 86400));
  CHECK(f.auth.keys.token_lifetime == seconds(900));
  CHECK_FALSE(f.auth.login_audit);
  CHECK(f.auth.login_failure_audit);
  CHECK(f.host == "0.0.0.0");
  CHECK(f.port == 5001);
  CHECK(f.data_dir == "/srv/quay");
  CHECK_FALSE(f.fsync);
  CHECK(f.log_level == quay::LogLevel::kDebug);
  CHECK(f.log_format == LogFormat::kJson);
  CHECK(f.threads == 64);
  CHECK(f.gc_interval == seconds(7200));
  CHECK_FALSE(f.auth.pull_audit);
  CHECK(f.auth.keys.algorithm == quay::auth::JwtAlgorithm::kES256);
  CHECK(f.auth.keys.rotation == seconds(7 * 86400));
  CHECK(f.auth.login_throttle.max_failures == 7);
  CHECK(f.auth.login_throttle.window == seconds(600));
  CHECK(f.auth.login_throttle.max_delay == seconds(3600));
  CHECK(f.identity.password_hash_cost == quay::PasswordHashCost::kModerate);
  // Unknown keys: warnings naming them, not errors.
  CHECK(f.database_uri == "postgresql://ignored");
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("FEATURE_BUILD_SUPPORT") != std::string::npos);
}

TEST_CASE("config: DB_URI takes PostgreSQL URIs and Quay's sqlite:/// form, nothing else") {
  ServeFlags f;
  std::vector<std::string> warnings;
  REQUIRE(ApplyConfigText("DB_URI: sqlite:////var/lib/quay/quay.db\n", f, warnings).ok());
  CHECK(f.database_uri == "/var/lib/quay/quay.db");
  REQUIRE(ApplyConfigText("DB_URI: postgres://quay:pw@db:5432/quay\n", f, warnings).ok());
  CHECK(f.database_uri == "postgres://quay:pw@db:5432/quay");
  const quay::Status mysql = ApplyConfigText("DB_URI: mysql+pymysql://quay@db/quay\n", f, warnings);
  CHECK(mysql.code() == quay::Code::kInvalidArgument);
  CHECK(mysql.message().find("DB_URI") != std::string::npos);
  CHECK(mysql.message().find("pymysql") == std::string::npos);  // never the value
  CHECK(f.database_uri == "postgres://quay:pw@db:5432/quay");   // unchanged
}

TEST_CASE("config: defaults stay when the file is empty; SUPERUSERS alias") {
  ServeFlags f;
  CHECK(Apply("", f).ok());
  CHECK(Apply("# nothing\n", f).ok());
  CHECK(f.identity.anonymous_access);
  CHECK(f.identity.create_private_repo_on_push);
  CHECK_FALSE(f.identity.create_namespace_on_push);
  CHECK(f.identity.database_secret_key.empty());
  CHECK(f.auth.pull_audit);
  CHECK(f.auth.keys.token_lifetime == seconds(3600));
  CHECK(Apply("SUPERUSERS: [ops]\n", f).ok());
  CHECK(f.identity.super_users == std::vector<std::string>{"ops"});
  CHECK(Apply("SUPER_USERS:\n", f).ok());  // null: empty list
  CHECK(f.identity.super_users.empty());
  CHECK(Apply("APP_SPECIFIC_TOKEN_EXPIRATION: null\n", f).ok());
  CHECK(f.identity.app_token_lifetime == seconds(0));
}

TEST_CASE("config: an invalid value names its key and changes nothing") {
  struct Case {
    const char* yaml;
    const char* key;
  };
  for (const Case& c : {
           Case{"FEATURE_ANONYMOUS_ACCESS: maybe\n", "FEATURE_ANONYMOUS_ACCESS"},
           Case{"SUPER_USERS: admin\n", "SUPER_USERS"},
           Case{"SUPER_USERS: [[a]]\n", "SUPER_USERS"},
           Case{"SERVER_HOSTNAME: 'bad host\"'\n", "SERVER_HOSTNAME"},
           Case{"SERVER_HOSTNAME: [a]\n", "SERVER_HOSTNAME"},
           Case{"PREFERRED_URL_SCHEME: ftp\n", "PREFERRED_URL_SCHEME"},
           Case{"REGISTRY_JWT_TOKEN_LIFETIME: 0\n", "REGISTRY_JWT_TOKEN_LIFETIME"},
           Case{"REGISTRY_JWT_TOKEN_LIFETIME: 1y\n", "REGISTRY_JWT_TOKEN_LIFETIME"},
           Case{"REGISTRY_JWT_TOKEN_LIFETIME: -5\n", "REGISTRY_JWT_TOKEN_LIFETIME"},
           Case{"listen: nowhere\n", "listen"},
           Case{"threads: 0\n", "threads"},
           Case{"threads: lots\n", "threads"},
           Case{"gc_interval: soon\n", "gc_interval"},
           Case{"jwt_algorithm: HS256\n", "jwt_algorithm"},
           Case{"log_level: loud\n", "log_level"},
           Case{"password_hash_cost: none\n", "password_hash_cost"},
           Case{"data_dir: ''\n", "data_dir"},
           Case{"CREATE_NAMESPACE_ON_PUSH: sometimes\n", "CREATE_NAMESPACE_ON_PUSH"},
           Case{"DATABASE_SECRET_KEY: ''\n", "DATABASE_SECRET_KEY"},
           Case{"DATABASE_SECRET_KEY: [s3cr3t-in-a-list]\n", "DATABASE_SECRET_KEY"},
       }) {
    CAPTURE(c.yaml);
    ServeFlags f;
    f.data_dir = "/unchanged";
    quay::Status s = Apply(std::string("threads: 8\n") + c.yaml, f);
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() == quay::Code::kInvalidArgument);
    CHECK(s.message().rfind(std::string(c.key) + ":", 0) == 0);
    CHECK(s.message().find("s3cr3t") == std::string::npos);  // never a value
    CHECK(f.threads == ServeFlags{}.threads);                // nothing applied
    CHECK(f.data_dir == "/unchanged");
  }
  ServeFlags f;
  CHECK_FALSE(Apply("[1, 2]\n", f).ok());
  CHECK_FALSE(Apply("key: [unclosed\n", f).ok());
  CHECK_FALSE(Apply("just a string\n", f).ok());
}

TEST_CASE("config: durations") {
  CHECK(ParseDuration("90") == seconds(90));
  CHECK(ParseDuration("45s") == seconds(45));
  CHECK(ParseDuration("15m") == seconds(900));
  CHECK(ParseDuration("2h") == seconds(7200));
  CHECK(ParseDuration("3d") == seconds(3 * 86400));
  CHECK(ParseDuration("2w") == seconds(14 * 86400));
  CHECK(ParseDuration("0") == seconds(0));
  for (const char* bad : {"", "h", "-1", "1.5h", "1y", "1 h", "99999999999w", "0x10"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseDuration(bad).has_value());
  }
}

TEST_CASE("config: the file, then the flags (flags win)") {
  quayd::testing::TempDir dir;
  const std::string path = dir.path() + "/config.yaml";
  {
    std::ofstream out(path);
    out << "listen: 0.0.0.0:6000\ndata_dir: /from/file\nthreads: 12\n"
           "FEATURE_ANONYMOUS_ACCESS: false\n";
  }
  std::vector<std::string_view> args = {"serve", "--config", path, "--data-dir", "/from/flag"};
  auto first = ParseCommandLine(args);
  REQUIRE(first.ok());
  CHECK(first->serve.config_path == path);
  ServeFlags from_file;
  std::vector<std::string> warnings;
  REQUIRE(ApplyConfigFile(path, from_file, warnings).ok());
  auto command = ParseCommandLine(args, from_file);
  REQUIRE(command.ok());
  CHECK(command->serve.data_dir == "/from/flag");  // flag wins
  CHECK(command->serve.port == 6000);              // file
  CHECK(command->serve.threads == 12);             // file
  CHECK_FALSE(command->serve.identity.anonymous_access);
  CHECK(command->serve.auth.pull_audit);

  auto no_audit = ParseCommandLine({"serve", "--no-pull-audit"});
  REQUIRE(no_audit.ok());
  CHECK_FALSE(no_audit->serve.auth.pull_audit);

  std::vector<std::string> w;
  ServeFlags f;
  quay::Status missing = ApplyConfigFile(dir.path() + "/absent.yaml", f, w);
  CHECK_FALSE(missing.ok());
  CHECK(missing.message().find("absent.yaml") != std::string::npos);
}

// Issue 11: the per-address connection cap is set like the other limits,
// in the file and by a flag (the flag wins), 0 meaning no limit.
TEST_CASE("config: webhook_ca_file is the CA bundle of https webhook receivers") {
  ServeFlags f;
  CHECK(f.webhook_ca_file.empty());  // the system's trust store
  std::vector<std::string> warnings;
  REQUIRE(ApplyConfigText("webhook_ca_file: /etc/quayd/hooks-ca.pem\n", f, warnings).ok());
  CHECK(f.webhook_ca_file == "/etc/quayd/hooks-ca.pem");
  CHECK(warnings.empty());
  ServeFlags g;
  quay::Status s = ApplyConfigText("webhook_ca_file: ''\n", g, warnings);
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("webhook_ca_file") != std::string::npos);
}

TEST_CASE("config: max_connections_per_address, file and flag") {
  ServeFlags f;
  CHECK(f.max_connections_per_address == 256);  // the default
  std::vector<std::string> warnings;
  REQUIRE(ApplyConfigText("max_connections_per_address: 1000\n", f, warnings).ok());
  CHECK(f.max_connections_per_address == 1000);
  REQUIRE(ApplyConfigText("max_connections_per_address: 0\n", f, warnings).ok());
  CHECK(f.max_connections_per_address == 0);
  for (const char* bad :
       {"max_connections_per_address: -1\n", "max_connections_per_address: many\n",
        "max_connections_per_address: 1000001\n"}) {
    CAPTURE(bad);
    ServeFlags g;
    quay::Status s = ApplyConfigText(bad, g, warnings);
    CHECK_FALSE(s.ok());
    CHECK(s.message().find("max_connections_per_address") != std::string::npos);
    CHECK(g.max_connections_per_address == 256);
  }
  CHECK(warnings.empty());

  ServeFlags from_file;
  REQUIRE(ApplyConfigText("max_connections_per_address: 9\n", from_file, warnings).ok());
  auto command = ParseCommandLine({"serve", "--max-connections-per-address", "5000"}, from_file);
  REQUIRE(command.ok());
  CHECK(command->serve.max_connections_per_address == 5000);
  auto file_only = ParseCommandLine({"serve"}, from_file);
  REQUIRE(file_only.ok());
  CHECK(file_only->serve.max_connections_per_address == 9);
  CHECK_FALSE(ParseCommandLine({"serve", "--max-connections-per-address", "x"}).ok());
  CHECK_FALSE(ParseCommandLine({"serve", "--max-connections-per-address"}).ok());
}

TEST_CASE("cli: admin subcommands") {
  auto user = ParseCommandLine({"user", "add", "alice", "--data-dir", "/d", "--email=a@x"});
  REQUIRE(user.ok());
  CHECK(user->kind == Command::Kind::kAdmin);
  CHECK(user->admin.verb == AdminFlags::Verb::kUserAdd);
  CHECK(user->admin.args == std::vector<std::string>{"alice"});
  CHECK(user->admin.data_dir == "/d");
  CHECK(user->admin.data_dir_given);
  CHECK(user->admin.email == "a@x");

  auto passwd = ParseCommandLine({"user", "passwd", "alice"});
  REQUIRE(passwd.ok());
  CHECK(passwd->admin.verb == AdminFlags::Verb::kUserPasswd);
  CHECK_FALSE(passwd->admin.data_dir_given);

  auto robot = ParseCommandLine({"robot", "add", "acme+ci", "--description", "CI bot"});
  REQUIRE(robot.ok());
  CHECK(robot->admin.verb == AdminFlags::Verb::kRobotAdd);
  CHECK(robot->admin.text == "CI bot");

  auto token = ParseCommandLine({"token", "add", "alice", "--title=laptop", "--config", "c.yaml"});
  REQUIRE(token.ok());
  CHECK(token->admin.verb == AdminFlags::Verb::kTokenAdd);
  CHECK(token->admin.text == "laptop");
  CHECK(token->admin.config_path == "c.yaml");

  auto visibility = ParseCommandLine({"repo", "visibility", "alice/app", "public"});
  REQUIRE(visibility.ok());
  CHECK(visibility->admin.verb == AdminFlags::Verb::kRepoVisibility);
  CHECK(visibility->admin.args == std::vector<std::string>{"alice/app", "public"});

  auto grant = ParseCommandLine({"repo", "grant", "alice/app", "robot:alice+ci", "read"});
  REQUIRE(grant.ok());
  CHECK(grant->admin.verb == AdminFlags::Verb::kRepoGrant);

  for (std::vector<std::string_view> bad : {std::vector<std::string_view>{"user"},
                                            {"user", "remove", "alice"},
                                            {"user", "add"},
                                            {"user", "add", "a", "b"},
                                            {"user", "add", "alice", "--password", "x"},
                                            {"robot", "add", "a+b", "--email", "x"},
                                            {"repo", "visibility", "a/b"},
                                            {"user", "add", "alice", "--data-dir"}}) {
    CAPTURE(bad.size());
    CHECK_FALSE(ParseCommandLine(bad).ok());
  }
}

TEST_CASE("cli: org and team subcommands") {
  auto org = ParseCommandLine({"org", "add", "acme", "--owner", "alice", "--email=o@x"});
  REQUIRE(org.ok());
  CHECK(org->kind == Command::Kind::kAdmin);
  CHECK(org->admin.verb == AdminFlags::Verb::kOrgAdd);
  CHECK(org->admin.args == std::vector<std::string>{"acme"});
  CHECK(org->admin.owner == "alice");
  CHECK(org->admin.email == "o@x");
  CHECK(AdminCommandName(org->admin.verb) == "org add");

  auto team = ParseCommandLine(
      {"org", "team", "add", "acme", "devs", "--role=creator", "--description", "Developers"});
  REQUIRE(team.ok());
  CHECK(team->admin.verb == AdminFlags::Verb::kTeamAdd);
  CHECK(team->admin.args == std::vector<std::string>{"acme", "devs"});
  CHECK(team->admin.role == "creator");
  CHECK(team->admin.text == "Developers");
  auto plain_team = ParseCommandLine({"org", "team", "add", "acme", "devs", "--data-dir", "/d"});
  REQUIRE(plain_team.ok());
  CHECK(plain_team->admin.role.empty());  // the command's default (member)
  CHECK(plain_team->admin.data_dir == "/d");

  auto role = ParseCommandLine({"org", "team", "role", "acme", "devs", "admin"});
  REQUIRE(role.ok());
  CHECK(role->admin.verb == AdminFlags::Verb::kTeamRole);
  CHECK(role->admin.args == std::vector<std::string>{"acme", "devs", "admin"});

  auto member = ParseCommandLine({"org", "team", "member", "acme", "devs", "bob", "--config", "c"});
  REQUIRE(member.ok());
  CHECK(member->admin.verb == AdminFlags::Verb::kTeamMember);
  CHECK(member->admin.args == std::vector<std::string>{"acme", "devs", "bob"});
  CHECK(member->admin.config_path == "c");
  CHECK(AdminCommandName(member->admin.verb) == "org team member");

  auto help = ParseCommandLine({"org", "team", "add", "--help"});
  REQUIRE(help.ok());
  CHECK(help->kind == Command::Kind::kHelp);

  struct Bad {
    std::vector<std::string_view> args;
    std::string_view message;
  };
  for (const Bad& bad : std::vector<Bad>{
           {{"org"}, "'org' needs a subcommand"},
           {{"org", "team"}, "'org team' needs a subcommand"},
           {{"org", "remove", "acme"}, "unknown command 'org remove'"},
           {{"org", "team", "frob", "acme"}, "unknown command 'org team frob'"},
           {{"org", "add", "acme"}, "'org add' needs --owner"},
           {{"org", "add", "acme", "--owner="}, "'org add' needs --owner"},
           {{"org", "add", "acme", "extra", "--owner", "alice"}, "takes 1 argument(s), got 2"},
           {{"org", "add", "acme", "--owner", "alice", "--role", "admin"},
            "unknown option '--role'"},
           {{"org", "team", "add", "acme"}, "'org team add' takes 2 argument(s), got 1"},
           {{"org", "team", "add", "acme", "devs", "--owner", "x"}, "unknown option '--owner'"},
           {{"org", "team", "member", "acme", "devs"}, "takes 3 argument(s)"},
           {{"org", "team", "role", "acme", "devs", "admin", "--role", "x"}, "unknown option"},
           {{"team", "add", "acme", "devs"}, "unknown command 'team'"},
       }) {
    CAPTURE(bad.message);
    auto parsed = ParseCommandLine(bad.args);
    REQUIRE_FALSE(parsed.ok());
    CHECK_MESSAGE(parsed.status().message().find(bad.message) != std::string::npos,
                  parsed.status().message());
  }
  // The usage text names the new commands.
  CHECK(Usage().find("team member ORG TEAM") != std::string_view::npos);
  CHECK(Usage().find("add NAME --owner USER") != std::string_view::npos);
}

namespace {

// Runs an admin command with `input` on stdin; captures stdout and stderr.
struct AdminRun {
  int status = -1;
  std::string out, err;
};

std::string ReadAll(std::FILE* f) {
  std::string text;
  std::rewind(f);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
  return text;
}

// On PostgreSQL (QUAY_TEST_BACKEND=postgres) the admin commands reach the
// test's database through QUAYD_DB_URI, as an operator's would through
// DB_URI; on SQLite they open the data folder's file.
struct DatabaseForAdmin {
  explicit DatabaseForAdmin(const std::string& data_dir) {
    if (quay::testing::UsePostgres()) {
      ::setenv("QUAYD_DB_URI", quay::testing::TestDatabaseFor(data_dir + "/quay.db").c_str(), 1);
    }
  }
  ~DatabaseForAdmin() { ::unsetenv("QUAYD_DB_URI"); }
  DatabaseForAdmin(const DatabaseForAdmin&) = delete;
  DatabaseForAdmin& operator=(const DatabaseForAdmin&) = delete;
};

AdminRun RunWith(std::vector<std::string_view> args, const std::string& input) {
  AdminRun run;
  auto command = ParseCommandLine(args);
  REQUIRE(command.ok());
  std::FILE* in = std::tmpfile();
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  std::fwrite(input.data(), 1, input.size(), in);
  std::rewind(in);
  run.status = RunAdmin(command->admin, in, out, err);
  run.out = ReadAll(out);
  run.err = ReadAll(err);
  std::fclose(in);
  std::fclose(out);
  std::fclose(err);
  return run;
}

}  // namespace

TEST_CASE("admin: user, robot, token and repository commands on a data folder") {
  quayd::testing::TempDir dir;
  const std::string data = dir.path() + "/data";  // created by the first command
  const DatabaseForAdmin database(data);
  const std::string config = dir.path() + "/quay.yaml";
  {
    std::ofstream out(config);
    out << "data_dir: " << data << "\npassword_hash_cost: minimum\n";
  }

  AdminRun added = RunWith({"user", "add", "alice", "--config", config}, "first-Passw0rd\n");
  CHECK_MESSAGE(added.status == 0, added.err);
  CHECK(added.out.empty());
  CHECK(added.err.find("created user alice") != std::string::npos);
  CHECK(added.err.find("first-Passw0rd") == std::string::npos);

  AdminRun dup = RunWith({"user", "add", "alice", "--config", config}, "x\n");
  CHECK(dup.status == 1);
  AdminRun empty = RunWith({"user", "add", "bob", "--config", config}, "");
  CHECK(empty.status == 1);
  CHECK(empty.err.find("password") != std::string::npos);

  AdminRun passwd = RunWith({"user", "passwd", "alice", "--config", config}, "second-Passw0rd\r\n");
  CHECK_MESSAGE(passwd.status == 0, passwd.err);

  AdminRun robot = RunWith({"robot", "add", "alice+ci", "--config", config}, "");
  CHECK_MESSAGE(robot.status == 0, robot.err);
  const std::string robot_token = robot.out.substr(0, robot.out.find('\n'));
  CHECK(robot_token.size() >= 32);
  AdminRun bad_robot = RunWith({"robot", "add", "noplus", "--config", config}, "");
  CHECK(bad_robot.status == 1);

  AdminRun token = RunWith({"token", "add", "alice", "--title", "laptop", "--config", config}, "");
  CHECK_MESSAGE(token.status == 0, token.err);
  const std::string app_token = token.out.substr(0, token.out.find('\n'));
  CHECK(app_token.size() >= 32);

  // A repository (created through the identity service) made public and
  // shared with the robot.
  quay::Options options;
  options.data_dir = data;
  options.identity.password_hash_cost = quay::PasswordHashCost::kMinimum;
  {
    auto identity = quay::IdentityService::Open(quay::testing::WithTestDatabase(options));
    REQUIRE(identity.ok());
    quay::Actor actor;
    REQUIRE((*identity)->CreateRepository(actor, "alice/app", quay::Visibility::kPrivate, "").ok());
  }
  AdminRun visibility =
      RunWith({"repo", "visibility", "alice/app", "public", "--data-dir", data}, "");
  CHECK_MESSAGE(visibility.status == 0, visibility.err);
  AdminRun grant =
      RunWith({"repo", "grant", "alice/app", "robot:alice+ci", "write", "--data-dir", data}, "");
  CHECK_MESSAGE(grant.status == 0, grant.err);
  AdminRun bad_grant =
      RunWith({"repo", "grant", "alice/app", "nobody", "write", "--data-dir", data}, "");
  CHECK(bad_grant.status == 1);
  AdminRun bad_visibility =
      RunWith({"repo", "visibility", "alice/app", "hidden", "--data-dir", data}, "");
  CHECK(bad_visibility.status == 1);

  auto identity = quay::IdentityService::Open(quay::testing::WithTestDatabase(options));
  REQUIRE(identity.ok());
  CHECK_FALSE((*identity)->AuthenticateUser("alice", "first-Passw0rd").ok());
  CHECK((*identity)->AuthenticateUser("alice", "second-Passw0rd").ok());
  CHECK((*identity)->AuthenticateRobot("alice+ci", robot_token).ok());
  CHECK((*identity)->AuthenticateBasic("alice", app_token).ok());
  auto repo = (*identity)->GetRepository("alice/app");
  REQUIRE(repo.ok());
  CHECK(repo->visibility == quay::Visibility::kPublic);
  auto permissions = (*identity)->ListPermissions("alice/app");
  REQUIRE(permissions.ok());
  REQUIRE(permissions->size() == 1);
  CHECK((*permissions)[0].role == quay::RepositoryRole::kWrite);
}

TEST_CASE("admin: org and team commands on a data folder, audited") {
  quayd::testing::TempDir dir;
  const std::string data = dir.path() + "/data";
  const DatabaseForAdmin database(data);
  const std::string config = dir.path() + "/quay.yaml";
  {
    std::ofstream out(config);
    out << "data_dir: " << data << "\npassword_hash_cost: minimum\n";
  }
  REQUIRE(RunWith({"user", "add", "alice", "--config", config}, "Passw0rd-a\n").status == 0);
  REQUIRE(RunWith({"user", "add", "bob", "--config", config}, "Passw0rd-b\n").status == 0);

  AdminRun org = RunWith({"org", "add", "acme", "--owner", "alice", "--config", config}, "");
  CHECK_MESSAGE(org.status == 0, org.err);
  CHECK(org.out.empty());
  CHECK(org.err.find("created organization acme") != std::string::npos);
  CHECK(RunWith({"org", "add", "acme", "--owner", "alice", "--config", config}, "").status == 1);
  AdminRun no_owner = RunWith({"org", "add", "other", "--owner", "nobody", "--config", config}, "");
  CHECK(no_owner.status == 1);
  CHECK(no_owner.err.find("nobody") != std::string::npos);

  AdminRun team = RunWith({"org", "team", "add", "acme", "devs", "--config", config}, "");
  CHECK_MESSAGE(team.status == 0, team.err);
  CHECK(team.err.find("role member") != std::string::npos);
  AdminRun builders = RunWith(
      {"org", "team", "add", "acme", "builders", "--role", "creator", "--data-dir", data}, "");
  CHECK_MESSAGE(builders.status == 0, builders.err);
  AdminRun bad_role =
      RunWith({"org", "team", "add", "acme", "ops", "--role", "owner", "--data-dir", data}, "");
  CHECK(bad_role.status == 1);
  CHECK(RunWith({"org", "team", "add", "nope", "devs", "--data-dir", data}, "").status == 1);

  AdminRun member =
      RunWith({"org", "team", "member", "acme", "devs", "bob", "--data-dir", data}, "");
  CHECK_MESSAGE(member.status == 0, member.err);
  CHECK(
      RunWith({"org", "team", "member", "acme", "devs", "ghost", "--data-dir", data}, "").status ==
      1);
  AdminRun promoted =
      RunWith({"org", "team", "role", "acme", "devs", "admin", "--data-dir", data}, "");
  CHECK_MESSAGE(promoted.status == 0, promoted.err);
  CHECK(RunWith({"org", "team", "role", "acme", "devs", "boss", "--data-dir", data}, "").status ==
        1);

  quay::Options options;
  options.data_dir = data;
  auto identity = quay::IdentityService::Open(quay::testing::WithTestDatabase(options));
  REQUIRE(identity.ok());
  auto& id = **identity;
  REQUIRE(id.GetOrganization("acme").ok());
  CHECK(*id.ListTeamMembers("acme", "owners") == std::vector<std::string>{"alice"});
  CHECK(*id.ListTeamMembers("acme", "devs") == std::vector<std::string>{"bob"});
  auto teams = id.ListTeams("acme");
  REQUIRE(teams.ok());
  std::vector<std::string> roles;
  for (const quay::Team& t : *teams) {
    roles.push_back(t.name + "=" + std::string(quay::ToString(t.role)));
  }
  std::sort(roles.begin(), roles.end());
  CHECK(roles == std::vector<std::string>{"builders=creator", "devs=admin", "owners=admin"});
  // devs is an admin team now: bob administers acme's repositories.
  CHECK(id.authorizer()->Check(quay::Principal::User("bob"), "acme/app", quay::Action::kPush).ok());

  quay::AuditQuery q;
  q.namespace_name = "acme";
  q.limit = 50;
  auto page = id.audit().Query(q);
  REQUIRE(page.ok());
  std::vector<std::string> kinds;
  for (const quay::AuditEvent& e : page->events) {
    kinds.push_back(e.kind);
    CHECK(e.request_id == "quayd-cli");
  }
  std::reverse(kinds.begin(), kinds.end());
  CHECK(kinds == std::vector<std::string>{"org_create", "org_create_team", "org_create_team",
                                          "org_add_team_member", "org_set_team_role"});
}

TEST_CASE("config: TRUSTED_PROXIES and --trusted-proxy (flags replace the file's list)") {
  ServeFlags f;
  std::vector<std::string> warnings;
  REQUIRE(ApplyConfigText("TRUSTED_PROXIES: [10.0.0.1, '::1']\n", f, warnings).ok());
  CHECK(f.trusted_proxies == std::vector<std::string>{"10.0.0.1", "::1"});
  ServeFlags bad;
  quay::Status s = ApplyConfigText("TRUSTED_PROXIES: [proxy.example]\n", bad, warnings);
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("TRUSTED_PROXIES") != std::string::npos);

  auto flags =
      ParseCommandLine({"serve", "--trusted-proxy", "192.0.2.1", "--trusted-proxy=192.0.2.2"}, f);
  REQUIRE(flags.ok());
  CHECK(flags->serve.trusted_proxies == std::vector<std::string>{"192.0.2.1", "192.0.2.2"});
  CHECK(ParseCommandLine({"serve"}, f)->serve.trusted_proxies.size() == 2);
  CHECK_FALSE(ParseCommandLine({"serve", "--trusted-proxy", "localhost"}).ok());
  CHECK_FALSE(ParseCommandLine({"serve", "--trusted-proxy"}).ok());
}

// Issue 13: every key from the environment (QUAYD_<KEY>, YAML values), over
// the file; every problem listed by key; a digest of the effective
// configuration that hides secrets.
TEST_CASE("config: QUAYD_ variables set every key, over the file") {
  quayd::testing::TempDir dir;
  const std::string path = dir.path() + "/config.yaml";
  {
    std::ofstream out(path);
    out << "threads: 12\nSERVER_HOSTNAME: file.example\nfsync: true\n";
  }
  const ConfigEnvironment env = {{"QUAYD_SERVER_HOSTNAME", "env.example"},
                                 {"QUAYD_SUPER_USERS", "[alice, bob]"},
                                 {"QUAYD_FSYNC", "false"},
                                 {"QUAYD_LISTEN", "127.0.0.1:6100"},
                                 {"QUAYD_gc_interval", "15m"},
                                 {"QUAYD_NOT_A_KEY", "1"}};
  ServeFlags f;
  LoadedConfig loaded = LoadConfig(path, env, f);
  INFO(loaded.problems.size());
  REQUIRE(loaded.problems.empty());
  CHECK(f.threads == 12);                          // file
  CHECK(f.auth.server_hostname == "env.example");  // environment wins
  CHECK(f.identity.super_users == std::vector<std::string>{"alice", "bob"});
  CHECK_FALSE(f.fsync);
  CHECK(f.port == 6100);
  CHECK(f.gc_interval == seconds(900));
  REQUIRE(loaded.warnings.size() == 1);
  CHECK(loaded.warnings[0].find("QUAYD_NOT_A_KEY") != std::string::npos);
  CHECK(loaded.keys == 6);  // threads, SERVER_HOSTNAME, fsync, SUPER_USERS, listen, gc_interval
  CHECK(KeyForVariable("QUAYD_data_dir") == std::optional<std::string_view>("data_dir"));
  CHECK(KeyForVariable("QUAYD_FEATURE_ANONYMOUS_ACCESS") ==
        std::optional<std::string_view>("FEATURE_ANONYMOUS_ACCESS"));
  CHECK_FALSE(KeyForVariable("QUAY_LISTEN"));

  // Flags still win over both.
  auto command = ParseCommandLine({"serve", "--listen", "127.0.0.1:6200"}, f);
  REQUIRE(command.ok());
  CHECK(command->serve.port == 6200);
  CHECK(command->serve.auth.server_hostname == "env.example");

  // Without a file the environment alone applies.
  ServeFlags only_env;
  CHECK(LoadConfig("", {{"QUAYD_DATA_DIR", "/srv/quay"}}, only_env).problems.empty());
  CHECK(only_env.data_dir == "/srv/quay");
}

TEST_CASE("config: every problem is listed by key, and nothing is applied") {
  quayd::testing::TempDir dir;
  const std::string path = dir.path() + "/config.yaml";
  {
    std::ofstream out(path);
    out << "threads: 0\nFEATURE_ANONYMOUS_ACCESS: maybe\nlisten: 127.0.0.1:7000\n"
           "SECRET_KEY: short-s3cr3t\nUNKNOWN_KEY: 1\n";
  }
  ServeFlags f;
  const LoadedConfig loaded = LoadConfig(path, {{"QUAYD_GC_INTERVAL", "soon"}}, f);
  REQUIRE(loaded.problems.size() == 4);
  auto listed = [&](std::string_view key) {
    return std::any_of(loaded.problems.begin(), loaded.problems.end(),
                       [&](const std::string& p) { return p.starts_with(std::string(key) + ":"); });
  };
  CHECK(listed("threads"));
  CHECK(listed("FEATURE_ANONYMOUS_ACCESS"));
  CHECK(listed("SECRET_KEY"));
  CHECK(listed("gc_interval"));
  for (const std::string& p : loaded.problems) CHECK(p.find("s3cr3t") == std::string::npos);
  CHECK(loaded.warnings.size() == 1);
  CHECK(f.port == ServeFlags{}.port);  // nothing applied, not even the valid key

  // A file that is not there, or not YAML, is one problem naming it.
  ServeFlags g;
  const LoadedConfig absent = LoadConfig(dir.path() + "/absent.yaml", {}, g);
  REQUIRE(absent.problems.size() == 1);
  CHECK(absent.problems[0].find("absent.yaml") != std::string::npos);
  // The old single-status entry point reports them all too.
  ServeFlags h;
  quay::Status s = Apply("threads: 0\nlog_level: loud\n", h);
  CHECK(s.message().find("threads:") != std::string::npos);
  CHECK(s.message().find("log_level:") != std::string::npos);
}

TEST_CASE("config: the digest follows the effective values and hides secrets") {
  auto digest = [](const ConfigEnvironment& env) {
    ServeFlags f;
    const LoadedConfig loaded = LoadConfig("", env, f);
    REQUIRE(loaded.problems.empty());
    return loaded.digest;
  };
  const std::string a = digest({{"QUAYD_THREADS", "8"}, {"QUAYD_LISTEN", "127.0.0.1:6000"}});
  CHECK(a.starts_with("sha256:"));
  CHECK(a.size() == 7 + 64);
  // The same settings from another order: the same digest; another value: another.
  CHECK(digest({{"QUAYD_LISTEN", "127.0.0.1:6000"}, {"QUAYD_THREADS", "8"}}) == a);
  CHECK(digest({{"QUAYD_THREADS", "9"}, {"QUAYD_LISTEN", "127.0.0.1:6000"}}) != a);
  // A secret counts as set: two different secrets give one digest, so the
  // logged digest cannot confirm a guess.
  const std::string k1(40, 'x'), k2(40, 'y');
  CHECK(digest({{"QUAYD_SECRET_KEY", k1}}) == digest({{"QUAYD_SECRET_KEY", k2}}));
  CHECK(digest({{"QUAYD_SECRET_KEY", k1}}) != digest({}));
  CHECK(digest({{"QUAYD_DATABASE_SECRET_KEY", "one"}}) ==
        digest({{"QUAYD_DATABASE_SECRET_KEY", "two"}}));
}

TEST_CASE("cli: config validate") {
  auto command = ParseCommandLine({"config", "validate", "/etc/quay/config.yaml"});
  REQUIRE(command.ok());
  CHECK(command->kind == Command::Kind::kConfigValidate);
  CHECK(command->config_path == "/etc/quay/config.yaml");
  CHECK_FALSE(ParseCommandLine({"config"}).ok());
  CHECK_FALSE(ParseCommandLine({"config", "check", "x.yaml"}).ok());
}

TEST_CASE("config: DISTRIBUTED_STORAGE_CONFIG with Quay's RadosGWStorage and S3Storage keys") {
  ServeFlags f;
  quay::Status s = Apply(R"(
DISTRIBUTED_STORAGE_CONFIG:
  local: [LocalStorage, {storage_path: /datastorage/registry}]
  rgw:
    - RadosGWStorage
    - hostname: rgw.internal
      port: 7480
      is_secure: false
      access_key: AKRGW
      secret_key: rgw-secret
      bucket_name: quay
      storage_path: /registry/storage/
  aws:
    - S3Storage
    - s3_bucket: quay-eu
      s3_access_key: AKAWS
      s3_secret_key: aws-secret
      s3_region: eu-west-1
      storage_path: registry
DISTRIBUTED_STORAGE_PREFERENCE: [rgw, aws]
)",
                         f);
  CAPTURE(s.ToString());
  REQUIRE(s.ok());
  REQUIRE(f.storage.locations.size() == 3);
  auto preferred = PreferredLocation(f.storage);
  REQUIRE(preferred.ok());
  REQUIRE(*preferred != nullptr);
  const StorageLocation& rgw = **preferred;
  CHECK(rgw.name == "rgw");
  CHECK(rgw.driver == "RadosGWStorage");
  CHECK(rgw.s3.endpoint == "http://rgw.internal:7480");
  CHECK(rgw.s3.bucket == "quay");
  CHECK(rgw.s3.access_key == "AKRGW");
  CHECK(rgw.s3.secret_key == "rgw-secret");
  CHECK(rgw.s3.prefix == "/registry/storage/");
  CHECK_FALSE(rgw.s3.create_bucket);

  const auto aws = std::find_if(f.storage.locations.begin(), f.storage.locations.end(),
                                [](const StorageLocation& l) { return l.name == "aws"; });
  REQUIRE(aws != f.storage.locations.end());
  CHECK(aws->s3.endpoint == "https://s3.eu-west-1.amazonaws.com");
  CHECK(aws->s3.region == "eu-west-1");
  CHECK(aws->s3.bucket == "quay-eu");

  // LocalStorage means the data folder: no store of its own.
  f.storage.preference = {"local"};
  auto local = OpenConfiguredBlobStore(f.storage, nullptr);
  REQUIRE(local.ok());
  CHECK(*local == nullptr);
  f.storage.preference = {"elsewhere"};
  CHECK(OpenConfiguredBlobStore(f.storage, nullptr).status().code() ==
        quay::Code::kInvalidArgument);
  f.storage.preference.clear();
  CHECK(PreferredLocation(f.storage).status().code() == quay::Code::kInvalidArgument);
}

TEST_CASE("config: an invalid storage location names the key and the location, never a secret") {
  for (const char* yaml : {
           "DISTRIBUTED_STORAGE_CONFIG: {s: [RadosGWStorage, {hostname: h, access_key: a, "
           "bucket_name: b}]}",
           "DISTRIBUTED_STORAGE_CONFIG: {s: [SwiftStorage, {}]}",
           "DISTRIBUTED_STORAGE_CONFIG: {s: [S3Storage, {s3_bucket: b, s3_access_key: a, "
           "s3_secret_key: hidden-value, port: 99999}]}",
           "DISTRIBUTED_STORAGE_CONFIG: {s: RadosGWStorage}",
       }) {
    CAPTURE(yaml);
    ServeFlags f;
    quay::Status s = Apply(yaml, f);
    CHECK(s.code() == quay::Code::kInvalidArgument);
    CHECK(s.message().find("DISTRIBUTED_STORAGE_CONFIG: s: ") != std::string::npos);
    CHECK(s.message().find("hidden-value") == std::string::npos);
    CHECK(f.storage.locations.empty());
  }
}

TEST_CASE("config: the digest sees storage settings but only that a storage secret is set") {
  auto digest = [](const std::string& secret, const std::string& bucket) {
    ServeFlags f;
    LoadedConfig loaded =
        LoadConfig("",
                   {{"QUAYD_DISTRIBUTED_STORAGE_CONFIG",
                     "{rgw: [RadosGWStorage, {hostname: h, access_key: a, secret_key: " + secret +
                         ", bucket_name: " + bucket + "}]}"}},
                   f);
    REQUIRE(loaded.problems.empty());
    return loaded.digest;
  };
  CHECK(digest("one", "quay") == digest("two", "quay"));
  CHECK(digest("one", "quay") != digest("one", "other"));

  // A preference naming no location is a problem of the whole configuration.
  ServeFlags f;
  LoadedConfig loaded = LoadConfig("", {{"QUAYD_DISTRIBUTED_STORAGE_PREFERENCE", "[nowhere]"}}, f);
  REQUIRE(loaded.problems.size() == 1);
  CHECK(loaded.problems[0].starts_with("DISTRIBUTED_STORAGE_PREFERENCE: nowhere"));
}
