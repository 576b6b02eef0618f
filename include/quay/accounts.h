// Accounts: users - create, read, list, password, enable/disable, e-mail,
// delete - the first user of an empty database, entity search, and
// authentication of every credential kind Quay accepts. Part of
// IdentityService (quay/identity.h): get it with identity.accounts().
//
// Thread safety: safe to use from many threads.
//
// Errors common to every call: InvalidArgument for a malformed name or empty
// required field; NotFound (Subject kNone) for an unknown account; Conflict
// for a name already taken; Unavailable/Internal on database failure. Every
// mutation writes its audit row (Quay kind in parentheses) in the same
// transaction; a failed audit write fails the mutation.
#pragma once

#include <chrono>
#include <string_view>
#include <vector>

#include "quay/identity_types.h"
#include "quay/login_throttle.h"

namespace quay {

// One hit of an entity search (GET /api/v1/entities/{prefix}).
struct EntityMatch {
  enum class Kind : unsigned char { kUser, kRobot, kTeam, kOrganization };
  Kind kind = Kind::kUser;
  std::string name;  // username, "<ns>+<robot>", team name, org name
  friend bool operator==(const EntityMatch&, const EntityMatch&) = default;
};

struct EntityQuery {
  std::string prefix;  // non-empty
  // Robots of this namespace and teams of this organization are searched
  // too when set (Quay's ?namespace=); otherwise users and orgs only.
  std::string namespace_name;
  bool include_orgs = true;  // Quay's ?includeOrgs
  bool include_teams = true;
  size_t limit = 20;  // per kind; capped at 100
};

// A direct grant on one repository (a grantee's permission list).
struct RepositoryGrant {
  std::string repository;  // "ns/repo"
  RepositoryRole role = RepositoryRole::kRead;
  friend bool operator==(const RepositoryGrant&, const RepositoryGrant&) = default;
};

// One login as a protocol binding sees it (/v2/auth, /api/v1/signin).
struct LoginAttempt {
  enum class Method : unsigned char {
    kBasic,       // AuthenticateBasic's rules (every credential kind)
    kPassword,    // AuthenticateUser: a user's password only
    kOAuthToken,  // AuthenticateOAuthToken; `username` is ignored
  };
  Method method = Method::kBasic;
  std::string_view username;
  std::string_view secret;
  std::string_view address;  // the client address (the back-off's key)
};

struct LoginResult {
  // The principal, or Unauthenticated("invalid credentials") (also while
  // throttled), or Unavailable/Internal when the database fails.
  Result<Principal> principal = Status::Unauthenticated("invalid credentials");
  // Non-zero: refused by the back-off before any credential was checked;
  // the seconds to wait (a host answers 429 with Retry-After).
  std::chrono::seconds retry_after{0};
  bool throttled() const { return retry_after.count() > 0; }
};

// What the web UI's bell shows a user (Quay's Notification): its own, and
// those of organizations it administers. Quay writes no audit row for them.
struct UserNotification {
  std::string id;                    // uuid
  std::string organization;          // the target org; empty when the target is the user
  std::string kind;                  // e.g. "assigned_authorization"
  std::string metadata_json = "{}";  // a JSON object
  bool dismissed = false;
  Clock::TimePoint created_at{};
};

struct UserNotificationPage {
  std::vector<UserNotification> notifications;  // newest first
  bool more = false;
  std::string next_cursor;  // pass as `after_cursor`; empty when !more
};

class QUAY_EXPORT Accounts {
 public:
  virtual ~Accounts() = default;

  // ---- authentication (Unauthenticated("invalid credentials") on any failure) ----
  // Quay's Basic-credential rules: "$app" + app-specific token;
  // "$oauthtoken" + OAuth token; "<ns>+<robot>" + robot token; otherwise a
  // username + password, or + one of that user's app-specific tokens.
  virtual Result<Principal> AuthenticateBasic(std::string_view username,
                                              std::string_view password) = 0;
  virtual Result<Principal> AuthenticateUser(std::string_view username,
                                             std::string_view password) = 0;
  virtual Result<Principal> AuthenticateRobot(std::string_view robot_name,
                                              std::string_view token) = 0;
  // Records last_used_at on success.
  virtual Result<Principal> AuthenticateAppToken(std::string_view secret) = 0;
  // The principal's token_id is the token's uuid; OAuth principals carry
  // their scopes.
  virtual Result<Principal> AuthenticateOAuthToken(std::string_view secret) = 0;
  // The login every protocol runs: refused while `throttle` (null: no
  // back-off) holds (username, address) back, without hashing anything;
  // otherwise authenticated by `attempt.method`, and the outcome recorded in
  // `throttle`. A failure is counted against an existing account's record
  // only when `username` names one ("$app" and "$oauthtoken" count as
  // names); made-up names go to the throttle's bounded unknown-name table,
  // so that no flood of them can push a real account's failures out
  // (login_throttle.h). Database failures are returned and not counted.
  virtual LoginResult Login(const LoginAttempt& attempt, LoginThrottle* throttle) = 0;
  // Whether a principal that a login produced earlier (and a registry token
  // carried since) still speaks for the same, usable account. OK when `who`
  // is anonymous, or when the account named who.name still exists with
  // uuid who.account_uuid and the kind `who` says (a user for kUser and
  // kToken, a robot for kRobot), is enabled (a robot's namespace account
  // too), and - for kToken - the app-specific or OAuth token who.token_id
  // still exists, belongs to that account and has not expired.
  // Unauthenticated("credential no longer valid") otherwise, including an
  // empty who.account_uuid (a credential issued before accounts had one).
  // Answered from generation-checked caches: a hit costs no query, a
  // change by this process shows on the next call and one by another
  // process within the change_epoch poll interval. Unavailable/Internal on
  // database failure.
  virtual Status CheckCurrent(const Principal& who) = 0;
  // The superuser flavour of a username under IdentityOptions.
  virtual SuperuserKind SuperuserOf(std::string_view username) const = 0;

  // ---- users ----
  // (user_create: username, email) Password must be non-empty. Conflict if
  // the name is taken by any account.
  virtual Result<User> CreateUser(const Actor& actor, std::string_view username,
                                  std::string_view email, std::string_view password) = 0;
  // (user_create) POST /api/v1/user/initialize: creates `username` only if
  // the database holds no user at all, atomically (check and insert in one
  // write transaction). Conflict(kNone, "users already exist") otherwise.
  virtual Result<User> CreateFirstUser(const Actor& actor, std::string_view username,
                                       std::string_view email, std::string_view password) = 0;
  virtual Result<User> GetUser(std::string_view username) = 0;
  virtual Result<AccountPage> ListUsers(size_t limit, std::string_view after) = 0;
  // (user_change_password: username)
  virtual Status SetPassword(const Actor& actor, std::string_view username,
                             std::string_view password) = 0;
  // (user_change_email: email, old_email) Any text, as Quay (the host checks
  // the e-mail form). Same e-mail: OK, no row.
  virtual Status ChangeEmail(const Actor& actor, std::string_view username,
                             std::string_view email) = 0;
  // (user_enable / user_disable: username) A disabled user cannot
  // authenticate, and its tokens stop working; the Authorizer grants it nothing.
  virtual Status SetUserEnabled(const Actor& actor, std::string_view username, bool enabled) = 0;
  // (user_delete: username) Removes the user, its robots, tokens, team
  // memberships, stars and permissions. Its repositories stay (delete them
  // through the Registry).
  virtual Status DeleteUser(const Actor& actor, std::string_view username) = 0;
  // The user's (or robot's) direct repository grants, in repository name
  // order (team grants are not included: see Permissions::UserRoleOn).
  virtual Result<std::vector<RepositoryGrant>> ListUserPermissions(std::string_view account) = 0;

  // ---- user notifications ----
  // The user's notifications and those of orgs where it is in an admin
  // team, newest first, at most `limit` (1..100) after `after_cursor`. One
  // index range per page. NotFound for an unknown user; InvalidArgument for
  // a malformed cursor.
  virtual Result<UserNotificationPage> ListUserNotifications(std::string_view user, size_t limit,
                                                             std::string_view after_cursor) = 0;
  // One of those; NotFound (kNone) if the user may not see it.
  virtual Result<UserNotification> GetUserNotification(std::string_view user,
                                                       std::string_view id) = 0;
  // Marks it dismissed or not and returns it (no audit row, as Quay).
  virtual Result<UserNotification> SetUserNotificationDismissed(std::string_view user,
                                                                std::string_view id,
                                                                bool dismissed) = 0;

  // Accounts and teams whose name starts with `query.prefix`, each kind in
  // name order, users first, then robots, teams, orgs. Each kind is one
  // index range scan bounded by the limit. InvalidArgument for an empty prefix.
  virtual Result<std::vector<EntityMatch>> SearchEntities(const EntityQuery& query) = 0;
};

}  // namespace quay
