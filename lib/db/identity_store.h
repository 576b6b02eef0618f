// The SQL of identities: accounts (users, organizations, robots), teams,
// repository settings and permissions, prototypes and tokens. Internal to
// lib/db; lib/api's IdentityService is its only caller and does validation,
// hashing and policy - this file only stores and finds.
//
// Every mutation takes the AuditRow describing it and writes that row in the
// same write transaction: if the audit insert fails, the mutation rolls back
// (strict logging). Times are microseconds since the Unix epoch.
//
// Thread safety: as Database (one writer at a time, pooled readers).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/audit_store.h"
#include "db/read_cache.h"
#include "quay/status.h"

namespace quay::db {

class ConnectionPool;

enum class AccountKind : unsigned char { kUser, kOrg, kRobot };

struct AccountRow {
  int64_t id = 0;
  std::string name;
  AccountKind kind = AccountKind::kUser;
  std::string email;
  std::string password_hash;        // users
  std::string token_hash;           // robots: raw SHA-256 bytes
  std::optional<int64_t> owner_id;  // robots
  std::string description;
  bool enabled = true;
  int64_t created_at = 0;
  // Schema v9: random, never reused by another account of any name (set by
  // the insert; empty only in a row read before the migration).
  std::string uuid;
};

struct TeamRow {
  int64_t id = 0;
  int64_t org_id = 0;
  std::string name;
  int role = 0;  // 0 member, 1 creator, 2 admin
  std::string description;
};

struct RepositoryRow {
  int64_t id = 0;
  std::string name;
  bool has_settings = false;  // false: created by a Registry push only
  bool is_public = false;
  std::string description;
  int64_t created_at = 0;
};

struct PermissionRow {
  bool is_team = false;
  std::string name;                               // account name or team name
  AccountKind account_kind = AccountKind::kUser;  // when !is_team
  int role = 1;                                   // 1 read, 2 write, 3 admin
};

struct PrototypeRow {
  std::string uuid;
  std::optional<std::string> activating_user;
  bool delegate_is_team = false;
  std::string delegate_name;
  AccountKind delegate_kind = AccountKind::kUser;  // when a user/robot
  int role = 1;
};

struct TokenRow {  // app-specific and OAuth tokens
  int64_t id = 0;
  std::string uuid;
  int64_t account_id = 0;
  std::string user;         // the owning account's name
  std::string title;        // app token title / OAuth application
  uint16_t scopes = 0;      // OAuth only
  std::string secret_hash;  // raw SHA-256 bytes
  int64_t created_at = 0;
  std::optional<int64_t> expires_at;
  std::optional<int64_t> last_used_at;
  std::optional<int64_t> application_id;  // OAuth: the oauth_application row
  std::string client_id;                  // and its client id
  std::string user_uuid;                  // the owning account's uuid
};

// Everything the permission decision needs about (account, repository), read
// in one snapshot.
struct AccessFactsRow {
  std::optional<AccountRow> account;      // the principal's account, if any
  std::optional<AccountRow> robot_owner;  // for robots: their namespace account
  bool repository_exists = false;
  bool repository_public = false;
  int granted_role = 0;                       // strongest direct or team grant; 0 none
  std::optional<AccountKind> namespace_kind;  // the repository namespace's account
  int org_team_role = -1;                     // strongest team role in the namespace org; -1 none
};

struct NewRepository {
  std::string name;
  bool is_public = false;
  std::string description;
  int64_t now = 0;
  // The namespace org (prototypes are applied from it) or 0 for a user
  // namespace; the creating account (a prototype's activating user filter).
  int64_t org_id = 0;
  int64_t creator_id = 0;
  // Adopt a repository whose row a Registry push created (no settings yet)
  // instead of answering Conflict.
  bool adopt = false;
};

struct GrantRow {  // a grantee's permission on one repository
  std::string repository;
  int role = 1;
};

struct EntityRow {
  int kind = 0;  // 0 user, 1 robot, 2 team, 3 org
  std::string name;
};

struct TeamSummaryRow {
  TeamRow team;
  int64_t member_count = 0;
  bool is_member = false;
};

struct RepositoryListingRow {
  std::string name;  // full name
  std::string description;
  bool is_public = false;
  std::optional<int64_t> last_modified;
  bool is_starred = false;
  bool namespace_is_org = false;
  int64_t star_count = 0;
};

struct ListingQuery {
  bool everything = false;    // superusers
  bool public_ones = false;   // public repositories count
  int64_t account_id = 0;     // grants of this account and its teams, org admin teams; 0 none
  std::string own_namespace;  // empty none
  // Filters.
  std::string namespace_name;  // empty any
  bool public_only = false;
  int64_t starred_by = 0;   // 0 any
  int64_t star_viewer = 0;  // is_starred for this account; 0 none
  // Short name or description contains it (LIKE, ASCII case-insensitive);
  // empty any.
  std::string search;
};

struct MessageRow {
  std::string uuid;
  std::string content;
  std::string media_type;
  std::string severity;
  int64_t created_at = 0;
};

struct NotificationRow {
  int64_t id = 0;
  std::string uuid;
  int64_t repository_id = 0;
  std::string repository;
  std::string event;
  std::string method;
  std::string title;
  std::string config_json;
  std::string event_config_json;
  int number_of_failures = 0;
  int64_t created_at = 0;
};

struct ApplicationRow {
  int64_t id = 0;
  std::string client_id;
  int64_t org_id = 0;
  std::string organization;
  std::string name;
  std::string description;
  std::string application_uri;
  std::string redirect_uri;
  std::string avatar_email;
  std::string secret_sealed;
  int64_t created_at = 0;
};

struct AssignedTokenRow {  // oauth_assigned_token
  std::string uuid;
  int64_t application_id = 0;
  int64_t account_id = 0;
  std::optional<int64_t> assigner_id;
  std::string assigner;  // the assigner's name; empty when gone
  uint16_t scopes = 0;
  std::string redirect_uri;
  std::string response_type;
  int64_t created_at = 0;
};

struct UserNotificationRow {
  int64_t id = 0;
  std::string uuid;
  std::string target;  // the target account's name
  bool target_is_org = false;
  std::string kind;
  std::string metadata = "{}";
  bool dismissed = false;
  int64_t created_at = 0;
};

struct CodeRow {
  std::string lookup;
  std::string code_hash;  // raw SHA-256
  int64_t application_id = 0;
  int64_t account_id = 0;
  uint16_t scopes = 0;
  std::string redirect_uri;
  int64_t created_at = 0;
  int64_t expires_at = 0;
};

class IdentityStore {
 public:
  explicit IdentityStore(ConnectionPool& pool) : pool_(pool) {}

  // ---- accounts ----
  Result<std::optional<AccountRow>> FindAccount(std::string_view name);
  // Conflict if the name is taken.
  Result<AccountRow> InsertAccount(const AccountRow& row, const AuditRow& audit);
  // Creates the org, a team (admin role) and adds `owner_id` to it.
  Result<AccountRow> InsertOrganization(const AccountRow& org, std::string_view owners_team,
                                        int64_t owner_id, const AuditRow& audit);
  // NotFound unless an account of `kind` has that name.
  Status UpdatePassword(std::string_view name, std::string_view hash, const AuditRow& audit);
  Status UpdateEnabled(std::string_view name, bool enabled, const AuditRow& audit);
  Status UpdateRobotToken(int64_t robot_id, std::string_view token_hash, const AuditRow& audit);
  Status DeleteAccount(int64_t id, const AuditRow& audit);
  // Every repository of namespace `ns` (names in ["ns/", "ns0"): '0' follows
  // '/'), with its tags, manifests, labels, blob links and upload sessions
  // (settings, grants, stars and notifications cascade), then, when
  // `account_id` is set, that account, and `audit` - in one write
  // transaction. The deleted upload sessions' ids (their areas are the
  // caller's to remove). NotFound(kNone) if the account is gone.
  Result<std::vector<std::string>> DeleteNamespace(std::string_view ns,
                                                   std::optional<int64_t> account_id,
                                                   const std::optional<AuditRow>& audit);
  // Names of accounts of `kind` after `after`, at most `limit` (+ whether more).
  Result<std::pair<std::vector<std::string>, bool>> ListAccounts(AccountKind kind, size_t limit,
                                                                 std::string_view after);
  Result<std::vector<AccountRow>> ListRobots(int64_t owner_id);

  // ---- teams ----
  Result<std::optional<TeamRow>> FindTeam(int64_t org_id, std::string_view name);
  Result<TeamRow> InsertTeam(const TeamRow& row, int64_t now, const AuditRow& audit);
  Status UpdateTeamRole(int64_t team_id, int role, const AuditRow& audit);
  Status DeleteTeam(int64_t team_id, const AuditRow& audit);
  // False (and no audit row) if already a member.
  Result<bool> AddTeamMember(int64_t team_id, int64_t account_id, const AuditRow& audit);
  // NotFound if not a member.
  Status RemoveTeamMember(int64_t team_id, int64_t account_id, const AuditRow& audit);
  Result<std::vector<TeamRow>> ListTeams(int64_t org_id);
  Result<std::vector<std::string>> ListTeamMembers(int64_t team_id);

  // ---- repositories ----
  Result<std::optional<RepositoryRow>> FindRepository(std::string_view name);
  // Creates the repository (row and settings) and applies the org's
  // prototypes. False (nothing written) if it already exists with settings,
  // or exists at all and !adopt.
  Result<bool> CreateRepository(const NewRepository& repo, const AuditRow& audit);
  // Writes the settings row (creating it for a push-created repository).
  Status UpdateRepositorySettings(int64_t repository_id, bool is_public,
                                  std::string_view description, const AuditRow& audit);
  // Names of repositories after `after` that an account may see (see the
  // .cpp for the rule), at most `limit` (+ whether more).
  struct VisibleFilter {
    bool everything = false;    // read-only or full-access superusers
    bool public_ones = false;   // public repositories count
    int64_t account_id = 0;     // grants of this account and its teams; 0 none
    std::string own_namespace;  // a user's own namespace; empty none
  };
  Result<std::pair<std::vector<std::string>, bool>> ListVisibleRepositories(
      const VisibleFilter& filter, size_t limit, std::string_view after);

  // ---- permissions ----
  Status UpsertPermission(int64_t repository_id, std::optional<int64_t> account_id,
                          std::optional<int64_t> team_id, int role, const AuditRow& audit);
  // NotFound if there is no such grant.
  Status DeletePermission(int64_t repository_id, std::optional<int64_t> account_id,
                          std::optional<int64_t> team_id, const AuditRow& audit);
  Result<std::vector<PermissionRow>> ListPermissions(int64_t repository_id);

  // ---- prototypes ----
  Status InsertPrototype(std::string_view uuid, int64_t org_id,
                         std::optional<int64_t> activating_id,
                         std::optional<int64_t> delegate_account_id,
                         std::optional<int64_t> delegate_team_id, int role, int64_t now,
                         const AuditRow& audit);
  Status DeletePrototype(int64_t org_id, std::string_view uuid, const AuditRow& audit);
  Result<std::vector<PrototypeRow>> ListPrototypes(int64_t org_id);

  // ---- app-specific and OAuth tokens (oauth = true: the oauth_token table) ----
  Status InsertToken(bool oauth, const TokenRow& row, std::string_view lookup,
                     const AuditRow& audit);
  // The token with that public lookup prefix, with its owner's name.
  Result<std::optional<TokenRow>> FindTokenByLookup(bool oauth, std::string_view lookup);
  Status TouchAppToken(int64_t id, int64_t now);
  // NotFound unless the token exists (and belongs to `account_id` when set).
  Status DeleteToken(bool oauth, std::string_view uuid, std::optional<int64_t> account_id,
                     const AuditRow& audit);
  Result<std::optional<TokenRow>> FindTokenByUuid(bool oauth, std::string_view uuid);
  Result<std::vector<TokenRow>> ListTokens(bool oauth, int64_t account_id);

  // ---- authorization ----
  // `account_name` empty for anonymous.
  Result<AccessFactsRow> AccessFacts(std::string_view account_name, std::string_view repository,
                                     std::string_view namespace_name);

  // ---- REST API additions ----
  Result<std::optional<AccountRow>> FindAccountById(int64_t id);
  // Conflict if any user exists; the check and insert share one transaction.
  Result<AccountRow> InsertFirstUser(const AccountRow& row, const AuditRow& audit);
  Status UpdateEmail(int64_t account_id, std::string_view email, const AuditRow& audit);
  Result<std::vector<GrantRow>> ListAccountGrants(int64_t account_id);
  Result<std::vector<GrantRow>> ListTeamGrants(int64_t team_id);
  // Names of `kind` in [prefix, prefix~), at most limit; teams of org_id.
  Result<std::vector<std::string>> AccountsWithPrefix(AccountKind kind, std::string_view prefix,
                                                      size_t limit);
  Result<std::vector<std::string>> TeamsWithPrefix(int64_t org_id, std::string_view prefix,
                                                   size_t limit);
  // (org name, is admin) for every org the account is in.
  Result<std::vector<std::pair<std::string, bool>>> OrganizationsOf(int64_t account_id);
  // (user name, team name) pairs of the org, by user then team.
  Result<std::vector<std::pair<std::string, std::string>>> OrganizationMembers(int64_t org_id);
  // Removes the member from the org's teams and its direct grants on the
  // org's repositories; `team_audit` / `permission_audit` are templates whose
  // metadata (and repository) are filled per team / repository. NotFound if
  // in no team; InvalidArgument if it is the org's last admin.
  Status RemoveOrganizationMember(int64_t org_id, const std::string& org_name, int64_t account_id,
                                  std::string_view member_name, const AuditRow& team_audit,
                                  const AuditRow& permission_audit);
  Result<std::vector<TeamSummaryRow>> TeamSummaries(int64_t org_id, int64_t viewer_id);
  // Applies the changes and writes every row of `audits`.
  Status UpdateTeam(int64_t team_id, const std::optional<std::string>& description,
                    std::optional<int> role, const std::vector<AuditRow>& audits);
  Status UpdatePrototypeRole(int64_t org_id, std::string_view uuid, int role,
                             const AuditRow& audit);
  Result<std::pair<std::vector<RepositoryListingRow>, bool>> ListRepositories(
      const ListingQuery& query, size_t limit, std::string_view after);

  // ---- superuser panel and organization collaborators ----
  // (user name, repository full name) of direct grants to users that are in
  // no team of the org, on the org's repositories, by user then repository.
  Result<std::vector<std::pair<std::string, std::string>>> OutsideCollaborators(
      int64_t org_id, std::string_view org_name);
  // Renames the org, its robots and its repositories; Conflict if `new_name`
  // is taken.
  Status RenameOrganization(int64_t org_id, std::string_view old_name, std::string_view new_name,
                            const AuditRow& audit);
  // Adds `member_id` to the org's first admin team (no-op if already in it).
  // InvalidArgument if the org has no admin team.
  Status JoinAdminTeam(int64_t org_id, int64_t member_id, const AuditRow& audit);
  // Turns the user into an organization: no password, no tokens, no team
  // memberships, no direct grants; an "owners" admin team with `admin_id`.
  Status ConvertUserToOrganization(int64_t user_id, int64_t admin_id, int64_t now,
                                   const AuditRow& audit);
  // App tokens of every account after the token with row id `after_id`, by
  // id; with `expiring_before` set, only those expiring in [now, before).
  Result<std::pair<std::vector<TokenRow>, bool>> ListAllAppTokens(
      std::optional<int64_t> expiring_before, int64_t now, size_t limit, int64_t after_id);

  // ---- assigned OAuth authorizations (FEATURE_ASSIGN_OAUTH_TOKEN) ----
  // Also writes `notification` (for the assigned user) in the same transaction.
  Status InsertAssignedToken(const AssignedTokenRow& row, const UserNotificationRow& notification,
                             const AuditRow& audit);
  // The account's assignments with their applications, by id. One query.
  Result<std::vector<std::pair<ApplicationRow, AssignedTokenRow>>> ListAssignedTokens(
      int64_t account_id);
  // NotFound unless the account has an assignment with that uuid.
  Status DeleteAssignedToken(int64_t account_id, std::string_view uuid);

  // ---- user notifications ----
  // The account's notifications and those of orgs where it is in an admin
  // team, newest first, with row id below `before_id` (0: from the newest).
  Result<std::pair<std::vector<UserNotificationRow>, bool>> ListUserNotifications(
      int64_t account_id, size_t limit, int64_t before_id);
  // One of those, by uuid.
  Result<std::optional<UserNotificationRow>> FindUserNotification(int64_t account_id,
                                                                  std::string_view uuid);
  Status SetNotificationDismissed(int64_t id, bool dismissed);
  Status DeleteUserNotificationsOfKind(int64_t account_id, std::string_view kind);

  // ---- global messages ----
  Status InsertMessage(const MessageRow& row);
  Result<std::vector<MessageRow>> ListMessages();
  Status DeleteMessage(std::string_view uuid);

  // ---- stars ----
  Status InsertStar(int64_t account_id, int64_t repository_id, int64_t now);
  Status DeleteStar(int64_t account_id, int64_t repository_id);
  Result<std::pair<std::vector<std::string>, bool>> ListStarred(int64_t account_id, size_t limit,
                                                                std::string_view after);
  // The names among `names` (a JSON array of strings) that the account starred.
  Result<std::vector<std::string>> StarredAmong(int64_t account_id, const std::string& names);

  // ---- repository notifications ----
  Status InsertNotification(const NotificationRow& row, const AuditRow& audit);
  Result<std::vector<NotificationRow>> ListNotifications(int64_t repository_id);
  Result<std::optional<NotificationRow>> FindNotification(int64_t repository_id,
                                                          std::string_view uuid);
  Status DeleteNotification(int64_t id, const AuditRow& audit);
  Status ResetNotification(int64_t id, const AuditRow& audit);

  // ---- OAuth applications ----
  Status InsertApplication(const ApplicationRow& row, const AuditRow& audit);
  Result<std::optional<ApplicationRow>> FindApplication(std::string_view client_id);
  Result<std::vector<ApplicationRow>> ListApplications(int64_t org_id);
  Status UpdateApplication(const ApplicationRow& row, const AuditRow& audit);
  Status UpdateApplicationSecret(int64_t id, std::string_view sealed, const AuditRow& audit);
  Status DeleteApplication(int64_t id, const AuditRow& audit);
  Status InsertCode(const CodeRow& row);
  // Deletes and returns the code row (single use), expired or not.
  Result<std::optional<CodeRow>> TakeCode(std::string_view lookup);
  // Live OAuth tokens of the account that belong to an application, with
  // that application, by client id then token id.
  Result<std::vector<std::pair<ApplicationRow, TokenRow>>> AuthorizedTokens(int64_t account_id,
                                                                            int64_t now);
  // Tokens of the application for the account (every, live or not).
  Result<std::vector<TokenRow>> ApplicationTokensOf(int64_t application_id, int64_t account_id);
  // Deletes the tokens and writes the audits, in one transaction; NotFound if
  // none of them was deleted.
  Status DeleteTokens(const std::vector<std::string>& uuids, const std::vector<AuditRow>& audits);
  // Tokens of the application after the token `after_uuid` (empty: first), by id.
  Result<std::pair<std::vector<TokenRow>, bool>> ListApplicationTokens(int64_t application_id,
                                                                       size_t limit,
                                                                       std::string_view after_uuid);

 private:
  ConnectionPool& pool_;
  // Accounts and repositories by name, as read under the pool's cache
  // generation (db/read_cache.h): nearly every API request looks up its
  // caller's account and its repository, and each lookup would otherwise
  // be a read transaction of its own. Found rows only.
  ReadCache<AccountRow> accounts_{2u << 20};
  ReadCache<RepositoryRow> repositories_{2u << 20};
};

}  // namespace quay::db
