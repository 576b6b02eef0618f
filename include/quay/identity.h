// IdentityService: users, organizations, teams, robot accounts, repository
// permissions and visibility, default permissions (prototypes), app-specific
// and OAuth tokens, and authentication - Quay's permission model
// (reference/quay-api.md section 3) as a library.
//
// Opening. The Registry works without it (embedders who want no auth keep
// Authorizer::AllowAll()). IdentityService::Open(options) opens the same
// SQLite file as a Registry opened with the same options (schema v3 holds both;
// separate processes and instances may share the file). An in-memory
// Registry has a private database: use Open(options, registry) to share it.
//
// What it gives:
// - authorizer(): the database-backed Authorizer (access.h) with Quay's rules;
// - audit(): the AuditLog (audit.h); every mutating call below writes its
//   row (Quay kind in parentheses) in the same transaction as the change, so a
//   failed audit write fails the mutation and changes nothing;
// - signing_keys(): the JWT signing-key store (signing_keys.h).
//
// Names. Users, organizations and robots share one namespace of account
// names ([a-z0-9]+(?:[._-][a-z0-9]+)*, 2-255 characters, Quay's grammar);
// robots are "<namespace>+<short name>". A repository's namespace is the first
// path component of its name ("alice/app" -> "alice").
//
// Secrets. Passwords are stored as argon2id hashes; robot, app-specific and
// OAuth tokens are random (CSPRNG, >= 256 bits), returned exactly once at
// creation and stored only as SHA-256 hashes, compared in constant time.
// Authentication failures all answer Unauthenticated("invalid credentials"),
// whatever was wrong (no account enumeration).
//
// Errors common to every call: InvalidArgument for a malformed name, role or
// empty required field; NotFound (Subject kNone, or kRepository for
// repositories) for an unknown account, team, token or repository; Conflict
// for a name already taken; Unavailable/Internal on database failure.
//
// Thread safety: safe to use from many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quay/access.h"
#include "quay/audit.h"
#include "quay/clock.h"
#include "quay/export.h"
#include "quay/options.h"
#include "quay/registry.h"
#include "quay/signing_keys.h"
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

class QUAY_EXPORT IdentityService {
 public:
  // On the database derived from `options` (data_dir / database_path; an
  // in-memory database of its own when both are empty). Migrates the schema.
  static Result<std::unique_ptr<IdentityService>> Open(const Options& options);
  // On `registry`'s database (required to share an in-memory one). `options`
  // gives the identity settings, clock and logger. `registry` must come from
  // Registry::Open and outlive nothing: the service keeps the database alive.
  static Result<std::unique_ptr<IdentityService>> Open(const Options& options, Registry& registry);
  virtual ~IdentityService() = default;

  virtual std::shared_ptr<Authorizer> authorizer() = 0;
  virtual AuditLog& audit() = 0;
  virtual SigningKeyStore& signing_keys() = 0;

  // ---- authentication (Unauthenticated on any failure) ----
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
  virtual Result<Principal> AuthenticateOAuthToken(std::string_view secret) = 0;
  // The superuser flavour of a username under IdentityOptions.
  virtual SuperuserKind SuperuserOf(std::string_view username) const = 0;

  // ---- users ----
  // (user_create) Password must be non-empty. Conflict if the name is taken
  // by any account.
  virtual Result<User> CreateUser(const Actor& actor, std::string_view username,
                                  std::string_view email, std::string_view password) = 0;
  virtual Result<User> GetUser(std::string_view username) = 0;
  virtual Result<AccountPage> ListUsers(size_t limit, std::string_view after) = 0;
  // (user_change_password)
  virtual Status SetPassword(const Actor& actor, std::string_view username,
                             std::string_view password) = 0;
  // (user_enable / user_disable) A disabled user cannot authenticate, and
  // its tokens stop working; the Authorizer grants it nothing.
  virtual Status SetUserEnabled(const Actor& actor, std::string_view username, bool enabled) = 0;
  // (user_delete) Removes the user, its robots, tokens, team memberships and
  // permissions. Its repositories stay (delete them through the Registry).
  virtual Status DeleteUser(const Actor& actor, std::string_view username) = 0;

  // ---- organizations and teams ----
  // (org_create) Creates the org and its "owners" team (admin role) with
  // `owner` (a user) as member, as Quay does. Superusers-only creation
  // (FEATURE_SUPERUSERS_ORG_CREATION_ONLY) is the host's policy.
  virtual Result<Organization> CreateOrganization(const Actor& actor, std::string_view name,
                                                  std::string_view email,
                                                  std::string_view owner) = 0;
  virtual Result<Organization> GetOrganization(std::string_view name) = 0;
  // (org_delete) Removes the org, its teams, robots, prototypes, permissions.
  virtual Status DeleteOrganization(const Actor& actor, std::string_view name) = 0;
  // (org_create_team)
  virtual Result<Team> CreateTeam(const Actor& actor, std::string_view organization,
                                  std::string_view team, TeamRole role,
                                  std::string_view description) = 0;
  virtual Result<std::vector<Team>> ListTeams(std::string_view organization) = 0;
  // (org_set_team_role)
  virtual Status SetTeamRole(const Actor& actor, std::string_view organization,
                             std::string_view team, TeamRole role) = 0;
  // (org_delete_team)
  virtual Status DeleteTeam(const Actor& actor, std::string_view organization,
                            std::string_view team) = 0;
  // (org_add_team_member) `member` is a username or a robot of the org.
  // Adding an existing member is OK and writes no row.
  virtual Status AddTeamMember(const Actor& actor, std::string_view organization,
                               std::string_view team, std::string_view member) = 0;
  // (org_remove_team_member) NotFound if not a member.
  virtual Status RemoveTeamMember(const Actor& actor, std::string_view organization,
                                  std::string_view team, std::string_view member) = 0;
  virtual Result<std::vector<std::string>> ListTeamMembers(std::string_view organization,
                                                           std::string_view team) = 0;

  // ---- robot accounts ----
  // (create_robot) `namespace_name` is a user or an organization.
  virtual Result<RobotCredentials> CreateRobot(const Actor& actor, std::string_view namespace_name,
                                               std::string_view short_name,
                                               std::string_view description) = 0;
  virtual Result<Robot> GetRobot(std::string_view robot_name) = 0;
  virtual Result<std::vector<Robot>> ListRobots(std::string_view namespace_name) = 0;
  // (regenerate_robot_token) The old token stops working at once.
  virtual Result<RobotCredentials> RegenerateRobotToken(const Actor& actor,
                                                        std::string_view robot_name) = 0;
  // (delete_robot)
  virtual Status DeleteRobot(const Actor& actor, std::string_view robot_name) = 0;

  // ---- repositories ----
  // (create_repo) Creates the repository with `visibility`; its namespace
  // must be an existing user or organization. The creating user or robot
  // (the actor's principal; a token's user) gets admin on it, as Quay's
  // create_repository does: a creator-team member has no other grant on what
  // it made. Applies the org's prototypes whose activating user is unset or
  // is the creator (no audit rows of their own, as in Quay). Authorization is
  // the caller's: ask the Authorizer (Action::kPush or
  // NamespaceAction::kCreateRepository) first. InvalidArgument(kName) for a
  // bad name or one without a namespace; Conflict(kRepository) if it exists.
  virtual Result<RepositoryInfo> CreateRepository(const Actor& actor, std::string_view name,
                                                  Visibility visibility,
                                                  std::string_view description) = 0;
  // Push-to-create: CreateRepository with CREATE_PRIVATE_REPO_ON_PUSH's
  // visibility unless the repository exists (also when the Registry created
  // its row on an earlier push: it is adopted, and prototypes applied).
  // True if this call created (or adopted) it. With CREATE_NAMESPACE_ON_PUSH
  // and a namespace that does not exist, first creates it as an organization
  // owned by the actor's user (org_create, as CreateOrganization). With that
  // option on and a user (or a user's token) as the actor, the push is
  // authorized again here, from the database, before anything is created:
  // Denied/Unauthenticated if not allowed now (e.g. another account took the
  // namespace after the caller's Check). Robots and anonymous actors never
  // create namespaces (NotFound, as without the option).
  virtual Result<bool> EnsureRepository(const Actor& actor, std::string_view name) = 0;
  // NotFound(kRepository). Repositories created by a Registry push without
  // an IdentityService are private with an empty description.
  virtual Result<RepositoryInfo> GetRepository(std::string_view name) = 0;
  // (change_repo_visibility)
  virtual Status SetVisibility(const Actor& actor, std::string_view repository,
                               Visibility visibility) = 0;
  // (set_repo_description)
  virtual Status SetDescription(const Actor& actor, std::string_view repository,
                                std::string_view description) = 0;
  // Repositories `who` may pull, in name order, paged like
  // Registry::ListRepositories (the catalog's answer). Anonymous principals
  // see public ones only if IdentityOptions::public_catalog.
  virtual Result<AccountPage> ListVisibleRepositories(const Principal& who, size_t limit,
                                                      std::string_view after) = 0;
  // The principal's standing on one repository. For a repository that does
  // not exist, `role` is what it would have on a private one of that name.
  virtual Result<RepositoryAccess> Access(const Principal& who, std::string_view repository) = 0;

  // ---- repository permissions ----
  // (change_repo_permission) Grants or changes a direct permission. Robots
  // and teams must belong to the repository's namespace (teams: an org).
  virtual Status SetPermission(const Actor& actor, std::string_view repository,
                               const Grantee& grantee, RepositoryRole role) = 0;
  // (delete_repo_permission) NotFound if there is no such permission.
  virtual Status RemovePermission(const Actor& actor, std::string_view repository,
                                  const Grantee& grantee) = 0;
  virtual Result<std::vector<RepositoryPermission>> ListPermissions(
      std::string_view repository) = 0;

  // ---- default permissions (prototypes) ----
  // (create_prototype_permission)
  virtual Result<Prototype> CreatePrototype(const Actor& actor, std::string_view organization,
                                            std::optional<std::string> activating_user,
                                            const Grantee& delegate, RepositoryRole role) = 0;
  virtual Result<std::vector<Prototype>> ListPrototypes(std::string_view organization) = 0;
  // (delete_prototype_permission)
  virtual Status DeletePrototype(const Actor& actor, std::string_view organization,
                                 std::string_view prototype_id) = 0;

  // ---- app-specific tokens ----
  // (create_app_specific_token) Expires after IdentityOptions::app_token_lifetime.
  virtual Result<Issued<AppToken>> CreateAppToken(const Actor& actor, std::string_view user,
                                                  std::string_view title) = 0;
  virtual Result<std::vector<AppToken>> ListAppTokens(std::string_view user) = 0;
  // (revoke_app_specific_token)
  virtual Status RevokeAppToken(const Actor& actor, std::string_view user,
                                std::string_view token_id) = 0;

  // ---- OAuth access tokens ----
  // (create_oauth_api_token) `scopes` must be non-empty. Expires after
  // IdentityOptions::oauth_token_lifetime.
  virtual Result<Issued<OAuthToken>> IssueOAuthToken(const Actor& actor, std::string_view user,
                                                     std::string_view application,
                                                     ScopeSet scopes) = 0;
  virtual Result<std::vector<OAuthToken>> ListOAuthTokens(std::string_view user) = 0;
  // (revoke_oauth_api_token)
  virtual Status RevokeOAuthToken(const Actor& actor, std::string_view token_id) = 0;
};

}  // namespace quay
