// The value types of the identity services (quay/accounts.h,
// quay/organizations.h, quay/robots.h, quay/permissions.h, quay/tokens.h,
// quay/oauth_apps.h, quay/stars.h, quay/notifications.h): roles, accounts,
// grants, tokens and listing rows. Plain values; no behaviour beyond parsing
// and printing the enums.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "quay/access.h"
#include "quay/audit.h"
#include "quay/clock.h"
#include "quay/export.h"
#include "quay/status.h"

namespace quay {

// Repository roles, ordered: a higher role includes the lower ones.
enum class RepositoryRole : unsigned char { kNone, kRead, kWrite, kAdmin };
// Team roles (org-wide effect): member - none; creator - may create
// repositories; admin - administers the org and is admin on every repository.
enum class TeamRole : unsigned char { kMember, kCreator, kAdmin };
enum class Visibility : unsigned char { kPrivate, kPublic };

// "read"/"write"/"admin" ("none" for kNone); "member"/"creator"/"admin";
// "private"/"public". Parse* answer InvalidArgument for anything else.
QUAY_EXPORT std::string_view ToString(RepositoryRole role);
QUAY_EXPORT std::string_view ToString(TeamRole role);
QUAY_EXPORT std::string_view ToString(Visibility visibility);
QUAY_EXPORT Result<RepositoryRole> ParseRepositoryRole(std::string_view text);
QUAY_EXPORT Result<TeamRole> ParseTeamRole(std::string_view text);
QUAY_EXPORT Result<Visibility> ParseVisibility(std::string_view text);

// InvalidArgument unless `name` is a valid account (user/org) name.
QUAY_EXPORT Status ValidateAccountName(std::string_view name);

struct User {
  std::string name;
  // The account's uuid: never had by another account, even one re-created
  // under the same name (a browser session is bound to it).
  std::string id;
  std::string email;
  bool enabled = true;
  Clock::TimePoint created_at{};
  SuperuserKind superuser = SuperuserKind::kNone;  // from IdentityOptions
};

struct Organization {
  std::string name;
  std::string email;
  Clock::TimePoint created_at{};
};

struct Team {
  std::string organization;
  std::string name;
  TeamRole role = TeamRole::kMember;
  std::string description;
};

struct Robot {
  std::string name;            // "<namespace>+<short name>"
  std::string namespace_name;  // the owning user or organization
  std::string description;
  Clock::TimePoint created_at{};
};

// A robot and its token; the token is returned only here.
struct RobotCredentials {
  Robot robot;
  std::string token;
};

// Who a permission is granted to. Teams are named within the repository's
// (or prototype's) organization.
struct Grantee {
  enum class Kind : unsigned char { kUser, kRobot, kTeam };
  Kind kind = Kind::kUser;
  std::string name;  // username, "<ns>+<robot>", or team name

  static Grantee User(std::string n) { return {Kind::kUser, std::move(n)}; }
  static Grantee Robot(std::string n) { return {Kind::kRobot, std::move(n)}; }
  static Grantee Team(std::string n) { return {Kind::kTeam, std::move(n)}; }
  friend bool operator==(const Grantee&, const Grantee&) = default;
};

struct RepositoryPermission {
  Grantee grantee;
  RepositoryRole role = RepositoryRole::kRead;
};

struct RepositoryInfo {
  std::string name;            // "ns/repo"
  std::string namespace_name;  // "ns"
  Visibility visibility = Visibility::kPrivate;
  std::string description;
  Clock::TimePoint created_at{};
};

// A default permission of an organization (Quay's PermissionPrototype):
// when a repository is created in the org - by `activating_user` only, if
// set - `delegate` is granted `role` on it.
struct Prototype {
  std::string id;  // public id (uuid)
  std::string organization;
  std::optional<std::string> activating_user;
  Grantee delegate;
  RepositoryRole role = RepositoryRole::kRead;
};

struct AppToken {
  std::string id;  // public id (uuid); revocation and audit use it
  std::string user;
  std::string title;
  Clock::TimePoint created_at{};
  std::optional<Clock::TimePoint> expires_at;
  std::optional<Clock::TimePoint> last_used_at;
};

struct OAuthToken {
  std::string id;  // public id (uuid)
  std::string user;
  std::string application;  // client / application name
  std::string client_id;    // the OAuthApplication it was issued for; empty if by name only
  ScopeSet scopes;
  Clock::TimePoint created_at{};
  std::optional<Clock::TimePoint> expires_at;
};

// A token and its secret; the secret is returned only here.
template <typename T>
struct Issued {
  T token;
  std::string secret;
};

// What a principal may do with one repository (for UIs and /api/v1 answers
// such as can_write/can_admin). `role` is after scope clamping and superuser
// rules; it is kRead for anyone on a public repository.
struct RepositoryAccess {
  bool exists = false;
  Visibility visibility = Visibility::kPrivate;
  RepositoryRole role = RepositoryRole::kNone;
  bool may_create = false;  // may create it if it does not exist
};

// One page of a listing in name order (users, repositories).
struct AccountPage {
  std::vector<std::string> names;
  bool more = false;
};

// One keyset page of rows; pass the last row's key as `after` for the next.
template <typename T>
struct Page {
  std::vector<T> items;
  bool more = false;
};

}  // namespace quay
