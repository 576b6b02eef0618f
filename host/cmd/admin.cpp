#include "host/cmd/admin.h"

#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "host/cmd/config_file.h"
#include "host/obs/structured_logger.h"
#include "quay/identity.h"

namespace quayd {
namespace {

// One line from `in` without its line ending; echo off on a terminal.
bool ReadSecretLine(std::FILE* in, std::FILE* err, const char* prompt, std::string& out) {
  const int fd = fileno(in);
  const bool tty = fd >= 0 && isatty(fd);
  termios saved{};
  if (tty) {
    std::fputs(prompt, err);
    std::fflush(err);
    if (tcgetattr(fd, &saved) == 0) {
      termios quiet = saved;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      tcsetattr(fd, TCSAFLUSH, &quiet);
    }
  }
  out.clear();
  int c;
  bool any = false;
  while ((c = std::fgetc(in)) != EOF) {
    any = true;
    if (c == '\n') break;
    out += static_cast<char>(c);
  }
  if (!out.empty() && out.back() == '\r') out.pop_back();
  if (tty) {
    tcsetattr(fd, TCSAFLUSH, &saved);
    std::fputs("\n", err);
  }
  return any;
}

quay::Status ReadPassword(std::FILE* in, std::FILE* err, std::string& password) {
  if (!ReadSecretLine(in, err, "Password: ", password) || password.empty()) {
    return quay::Status::InvalidArgument(quay::Subject::kNone,
                                         "no password on standard input (one line expected)");
  }
  const int fd = fileno(in);
  if (fd >= 0 && isatty(fd)) {
    std::string again;
    ReadSecretLine(in, err, "Password (again): ", again);
    if (again != password) {
      return quay::Status::InvalidArgument(quay::Subject::kNone, "the passwords differ");
    }
  }
  return quay::Status::Ok();
}

// "user:alice", "robot:acme+ci", "team:owners".
quay::Result<quay::Grantee> ParseGrantee(std::string_view text) {
  size_t colon = text.find(':');
  std::string_view kind = text.substr(0, colon);
  std::string name =
      colon == std::string_view::npos ? std::string() : std::string(text.substr(colon + 1));
  if (!name.empty()) {
    if (kind == "user") return quay::Grantee::User(name);
    if (kind == "robot") return quay::Grantee::Robot(name);
    if (kind == "team") return quay::Grantee::Team(name);
  }
  return quay::Status::InvalidArgument(quay::Subject::kNone,
                                       "grantee must be user:NAME, robot:NS+NAME or team:NAME");
}

quay::Status Run(const AdminFlags& flags, quay::IdentityService& identity, std::FILE* in,
                 std::FILE* out, std::FILE* err) {
  quay::Actor actor;
  actor.request_id = "quayd-cli";
  const std::vector<std::string>& a = flags.args;
  switch (flags.verb) {
    case AdminFlags::Verb::kUserAdd: {
      std::string password;
      if (quay::Status s = ReadPassword(in, err, password); !s.ok()) return s;
      quay::Result<quay::User> user = identity.CreateUser(actor, a[0], flags.email, password);
      if (!user.ok()) return user.status();
      std::fprintf(err, "created user %s\n", user->name.c_str());
      return quay::Status::Ok();
    }
    case AdminFlags::Verb::kUserPasswd: {
      std::string password;
      if (quay::Status s = ReadPassword(in, err, password); !s.ok()) return s;
      if (quay::Status s = identity.SetPassword(actor, a[0], password); !s.ok()) return s;
      std::fprintf(err, "changed the password of %s\n", a[0].c_str());
      return quay::Status::Ok();
    }
    case AdminFlags::Verb::kRobotAdd: {
      size_t plus = a[0].find('+');
      if (plus == std::string::npos || plus == 0 || plus + 1 == a[0].size()) {
        return quay::Status::InvalidArgument(quay::Subject::kNone,
                                             "a robot is named NAMESPACE+NAME");
      }
      quay::Result<quay::RobotCredentials> robot =
          identity.CreateRobot(actor, a[0].substr(0, plus), a[0].substr(plus + 1), flags.text);
      if (!robot.ok()) return robot.status();
      std::fprintf(out, "%s\n", robot->token.c_str());
      std::fprintf(err, "created robot %s (log in as %s with the token above)\n",
                   robot->robot.name.c_str(), robot->robot.name.c_str());
      return quay::Status::Ok();
    }
    case AdminFlags::Verb::kTokenAdd: {
      std::string title = flags.text.empty() ? std::string("cli") : flags.text;
      quay::Result<quay::Issued<quay::AppToken>> token =
          identity.CreateAppToken(actor, a[0], title);
      if (!token.ok()) return token.status();
      std::fprintf(out, "%s\n", token->secret.c_str());
      std::fprintf(err, "created app-specific token %s for %s\n", token->token.id.c_str(),
                   a[0].c_str());
      return quay::Status::Ok();
    }
    case AdminFlags::Verb::kRepoVisibility: {
      quay::Result<quay::Visibility> visibility = quay::ParseVisibility(a[1]);
      if (!visibility.ok()) return visibility.status();
      if (quay::Status s = identity.SetVisibility(actor, a[0], *visibility); !s.ok()) return s;
      std::fprintf(err, "%s is now %s\n", a[0].c_str(), a[1].c_str());
      return quay::Status::Ok();
    }
    case AdminFlags::Verb::kRepoGrant: {
      quay::Result<quay::Grantee> grantee = ParseGrantee(a[1]);
      if (!grantee.ok()) return grantee.status();
      quay::Result<quay::RepositoryRole> role = quay::ParseRepositoryRole(a[2]);
      if (!role.ok()) return role.status();
      if (quay::Status s = identity.SetPermission(actor, a[0], *grantee, *role); !s.ok()) return s;
      std::fprintf(err, "granted %s on %s to %s\n", a[2].c_str(), a[0].c_str(), a[1].c_str());
      return quay::Status::Ok();
    }
    case AdminFlags::Verb::kOrgAdd: {
      quay::Result<quay::Organization> org =
          identity.CreateOrganization(actor, a[0], flags.email, flags.owner);
      if (!org.ok()) return org.status();
      std::fprintf(err, "created organization %s; %s is in its owners team (admin)\n",
                   org->name.c_str(), flags.owner.c_str());
      return quay::Status::Ok();
    }
    case AdminFlags::Verb::kTeamAdd: {
      // Quay's default for a new team.
      quay::Result<quay::TeamRole> role =
          quay::ParseTeamRole(flags.role.empty() ? std::string_view("member") : flags.role);
      if (!role.ok()) return role.status();
      quay::Result<quay::Team> team = identity.CreateTeam(actor, a[0], a[1], *role, flags.text);
      if (!team.ok()) return team.status();
      std::fprintf(err, "created team %s in %s (role %.*s)\n", team->name.c_str(),
                   team->organization.c_str(), static_cast<int>(quay::ToString(team->role).size()),
                   quay::ToString(team->role).data());
      return quay::Status::Ok();
    }
    case AdminFlags::Verb::kTeamRole: {
      quay::Result<quay::TeamRole> role = quay::ParseTeamRole(a[2]);
      if (!role.ok()) return role.status();
      if (quay::Status s = identity.SetTeamRole(actor, a[0], a[1], *role); !s.ok()) return s;
      std::fprintf(err, "team %s in %s now has role %s\n", a[1].c_str(), a[0].c_str(),
                   a[2].c_str());
      return quay::Status::Ok();
    }
    case AdminFlags::Verb::kTeamMember: {
      if (quay::Status s = identity.AddTeamMember(actor, a[0], a[1], a[2]); !s.ok()) return s;
      std::fprintf(err, "%s is a member of team %s in %s\n", a[2].c_str(), a[1].c_str(),
                   a[0].c_str());
      return quay::Status::Ok();
    }
  }
  return quay::Status::Internal("unknown admin command");
}

// The data folder holds the databases and blobs: every level made here is
// 0700 whatever the umask (the library makes the same folder the same way).
std::error_code CreatePrivateDirectories(const std::filesystem::path& dir) {
  std::error_code ec;
  if (dir.empty() || std::filesystem::is_directory(dir, ec)) return {};
  const std::filesystem::path parent = dir.lexically_normal().parent_path();
  if (!parent.empty() && parent != dir && parent != dir.root_path()) {
    if (std::error_code up = CreatePrivateDirectories(parent)) return up;
  }
  if (::mkdir(dir.c_str(), 0700) == 0) return {};
  const int err = errno;
  if (err == EEXIST && std::filesystem::is_directory(dir, ec)) return {};
  return std::error_code(err, std::generic_category());
}

}  // namespace

int RunAdmin(const AdminFlags& flags, std::FILE* in, std::FILE* out, std::FILE* err) {
  const std::string_view verb = AdminCommandName(flags.verb);
  ServeFlags settings;
  {
    // The same file and QUAYD_* variables as serve; serve reports warnings.
    const LoadedConfig loaded = LoadConfig(flags.config_path, QuaydEnvironment(environ), settings);
    if (!loaded.problems.empty()) {
      std::fprintf(err, "quayd %.*s: invalid configuration: %s\n", static_cast<int>(verb.size()),
                   verb.data(), loaded.problems.front().c_str());
      return 2;
    }
  }
  const std::string data_dir = flags.data_dir_given ? flags.data_dir : settings.data_dir;
  std::error_code ec = CreatePrivateDirectories(data_dir);
  if (ec) {
    std::fprintf(err, "quayd %.*s: cannot create %s: %s\n", static_cast<int>(verb.size()),
                 verb.data(), data_dir.c_str(), ec.message().c_str());
    return 1;
  }
  quay::Options options;
  options.data_dir = data_dir;
  options.database_path = settings.database_uri;
  options.identity = settings.identity;
  options.logger = std::make_shared<StructuredLogger>(quay::LogLevel::kWarn, LogFormat::kText);
  quay::Result<std::unique_ptr<quay::IdentityService>> identity =
      quay::IdentityService::Open(options);
  if (!identity.ok()) {
    std::fprintf(err, "quayd %.*s: failed to open %s: %s\n", static_cast<int>(verb.size()),
                 verb.data(), data_dir.c_str(), identity.status().ToString().c_str());
    return 1;
  }
  quay::Status done = Run(flags, **identity, in, out, err);
  if (!done.ok()) {
    std::fprintf(err, "quayd %.*s: %s\n", static_cast<int>(verb.size()), verb.data(),
                 done.message().c_str());
    return 1;
  }
  std::fflush(out);
  return 0;
}

}  // namespace quayd
