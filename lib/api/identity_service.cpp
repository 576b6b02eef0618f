// IdentityService (quay/identity.h): validation, hashing and policy on top of
// db::IdentityStore, which does the SQL and writes each mutation's audit row
// in the mutation's own transaction.
#include <utility>
#include <vector>

#include "api/access_facts.h"
#include "api/audit_log.h"
#include "api/database_authorizer.h"
#include "api/identity_extras.h"
#include "api/new_identity_service.h"
#include "api/service_state.h"
#include "api/signing_key_store.h"
#include "auth/access_rules.h"
#include "auth/password.h"
#include "auth/secrets.h"
#include "core/json_text.h"
#include "core/str_cat.h"
#include "db/connection.h"
#include "db/read_cache.h"
#include "quay/reference.h"

namespace quay::api {
namespace {

// Issued token text: a kind prefix (so leaked tokens are recognisable by
// secret scanners and "$app"-less logins can tell tokens from passwords), a
// public lookup part that finds the row, and the secret whose SHA-256 is
// stored. 16 + 48 characters of [A-Za-z0-9]: ~95 bits to find, ~285 to guess.
constexpr std::string_view kAppTokenPrefix = "qapp_";
constexpr std::string_view kOAuthTokenPrefix = "qoat_";
constexpr size_t kLookupLength = 16;
constexpr size_t kSecretLength = 48;
constexpr size_t kRobotTokenLength = 64;  // Quay's robot token length

struct SplitToken {
  std::string_view lookup;
  std::string_view secret;
};

std::optional<SplitToken> Split(std::string_view token, std::string_view prefix) {
  if (token.size() != prefix.size() + kLookupLength + kSecretLength) return std::nullopt;
  if (token.substr(0, prefix.size()) != prefix) return std::nullopt;
  token.remove_prefix(prefix.size());
  return SplitToken{token.substr(0, kLookupLength), token.substr(kLookupLength)};
}

Status InvalidCredentials() { return Status::Unauthenticated("invalid credentials"); }

Status UnknownAccount(std::string_view what, std::string_view name) {
  return Status::NotFound(Subject::kNone,
                          std::string(what) + " '" + std::string(name) + "' not found");
}

std::string MetadataOf(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::vector<std::pair<std::string_view, std::string_view>> views(fields.begin(), fields.end());
  return core::JsonObjectText(views);
}

Grantee::Kind GranteeKindOf(db::AccountKind k) {
  return k == db::AccountKind::kRobot ? Grantee::Kind::kRobot : Grantee::Kind::kUser;
}

Robot RobotFrom(const db::AccountRow& row) {
  Robot r;
  r.name = row.name;
  r.namespace_name = row.name.substr(0, row.name.find('+'));
  r.description = row.description;
  r.created_at = FromMicros(row.created_at);
  return r;
}

RepositoryInfo RepositoryFrom(const db::RepositoryRow& row) {
  RepositoryInfo info;
  info.name = row.name;
  info.namespace_name = std::string(NamespaceOf(row.name));
  info.visibility = row.is_public ? Visibility::kPublic : Visibility::kPrivate;
  info.description = row.description;
  info.created_at = FromMicros(row.created_at);
  return info;
}

std::string ShortName(std::string_view repository) {
  const auto slash = repository.find('/');
  return std::string(slash == std::string_view::npos ? repository : repository.substr(slash + 1));
}

bool ActsAsUser(const Principal& who) {
  return who.kind == Principal::Kind::kUser || who.kind == Principal::Kind::kToken;
}

class IdentityServiceImpl final : public IdentityService {
 public:
  explicit IdentityServiceImpl(std::shared_ptr<ServiceState> state)
      : state_(std::move(state)),
        authorizer_(std::make_shared<DatabaseAuthorizer>(state_)),
        audit_(state_),
        keys_(state_),
        stars_(NewStars(state_)),
        notifications_(NewNotifications(state_)),
        applications_(NewOAuthApplications(state_)),
        messages_(NewGlobalMessages(state_)) {}

  std::shared_ptr<Authorizer> authorizer() override { return authorizer_; }
  OAuthApplications& applications() override { return *applications_; }
  Stars& stars() override { return *stars_; }
  RepositoryNotifications& notifications() override { return *notifications_; }
  GlobalMessages& messages() override { return *messages_; }
  AuditLog& audit() override { return audit_; }
  SigningKeyStore& signing_keys() override { return keys_; }

  // ---- authentication ----

  Result<Principal> AuthenticateBasic(std::string_view username,
                                      std::string_view password) override {
    if (username == "$app") return AuthenticateAppToken(password);
    if (username == "$oauthtoken") return AuthenticateOAuthToken(password);
    if (username.find('+') != std::string_view::npos) return AuthenticateRobot(username, password);
    if (Split(password, kAppTokenPrefix)) {
      // A CLI given an app-specific token as the user's password.
      auto p = AuthenticateAppToken(password);
      if (!p.ok() || p->name != username) return InvalidCredentials();
      return p;
    }
    return AuthenticateUser(username, password);
  }

  LoginResult Login(const LoginAttempt& attempt, LoginThrottle* throttle) override {
    const std::string_view key =
        attempt.method == LoginAttempt::Method::kOAuthToken ? "$oauthtoken" : attempt.username;
    LoginResult out;
    if (throttle != nullptr) {
      out.retry_after = throttle->RetryAfter(key, attempt.address);
      if (out.throttled()) return out;
    }
    switch (attempt.method) {
      case LoginAttempt::Method::kBasic:
        out.principal = AuthenticateBasic(attempt.username, attempt.secret);
        break;
      case LoginAttempt::Method::kPassword:
        out.principal = AuthenticateUser(attempt.username, attempt.secret);
        break;
      case LoginAttempt::Method::kOAuthToken:
        out.principal = AuthenticateOAuthToken(attempt.secret);
        break;
    }
    if (throttle == nullptr) return out;
    if (out.principal.ok()) {
      throttle->RecordSuccess(key, attempt.address);
      return out;
    }
    if (out.principal.status().code() != Code::kUnauthenticated) return out;
    auto name = LoginNameOf(key);
    if (!name.ok()) return out;  // cannot tell: count nothing rather than guess
    throttle->RecordFailure(key, attempt.address, *name);
    return out;
  }

  // Which back-off table a failed login's name belongs to: only a name the
  // database knows (or a fixed credential name) may reach an account's record.
  Result<LoginName> LoginNameOf(std::string_view name) {
    if (name == "$app" || name == "$oauthtoken") return LoginName::kAccount;
    if (name.empty() || name.size() > 255) return LoginName::kUnknown;
    auto found = state_->identity.FindAccount(name);
    if (!found.ok()) return found.status();
    return found->has_value() ? LoginName::kAccount : LoginName::kUnknown;
  }

  Result<Principal> AuthenticateUser(std::string_view username,
                                     std::string_view password) override {
    const auto cost = state_->options.identity.password_hash_cost;
    std::optional<db::AccountRow> account;
    if (ValidateAccountName(username).ok()) {
      auto found = state_->identity.FindAccount(username);
      if (!found.ok()) return found.status();
      account = std::move(*found);
    }
    if (!account || account->kind != db::AccountKind::kUser || account->password_hash.empty()) {
      auth::VerifyPasswordDecoy(password, cost);
      return InvalidCredentials();
    }
    // Verify before looking at `enabled`, so a disabled account answers in
    // the same time as a wrong password.
    if (!auth::VerifyPassword(account->password_hash, password) || !account->enabled) {
      return InvalidCredentials();
    }
    Principal p = Principal::User(account->name);
    p.account_uuid = account->uuid;
    p.superuser = SuperuserOf(p.name);
    return p;
  }

  Result<Principal> AuthenticateRobot(std::string_view robot_name,
                                      std::string_view token) override {
    auto found = state_->identity.FindAccount(robot_name);
    if (!found.ok()) return found.status();
    const std::string presented = auth::Sha256(token);
    if (!*found || (*found)->kind != db::AccountKind::kRobot ||
        !auth::ConstantTimeEqual((*found)->token_hash, presented) || !(*found)->enabled) {
      return InvalidCredentials();
    }
    if (auto s = RequireUsableOwner(**found); !s.ok()) return s;
    Principal p = Principal::Robot((*found)->name);
    p.account_uuid = (*found)->uuid;
    return p;
  }

  Result<Principal> AuthenticateAppToken(std::string_view secret) override {
    auto token = VerifyToken(false, secret, kAppTokenPrefix);
    if (!token.ok()) return token.status();
    // Best effort: a failed last-used stamp must not fail the login.
    (void)state_->identity.TouchAppToken(token->id, state_->NowMicros());
    Principal p;
    p.kind = Principal::Kind::kToken;
    p.name = token->user;
    p.token_kind = Principal::TokenKind::kAppSpecific;
    p.token_id = token->uuid;
    p.token_title = token->title;
    p.account_uuid = token->user_uuid;
    p.superuser = SuperuserOf(p.name);
    return p;
  }

  Result<Principal> AuthenticateOAuthToken(std::string_view secret) override {
    auto token = VerifyToken(true, secret, kOAuthTokenPrefix);
    if (!token.ok()) return token.status();
    Principal p;
    p.kind = Principal::Kind::kToken;
    p.name = token->user;
    p.token_kind = Principal::TokenKind::kOAuth;
    p.token_id = token->uuid;
    p.token_title = token->title;
    p.account_uuid = token->user_uuid;
    p.scopes = ScopeSet::FromBits(token->scopes);
    if (p.scopes.Has(Scope::kSuperUser)) p.superuser = SuperuserOf(p.name);
    return p;
  }

  Status CheckCurrent(const Principal& who) override {
    if (who.anonymous()) return Status::Ok();
    if (who.account_uuid.empty()) return NoLongerValid();
    // A deleted account's tokens keep coming until they expire; the miss is
    // remembered under the generation (an account created since moves it)
    // so that each is not a query. Only signed tokens get here, so the
    // names are ones this registry issued.
    const uint64_t generation = state_->db->connections().CacheGeneration();
    if (missing_accounts_.Get(who.name, generation)) return NoLongerValid();
    auto found = state_->identity.FindAccount(who.name);
    if (!found.ok()) return found.status();
    if (!*found) {
      missing_accounts_.Put(who.name, generation, true, who.name.size() + 64);
      return NoLongerValid();
    }
    const db::AccountKind kind =
        who.kind == Principal::Kind::kRobot ? db::AccountKind::kRobot : db::AccountKind::kUser;
    if (!*found || (*found)->kind != kind || !(*found)->enabled ||
        (*found)->uuid != who.account_uuid) {
      return NoLongerValid();
    }
    if (kind == db::AccountKind::kRobot) {
      if (auto s = RequireUsableOwner(**found); !s.ok()) {
        return s.code() == Code::kUnauthenticated ? NoLongerValid() : s;
      }
    }
    if (who.kind != Principal::Kind::kToken) return Status::Ok();
    const bool oauth = who.token_kind == Principal::TokenKind::kOAuth;
    if (!oauth && who.token_kind != Principal::TokenKind::kAppSpecific) return NoLongerValid();
    auto token = LiveToken(oauth, who.token_id);
    if (!token.ok()) return token.status();
    if (!*token || (*token)->account_id != (*found)->id ||
        ((*token)->expires_at && *(*token)->expires_at <= state_->NowMicros())) {
      return NoLongerValid();
    }
    return Status::Ok();
  }

  SuperuserKind SuperuserOf(std::string_view username) const override {
    return ConfiguredSuperuser(state_->options.identity, username);
  }

  // ---- users ----

  Result<User> CreateUser(const Actor& actor, std::string_view username, std::string_view email,
                          std::string_view password) override {
    if (auto s = ValidateAccountName(username); !s.ok()) return s;
    if (password.empty()) return Status::InvalidArgument(Subject::kNone, "password is empty");
    auto hash = auth::HashPassword(password, state_->options.identity.password_hash_cost);
    if (!hash.ok()) return hash.status();
    db::AccountRow row;
    row.name = std::string(username);
    row.kind = db::AccountKind::kUser;
    row.email = std::string(email);
    row.password_hash = std::move(*hash);
    row.created_at = state_->NowMicros();
    auto audit = Audit(actor, "user_create", row.name, "",
                       AuditMetadata({{"username", username}, {"email", email}}));
    auto inserted = state_->identity.InsertAccount(row, audit);
    if (!inserted.ok()) return inserted.status();
    return UserFrom(*inserted);
  }

  Result<User> GetUser(std::string_view username) override {
    auto row = Require(username, db::AccountKind::kUser, "user");
    if (!row.ok()) return row.status();
    return UserFrom(*row);
  }

  Result<AccountPage> ListUsers(size_t limit, std::string_view after) override {
    auto page = state_->identity.ListAccounts(db::AccountKind::kUser, limit, after);
    if (!page.ok()) return page.status();
    return AccountPage{std::move(page->first), page->second};
  }

  Status SetPassword(const Actor& actor, std::string_view username,
                     std::string_view password) override {
    if (password.empty()) return Status::InvalidArgument(Subject::kNone, "password is empty");
    auto hash = auth::HashPassword(password, state_->options.identity.password_hash_cost);
    if (!hash.ok()) return hash.status();
    auto audit = Audit(actor, "user_change_password", std::string(username), "",
                       AuditMetadata({{"username", username}}));
    return state_->identity.UpdatePassword(username, *hash, audit);
  }

  Status SetUserEnabled(const Actor& actor, std::string_view username, bool enabled) override {
    auto audit = Audit(actor, enabled ? "user_enable" : "user_disable", std::string(username), "",
                       AuditMetadata({{"username", username}}));
    return state_->identity.UpdateEnabled(username, enabled, audit);
  }

  Status DeleteUser(const Actor& actor, std::string_view username) override {
    auto row = Require(username, db::AccountKind::kUser, "user");
    if (!row.ok()) return row.status();
    auto audit =
        Audit(actor, "user_delete", row->name, "", AuditMetadata({{"username", username}}));
    return state_->identity.DeleteAccount(row->id, audit);
  }

  Result<std::vector<std::string>> DeleteNamespaceRows(const Actor& actor, std::string_view name,
                                                       NamespaceDeletion what) {
    if (auto s = ValidateAccountName(name); !s.ok()) return s;
    std::optional<int64_t> account;
    std::optional<db::AuditRow> audit;
    if (what == NamespaceDeletion::kUser) {
      auto row = Require(name, db::AccountKind::kUser, "user");
      if (!row.ok()) return row.status();
      account = row->id;
      audit = Audit(actor, "user_delete", row->name, "", AuditMetadata({{"username", name}}));
    } else if (what == NamespaceDeletion::kOrganization) {
      auto row = Require(name, db::AccountKind::kOrg, "organization");
      if (!row.ok()) return row.status();
      account = row->id;
      audit = Audit(actor, "org_delete", row->name, "", AuditMetadata({{"namespace", name}}));
    }
    return state_->identity.DeleteNamespace(name, account, audit);
  }

  // ---- organizations and teams ----

  Result<Organization> CreateOrganization(const Actor& actor, std::string_view name,
                                          std::string_view email, std::string_view owner) override {
    if (auto s = ValidateAccountName(name); !s.ok()) return s;
    auto owner_row = Require(owner, db::AccountKind::kUser, "user");
    if (!owner_row.ok()) return owner_row.status();
    db::AccountRow row;
    row.name = std::string(name);
    row.kind = db::AccountKind::kOrg;
    row.email = std::string(email);
    row.created_at = state_->NowMicros();
    auto audit = Audit(actor, "org_create", row.name, "",
                       AuditMetadata({{"namespace", name}, {"email", email}}));
    auto inserted = state_->identity.InsertOrganization(row, "owners", owner_row->id, audit);
    if (!inserted.ok()) return inserted.status();
    return OrganizationFrom(*inserted);
  }

  Result<Organization> GetOrganization(std::string_view name) override {
    auto row = Require(name, db::AccountKind::kOrg, "organization");
    if (!row.ok()) return row.status();
    return OrganizationFrom(*row);
  }

  Status DeleteOrganization(const Actor& actor, std::string_view name) override {
    auto row = Require(name, db::AccountKind::kOrg, "organization");
    if (!row.ok()) return row.status();
    auto audit = Audit(actor, "org_delete", row->name, "", AuditMetadata({{"namespace", name}}));
    return state_->identity.DeleteAccount(row->id, audit);
  }

  Result<Team> CreateTeam(const Actor& actor, std::string_view organization, std::string_view team,
                          TeamRole role, std::string_view description) override {
    if (auto s = ValidateAccountName(team); !s.ok()) return s;
    auto org = Require(organization, db::AccountKind::kOrg, "organization");
    if (!org.ok()) return org.status();
    db::TeamRow row;
    row.org_id = org->id;
    row.name = std::string(team);
    row.role = static_cast<int>(role);
    row.description = std::string(description);
    auto audit = Audit(actor, "org_create_team", org->name, "", AuditMetadata({{"team", team}}));
    auto inserted = state_->identity.InsertTeam(row, state_->NowMicros(), audit);
    if (!inserted.ok()) return inserted.status();
    return TeamFrom(org->name, *inserted);
  }

  Result<std::vector<Team>> ListTeams(std::string_view organization) override {
    auto org = Require(organization, db::AccountKind::kOrg, "organization");
    if (!org.ok()) return org.status();
    auto rows = state_->identity.ListTeams(org->id);
    if (!rows.ok()) return rows.status();
    std::vector<Team> out;
    for (const auto& r : *rows) out.push_back(TeamFrom(org->name, r));
    return out;
  }

  Status SetTeamRole(const Actor& actor, std::string_view organization, std::string_view team,
                     TeamRole role) override {
    auto found = RequireTeam(organization, team);
    if (!found.ok()) return found.status();
    auto audit = Audit(actor, "org_set_team_role", std::string(organization), "",
                       AuditMetadata({{"team", team}, {"role", ToString(role)}}));
    return state_->identity.UpdateTeamRole(found->second.id, static_cast<int>(role), audit);
  }

  Status DeleteTeam(const Actor& actor, std::string_view organization,
                    std::string_view team) override {
    auto found = RequireTeam(organization, team);
    if (!found.ok()) return found.status();
    auto audit = Audit(actor, "org_delete_team", std::string(organization), "",
                       AuditMetadata({{"team", team}}));
    return state_->identity.DeleteTeam(found->second.id, audit);
  }

  Status AddTeamMember(const Actor& actor, std::string_view organization, std::string_view team,
                       std::string_view member) override {
    auto found = RequireTeam(organization, team);
    if (!found.ok()) return found.status();
    auto account = RequireMember(found->first, member);
    if (!account.ok()) return account.status();
    auto audit = Audit(actor, "org_add_team_member", std::string(organization), "",
                       AuditMetadata({{"team", team}, {"member", member}}));
    auto added = state_->identity.AddTeamMember(found->second.id, account->id, audit);
    return added.ok() ? Status::Ok() : added.status();
  }

  Status RemoveTeamMember(const Actor& actor, std::string_view organization, std::string_view team,
                          std::string_view member) override {
    auto found = RequireTeam(organization, team);
    if (!found.ok()) return found.status();
    auto account = state_->identity.FindAccount(member);
    if (!account.ok()) return account.status();
    if (!*account) return UnknownAccount("account", member);
    auto audit = Audit(actor, "org_remove_team_member", std::string(organization), "",
                       AuditMetadata({{"team", team}, {"member", member}}));
    return state_->identity.RemoveTeamMember(found->second.id, (*account)->id, audit);
  }

  Result<std::vector<std::string>> ListTeamMembers(std::string_view organization,
                                                   std::string_view team) override {
    auto found = RequireTeam(organization, team);
    if (!found.ok()) return found.status();
    return state_->identity.ListTeamMembers(found->second.id);
  }

  // ---- robots ----

  Result<RobotCredentials> CreateRobot(const Actor& actor, std::string_view namespace_name,
                                       std::string_view short_name,
                                       std::string_view description) override {
    if (auto s = ValidateAccountName(short_name); !s.ok()) return s;
    auto owner = RequireNamespace(namespace_name);
    if (!owner.ok()) return owner.status();
    const std::string name = owner->name + "+" + std::string(short_name);
    if (name.size() > 255) return Status::InvalidArgument(Subject::kName, "robot name too long");
    std::string token = auth::RandomToken(kRobotTokenLength);
    db::AccountRow row;
    row.name = name;
    row.kind = db::AccountKind::kRobot;
    row.token_hash = auth::Sha256(token);
    row.owner_id = owner->id;
    row.description = std::string(description);
    row.created_at = state_->NowMicros();
    auto audit = Audit(actor, "create_robot", owner->name, "",
                       AuditMetadata({{"robot", name}, {"description", description}}));
    auto inserted = state_->identity.InsertAccount(row, audit);
    if (!inserted.ok()) return inserted.status();
    return RobotCredentials{RobotFrom(*inserted), std::move(token)};
  }

  Result<Robot> GetRobot(std::string_view robot_name) override {
    auto row = Require(robot_name, db::AccountKind::kRobot, "robot");
    if (!row.ok()) return row.status();
    return RobotFrom(*row);
  }

  Result<std::vector<Robot>> ListRobots(std::string_view namespace_name) override {
    auto owner = RequireNamespace(namespace_name);
    if (!owner.ok()) return owner.status();
    auto rows = state_->identity.ListRobots(owner->id);
    if (!rows.ok()) return rows.status();
    std::vector<Robot> out;
    for (const auto& r : *rows) out.push_back(RobotFrom(r));
    return out;
  }

  Result<RobotCredentials> RegenerateRobotToken(const Actor& actor,
                                                std::string_view robot_name) override {
    auto row = Require(robot_name, db::AccountKind::kRobot, "robot");
    if (!row.ok()) return row.status();
    std::string token = auth::RandomToken(kRobotTokenLength);
    const std::string ns = row->name.substr(0, row->name.find('+'));
    auto audit =
        Audit(actor, "regenerate_robot_token", ns, "", AuditMetadata({{"robot", row->name}}));
    if (auto s = state_->identity.UpdateRobotToken(row->id, auth::Sha256(token), audit); !s.ok()) {
      return s;
    }
    return RobotCredentials{RobotFrom(*row), std::move(token)};
  }

  Status DeleteRobot(const Actor& actor, std::string_view robot_name) override {
    auto row = Require(robot_name, db::AccountKind::kRobot, "robot");
    if (!row.ok()) return row.status();
    const std::string ns = row->name.substr(0, row->name.find('+'));
    auto audit = Audit(actor, "delete_robot", ns, "", AuditMetadata({{"robot", row->name}}));
    return state_->identity.DeleteAccount(row->id, audit);
  }

  // ---- repositories ----

  Result<RepositoryInfo> CreateRepository(const Actor& actor, std::string_view name,
                                          Visibility visibility,
                                          std::string_view description) override {
    auto created = CreateRepositoryRow(actor, name, visibility, description, /*adopt=*/false);
    if (!created.ok()) return created.status();
    if (!*created) {
      return Status::Conflict(Subject::kRepository,
                              core::StrCat({"repository '", name, "' already exists"}));
    }
    return GetRepository(name);
  }

  Result<bool> EnsureRepository(const Actor& actor, std::string_view name) override {
    auto existing = state_->identity.FindRepository(name);
    if (!existing.ok()) return existing.status();
    if (*existing && (*existing)->has_settings) return false;
    if (auto s = CreateNamespaceOnPush(actor, name); !s.ok()) return s;
    const auto visibility = state_->options.identity.create_private_repo_on_push
                                ? Visibility::kPrivate
                                : Visibility::kPublic;
    return CreateRepositoryRow(actor, name, visibility, "", /*adopt=*/true);
  }

  Result<PushTarget> PushToCreate(const Actor& actor, std::string_view name) override {
    if (auto s = ValidateRepositoryName(name); !s.ok()) return s;
    auto refused = [](const Status& s) {
      return s.code() == Code::kDenied || s.code() == Code::kUnauthenticated || s.IsNotFound() ||
             s.code() == Code::kInvalidArgument;
    };
    if (Status may = authorizer_->Check(actor.principal, name, Action::kPush); !may.ok()) {
      if (refused(may)) return PushTarget::kRefused;
      return may;
    }
    if (actor.principal.anonymous()) {
      // AllowAll-like policies aside, an anonymous push never creates.
      auto existing = state_->identity.FindRepository(name);
      if (!existing.ok()) return existing.status();
      return *existing ? PushTarget::kExists : PushTarget::kRefused;
    }
    auto created = EnsureRepository(actor, name);
    if (!created.ok()) {
      if (refused(created.status())) return PushTarget::kRefused;
      return created.status();
    }
    return *created ? PushTarget::kCreated : PushTarget::kExists;
  }

  Result<RepositoryInfo> CreateRepositoryAs(const Actor& actor, std::string_view name,
                                            Visibility visibility,
                                            std::string_view description) override {
    if (auto s = ValidateRepositoryName(name); !s.ok()) return s;
    if (Status may = authorizer_->CheckNamespace(actor.principal, NamespaceOf(name),
                                                 NamespaceAction::kCreateRepository);
        !may.ok()) {
      return may;
    }
    return CreateRepository(actor, name, visibility, description);
  }

  Result<RepositoryInfo> GetRepository(std::string_view name) override {
    auto row = RequireRepository(name);
    if (!row.ok()) return row.status();
    return RepositoryFrom(*row);
  }

  Status SetVisibility(const Actor& actor, std::string_view repository,
                       Visibility visibility) override {
    auto row = RequireRepository(repository);
    if (!row.ok()) return row.status();
    auto audit = Audit(actor, "change_repo_visibility", "", row->name,
                       AuditMetadata({{"namespace", NamespaceOf(row->name)},
                                      {"repo", ShortName(row->name)},
                                      {"visibility", ToString(visibility)}}));
    return state_->identity.UpdateRepositorySettings(row->id, visibility == Visibility::kPublic,
                                                     row->description, audit);
  }

  Status SetDescription(const Actor& actor, std::string_view repository,
                        std::string_view description) override {
    auto row = RequireRepository(repository);
    if (!row.ok()) return row.status();
    auto audit = Audit(actor, "set_repo_description", "", row->name,
                       AuditMetadata({{"namespace", NamespaceOf(row->name)},
                                      {"repo", ShortName(row->name)},
                                      {"description", description}}));
    return state_->identity.UpdateRepositorySettings(row->id, row->is_public, description, audit);
  }

  // The catalog: cached per principal and page (db/read_cache.h), since
  // clients and UIs poll it and the visibility query joins every grant.
  Result<AccountPage> ListVisibleRepositories(const Principal& who, size_t limit,
                                              std::string_view after) override {
    std::string key;
    key += static_cast<char>(who.kind);
    key += static_cast<char>(who.scopes.bits() & 0xff);
    key += who.name;
    key += '\0';
    key += std::to_string(limit);
    key += '\0';
    key += after;
    const uint64_t generation = state_->db->connections().CacheGeneration();
    if (auto hit = visible_pages_.Get(key, generation)) return **hit;
    auto page = FindVisibleRepositories(who, limit, after);
    if (!page.ok()) return page;
    auto shared = std::make_shared<const AccountPage>(std::move(page).value());
    size_t cost = sizeof(AccountPage);
    for (const std::string& name : shared->names) cost += sizeof(std::string) + name.size();
    visible_pages_.Put(key, generation, shared, cost);
    return *shared;
  }

  Result<AccountPage> FindVisibleRepositories(const Principal& who, size_t limit,
                                              std::string_view after) {
    const auto& options = state_->options.identity;
    db::IdentityStore::VisibleFilter filter;
    if (who.kind == Principal::Kind::kAnonymous || who.name.empty()) {
      if (!(options.anonymous_access && options.public_catalog)) {
        return Status::Unauthenticated("authentication required to list repositories");
      }
      filter.public_ones = true;
    } else {
      if (auto account = SignedInSources(who, filter); !account.ok()) return account.status();
    }
    auto page = state_->identity.ListVisibleRepositories(filter, limit, after);
    if (!page.ok()) return page.status();
    return AccountPage{std::move(page->first), page->second};
  }

  Result<RepositoryAccess> Access(const Principal& who, std::string_view repository) override {
    auto facts = GatherFacts(*state_, who, repository, NamespaceOf(repository));
    if (!facts.ok()) return facts.status();
    RepositoryAccess out;
    out.exists = facts->repository_exists;
    out.visibility = facts->repository_public ? Visibility::kPublic : Visibility::kPrivate;
    out.role = auth::EffectiveRole(*facts, PolicyOf(state_->options.identity));
    out.may_create = !facts->repository_exists &&
                     (auth::MayCreateRepository(*facts) ||
                      auth::MayCreateNamespaceOnPush(*facts, PolicyOf(state_->options.identity)));
    return out;
  }

  // ---- repository permissions ----

  Status SetPermission(const Actor& actor, std::string_view repository, const Grantee& grantee,
                       RepositoryRole role) override {
    if (role == RepositoryRole::kNone) {
      return Status::InvalidArgument(Subject::kNone, "role must be read, write or admin");
    }
    auto repo = RequireRepository(repository);
    if (!repo.ok()) return repo.status();
    auto target = ResolveGrantee(NamespaceOf(repo->name), grantee);
    if (!target.ok()) return target.status();
    auto audit = Audit(actor, "change_repo_permission", "", repo->name,
                       PermissionMetadata(repo->name, grantee, ToString(role)));
    return state_->identity.UpsertPermission(repo->id, target->first, target->second,
                                             static_cast<int>(role), audit);
  }

  Status RemovePermission(const Actor& actor, std::string_view repository,
                          const Grantee& grantee) override {
    auto repo = RequireRepository(repository);
    if (!repo.ok()) return repo.status();
    auto target = ResolveGrantee(NamespaceOf(repo->name), grantee);
    if (!target.ok()) return target.status();
    auto audit = Audit(actor, "delete_repo_permission", "", repo->name,
                       PermissionMetadata(repo->name, grantee, ""));
    return state_->identity.DeletePermission(repo->id, target->first, target->second, audit);
  }

  Result<std::vector<RepositoryPermission>> ListPermissions(std::string_view repository) override {
    auto repo = RequireRepository(repository);
    if (!repo.ok()) return repo.status();
    auto rows = state_->identity.ListPermissions(repo->id);
    if (!rows.ok()) return rows.status();
    std::vector<RepositoryPermission> out;
    for (const auto& r : *rows) {
      Grantee g{r.is_team ? Grantee::Kind::kTeam : GranteeKindOf(r.account_kind), r.name};
      out.push_back({std::move(g), static_cast<RepositoryRole>(r.role)});
    }
    return out;
  }

  // ---- prototypes ----

  Result<Prototype> CreatePrototype(const Actor& actor, std::string_view organization,
                                    std::optional<std::string> activating_user,
                                    const Grantee& delegate, RepositoryRole role) override {
    if (role == RepositoryRole::kNone) {
      return Status::InvalidArgument(Subject::kNone, "role must be read, write or admin");
    }
    auto org = Require(organization, db::AccountKind::kOrg, "organization");
    if (!org.ok()) return org.status();
    std::optional<int64_t> activating_id;
    if (activating_user) {
      auto user = Require(*activating_user, db::AccountKind::kUser, "user");
      if (!user.ok()) return user.status();
      activating_id = user->id;
    }
    auto target = ResolveGrantee(org->name, delegate);
    if (!target.ok()) return target.status();
    Prototype out;
    out.id = auth::NewUuid();
    out.organization = org->name;
    out.activating_user = std::move(activating_user);
    out.delegate = delegate;
    out.role = role;
    auto audit = Audit(actor, "create_prototype_permission", org->name, "", PrototypeMetadata(out));
    if (auto s = state_->identity.InsertPrototype(out.id, org->id, activating_id, target->first,
                                                  target->second, static_cast<int>(role),
                                                  state_->NowMicros(), audit);
        !s.ok()) {
      return s;
    }
    return out;
  }

  Result<std::vector<Prototype>> ListPrototypes(std::string_view organization) override {
    auto org = Require(organization, db::AccountKind::kOrg, "organization");
    if (!org.ok()) return org.status();
    auto rows = state_->identity.ListPrototypes(org->id);
    if (!rows.ok()) return rows.status();
    std::vector<Prototype> out;
    for (const auto& r : *rows) out.push_back(PrototypeFrom(org->name, r));
    return out;
  }

  Status DeletePrototype(const Actor& actor, std::string_view organization,
                         std::string_view prototype_id) override {
    auto org = Require(organization, db::AccountKind::kOrg, "organization");
    if (!org.ok()) return org.status();
    auto rows = state_->identity.ListPrototypes(org->id);
    if (!rows.ok()) return rows.status();
    for (const auto& r : *rows) {
      if (r.uuid != prototype_id) continue;
      auto audit = Audit(actor, "delete_prototype_permission", org->name, "",
                         PrototypeMetadata(PrototypeFrom(org->name, r)));
      return state_->identity.DeletePrototype(org->id, prototype_id, audit);
    }
    return Status::NotFound(Subject::kNone, "unknown prototype");
  }

  // ---- app-specific tokens ----

  Result<Issued<AppToken>> CreateAppToken(const Actor& actor, std::string_view user,
                                          std::string_view title) override {
    if (title.empty()) return Status::InvalidArgument(Subject::kNone, "token title is empty");
    auto account = Require(user, db::AccountKind::kUser, "user");
    if (!account.ok()) return account.status();
    const auto lifetime = state_->options.identity.app_token_lifetime;
    auto issued = NewToken(*account, std::string(title), 0, lifetime, kAppTokenPrefix);
    auto audit = Audit(actor, "create_app_specific_token", account->name, "",
                       AuditMetadata({{"app_specific_token", issued.first.uuid},
                                      {"app_specific_token_title", title}}));
    if (auto s = state_->identity.InsertToken(false, issued.first, issued.second.lookup, audit);
        !s.ok()) {
      return s;
    }
    return Issued<AppToken>{AppTokenFrom(issued.first), std::move(issued.second.text)};
  }

  Result<std::vector<AppToken>> ListAppTokens(std::string_view user) override {
    auto account = Require(user, db::AccountKind::kUser, "user");
    if (!account.ok()) return account.status();
    auto rows = state_->identity.ListTokens(false, account->id);
    if (!rows.ok()) return rows.status();
    std::vector<AppToken> out;
    for (const auto& r : *rows) out.push_back(AppTokenFrom(r));
    return out;
  }

  Result<UserNotificationPage> ListUserNotifications(std::string_view user, size_t limit,
                                                     std::string_view after_cursor) override {
    limit = std::min<size_t>(std::max<size_t>(limit, 1), 100);
    auto account = Require(user, db::AccountKind::kUser, "user");
    if (!account.ok()) return account.status();
    auto before = ParseCursor(after_cursor);
    if (!before.ok()) return before.status();
    auto rows = state_->identity.ListUserNotifications(account->id, limit, *before);
    if (!rows.ok()) return rows.status();
    UserNotificationPage page;
    for (const auto& r : rows->first) page.notifications.push_back(NotificationFrom(r));
    page.more = rows->second;
    if (page.more) page.next_cursor = std::to_string(rows->first.back().id);
    return page;
  }

  Result<UserNotification> GetUserNotification(std::string_view user,
                                               std::string_view id) override {
    auto row = FindNotification(user, id);
    if (!row.ok()) return row.status();
    return NotificationFrom(*row);
  }

  Result<UserNotification> SetUserNotificationDismissed(std::string_view user, std::string_view id,
                                                        bool dismissed) override {
    auto row = FindNotification(user, id);
    if (!row.ok()) return row.status();
    if (auto s = state_->identity.SetNotificationDismissed(row->id, dismissed); !s.ok()) return s;
    row->dismissed = dismissed;
    return NotificationFrom(*row);
  }

  Result<AppTokenPage> ListAllAppTokens(bool only_expiring, size_t limit,
                                        std::string_view after_cursor) override {
    limit = std::min<size_t>(std::max<size_t>(limit, 1), 1000);
    auto after_id = ParseCursor(after_cursor);
    if (!after_id.ok()) return after_id.status();
    const int64_t now = state_->NowMicros();
    std::optional<int64_t> before;
    if (only_expiring) {
      // Quay: "expiring soon" is a tenth of the token lifetime, at least a
      // second. Tokens that never expire are never expiring.
      const auto lifetime = state_->options.identity.app_token_lifetime;
      const int64_t window =
          std::max<int64_t>(1, (static_cast<int64_t>(lifetime.count()) + 9) / 10) * 1000000;
      before = lifetime.count() > 0 ? now + window : now;
    }
    auto rows = state_->identity.ListAllAppTokens(before, now, limit, *after_id);
    if (!rows.ok()) return rows.status();
    AppTokenPage page;
    for (const auto& r : rows->first) page.tokens.push_back(AppTokenFrom(r));
    page.more = rows->second;
    if (page.more) page.next_cursor = std::to_string(rows->first.back().id);
    return page;
  }

  Status RevokeAppToken(const Actor& actor, std::string_view user,
                        std::string_view token_id) override {
    auto account = Require(user, db::AccountKind::kUser, "user");
    if (!account.ok()) return account.status();
    auto token = state_->identity.FindTokenByUuid(false, token_id);
    if (!token.ok()) return token.status();
    if (!*token || (*token)->account_id != account->id) {
      return Status::NotFound(Subject::kNone, "unknown token");
    }
    auto audit = Audit(actor, "revoke_app_specific_token", account->name, "",
                       AuditMetadata({{"app_specific_token", token_id},
                                      {"app_specific_token_title", (*token)->title}}));
    return state_->identity.DeleteToken(false, token_id, account->id, audit);
  }

  // ---- OAuth tokens ----

  Result<Issued<OAuthToken>> IssueOAuthToken(const Actor& actor, std::string_view user,
                                             std::string_view application,
                                             ScopeSet scopes) override {
    if (scopes.empty()) return Status::InvalidArgument(Subject::kNone, "no scopes requested");
    if (application.empty()) {
      return Status::InvalidArgument(Subject::kNone, "application name is empty");
    }
    auto account = Require(user, db::AccountKind::kUser, "user");
    if (!account.ok()) return account.status();
    const auto lifetime = state_->options.identity.oauth_token_lifetime;
    auto issued =
        NewToken(*account, std::string(application), scopes.bits(), lifetime, kOAuthTokenPrefix);
    auto audit = Audit(actor, "create_oauth_api_token", account->name, "",
                       AuditMetadata({{"oauth_token_uuid", issued.first.uuid},
                                      {"application_name", application},
                                      {"scope", scopes.ToString()}}));
    if (auto s = state_->identity.InsertToken(true, issued.first, issued.second.lookup, audit);
        !s.ok()) {
      return s;
    }
    return Issued<OAuthToken>{OAuthTokenFrom(issued.first), std::move(issued.second.text)};
  }

  Result<std::vector<OAuthToken>> ListOAuthTokens(std::string_view user) override {
    auto account = Require(user, db::AccountKind::kUser, "user");
    if (!account.ok()) return account.status();
    auto rows = state_->identity.ListTokens(true, account->id);
    if (!rows.ok()) return rows.status();
    std::vector<OAuthToken> out;
    for (const auto& r : *rows) out.push_back(OAuthTokenFrom(r));
    return out;
  }

  Status RevokeOAuthToken(const Actor& actor, std::string_view token_id) override {
    auto token = state_->identity.FindTokenByUuid(true, token_id);
    if (!token.ok()) return token.status();
    if (!*token) return Status::NotFound(Subject::kNone, "unknown token");
    auto audit = Audit(
        actor, "revoke_oauth_api_token", (*token)->user, "",
        (*token)->client_id.empty()
            ? AuditMetadata({{"oauth_token_uuid", token_id}, {"application_name", (*token)->title}})
            : AuditMetadata({{"oauth_token_uuid", token_id},
                             {"application_name", (*token)->title},
                             {"client_id", (*token)->client_id}}));
    return state_->identity.DeleteToken(true, token_id, std::nullopt, audit);
  }

  // ---- REST API additions ----

  Result<User> CreateFirstUser(const Actor& actor, std::string_view username,
                               std::string_view email, std::string_view password) override {
    if (auto s = ValidateAccountName(username); !s.ok()) return s;
    if (password.empty()) return Status::InvalidArgument(Subject::kNone, "password is empty");
    auto hash = auth::HashPassword(password, state_->options.identity.password_hash_cost);
    if (!hash.ok()) return hash.status();
    db::AccountRow row;
    row.name = std::string(username);
    row.kind = db::AccountKind::kUser;
    row.email = std::string(email);
    row.password_hash = std::move(*hash);
    row.created_at = state_->NowMicros();
    auto audit = Audit(actor, "user_create", row.name, "",
                       AuditMetadata({{"username", username}, {"email", email}}));
    auto inserted = state_->identity.InsertFirstUser(row, audit);
    if (!inserted.ok()) return inserted.status();
    return UserFrom(*inserted);
  }

  Status ChangeEmail(const Actor& actor, std::string_view username,
                     std::string_view email) override {
    auto row = Require(username, db::AccountKind::kUser, "user");
    if (!row.ok()) return row.status();
    if (row->email == email) return Status::Ok();
    auto audit = Audit(actor, "user_change_email", row->name, "",
                       AuditMetadata({{"email", email}, {"old_email", row->email}}));
    return state_->identity.UpdateEmail(row->id, email, audit);
  }

  Result<std::vector<RepositoryGrant>> ListUserPermissions(std::string_view account) override {
    auto row = state_->identity.FindAccount(account);
    if (!row.ok()) return row.status();
    if (!*row || (*row)->kind == db::AccountKind::kOrg) return UnknownAccount("account", account);
    auto grants = state_->identity.ListAccountGrants((*row)->id);
    if (!grants.ok()) return grants.status();
    return GrantsFrom(*grants);
  }

  Result<std::vector<EntityMatch>> SearchEntities(const EntityQuery& query) override {
    if (query.prefix.empty()) return Status::InvalidArgument(Subject::kNone, "prefix is empty");
    const size_t limit = std::min<size_t>(std::max<size_t>(query.limit, 1), 100);
    std::vector<EntityMatch> out;
    auto add = [&](EntityMatch::Kind kind, Result<std::vector<std::string>> names) -> Status {
      if (!names.ok()) return names.status();
      for (auto& n : *names) out.push_back({kind, std::move(n)});
      return Status::Ok();
    };
    if (auto s = add(EntityMatch::Kind::kUser, state_->identity.AccountsWithPrefix(
                                                   db::AccountKind::kUser, query.prefix, limit));
        !s.ok()) {
      return s;
    }
    if (!query.namespace_name.empty()) {
      if (auto s =
              add(EntityMatch::Kind::kRobot,
                  state_->identity.AccountsWithPrefix(
                      db::AccountKind::kRobot, query.namespace_name + "+" + query.prefix, limit));
          !s.ok()) {
        return s;
      }
      if (query.include_teams) {
        auto org = state_->identity.FindAccount(query.namespace_name);
        if (!org.ok()) return org.status();
        if (*org && (*org)->kind == db::AccountKind::kOrg) {
          if (auto s = add(EntityMatch::Kind::kTeam,
                           state_->identity.TeamsWithPrefix((*org)->id, query.prefix, limit));
              !s.ok()) {
            return s;
          }
        }
      }
    }
    if (query.include_orgs) {
      if (auto s =
              add(EntityMatch::Kind::kOrganization,
                  state_->identity.AccountsWithPrefix(db::AccountKind::kOrg, query.prefix, limit));
          !s.ok()) {
        return s;
      }
    }
    return out;
  }

  Result<AccountPage> ListOrganizations(size_t limit, std::string_view after) override {
    auto page = state_->identity.ListAccounts(db::AccountKind::kOrg, limit, after);
    if (!page.ok()) return page.status();
    return AccountPage{std::move(page->first), page->second};
  }

  Result<std::vector<OrganizationMembership>> OrganizationsOf(std::string_view user) override {
    auto row = Require(user, db::AccountKind::kUser, "user");
    if (!row.ok()) return row.status();
    auto orgs = state_->identity.OrganizationsOf(row->id);
    if (!orgs.ok()) return orgs.status();
    std::vector<OrganizationMembership> out;
    for (auto& [name, admin] : *orgs) out.push_back({std::move(name), admin});
    return out;
  }

  Status SetOrganizationEmail(const Actor& actor, std::string_view organization,
                              std::string_view email) override {
    auto row = Require(organization, db::AccountKind::kOrg, "organization");
    if (!row.ok()) return row.status();
    if (row->email == email) return Status::Ok();
    auto audit = Audit(
        actor, "org_change_email", row->name, "",
        AuditMetadata({{"email", email}, {"namespace", row->name}, {"old_email", row->email}}));
    return state_->identity.UpdateEmail(row->id, email, audit);
  }

  Result<std::vector<OrganizationMember>> ListOrganizationMembers(
      std::string_view organization) override {
    auto org = Require(organization, db::AccountKind::kOrg, "organization");
    if (!org.ok()) return org.status();
    auto rows = state_->identity.OrganizationMembers(org->id);
    if (!rows.ok()) return rows.status();
    std::vector<OrganizationMember> out;
    for (auto& [user, team] : *rows) {
      if (out.empty() || out.back().name != user) out.push_back({user, {}});
      out.back().teams.push_back(std::move(team));
    }
    return out;
  }

  Result<std::vector<OutsideCollaborator>> ListOutsideCollaborators(
      std::string_view organization) override {
    auto org = Require(organization, db::AccountKind::kOrg, "organization");
    if (!org.ok()) return org.status();
    auto rows = state_->identity.OutsideCollaborators(org->id, org->name);
    if (!rows.ok()) return rows.status();
    std::vector<OutsideCollaborator> out;
    for (auto& [user, repository] : *rows) {
      if (out.empty() || out.back().name != user) out.push_back({user, {}});
      out.back().repositories.push_back(ShortName(repository));
    }
    return out;
  }

  Result<Organization> RenameOrganization(const Actor& actor, std::string_view organization,
                                          std::string_view new_name) override {
    if (auto s = ValidateAccountName(new_name); !s.ok()) return s;
    auto org = Require(organization, db::AccountKind::kOrg, "organization");
    if (!org.ok()) return org.status();
    if (org->name != new_name) {
      auto audit = Audit(actor, "org_change_name", std::string(new_name), "",
                         AuditMetadata({{"old_name", org->name},
                                        {"new_name", new_name},
                                        {"superuser", actor.principal.name}}));
      if (auto s = state_->identity.RenameOrganization(org->id, org->name, new_name, audit);
          !s.ok()) {
        return s;
      }
      org->name = std::string(new_name);
    }
    return OrganizationFrom(*org);
  }

  Result<OwnershipTaken> TakeOwnership(const Actor& actor,
                                       std::string_view namespace_name) override {
    auto entity = state_->identity.FindAccount(namespace_name);
    if (!entity.ok()) return entity.status();
    if (!*entity) return UnknownAccount("namespace", namespace_name);
    if ((*entity)->kind == db::AccountKind::kRobot) {
      return Status::InvalidArgument(Subject::kNone, "Cannot take ownership of a robot");
    }
    if ((*entity)->kind == db::AccountKind::kUser &&
        SuperuserOf((*entity)->name) != SuperuserKind::kNone) {
      return Status::InvalidArgument(Subject::kNone, "Cannot take ownership of a superuser");
    }
    auto admin = Require(actor.principal.name, db::AccountKind::kUser, "user");
    if (!admin.ok()) return admin.status();
    if (admin->id == (*entity)->id) {
      return Status::InvalidArgument(Subject::kNone, "Cannot take ownership of oneself");
    }
    OwnershipTaken taken;
    taken.entity_id = (*entity)->id;
    taken.was_user = (*entity)->kind == db::AccountKind::kUser;
    // Quay logs the row under the superuser's namespace.
    std::string metadata = "{\"entity_id\":" + std::to_string(taken.entity_id) + ",\"namespace\":";
    AppendJsonString(metadata, (*entity)->name);
    metadata +=
        std::string(",\"was_user\":") + (taken.was_user ? "true" : "false") + ",\"superuser\":";
    AppendJsonString(metadata, admin->name);
    metadata += "}";
    auto audit = Audit(actor, "take_ownership", admin->name, "", std::move(metadata));
    Status done = taken.was_user ? state_->identity.ConvertUserToOrganization(
                                       (*entity)->id, admin->id, state_->NowMicros(), audit)
                                 : state_->identity.JoinAdminTeam((*entity)->id, admin->id, audit);
    if (!done.ok()) return done;
    return taken;
  }

  Status RemoveOrganizationMember(const Actor& actor, std::string_view organization,
                                  std::string_view member) override {
    auto org = Require(organization, db::AccountKind::kOrg, "organization");
    if (!org.ok()) return org.status();
    auto user = Require(member, db::AccountKind::kUser, "user");
    if (!user.ok()) return user.status();
    auto team_audit = Audit(actor, "org_remove_team_member", org->name, "", "{}");
    auto permission_audit = Audit(actor, "delete_repo_permission", "", "", "{}");
    return state_->identity.RemoveOrganizationMember(org->id, org->name, user->id, user->name,
                                                     team_audit, permission_audit);
  }

  Result<std::vector<TeamSummary>> ListTeamSummaries(std::string_view organization,
                                                     std::string_view viewer) override {
    auto org = Require(organization, db::AccountKind::kOrg, "organization");
    if (!org.ok()) return org.status();
    int64_t viewer_id = 0;
    if (!viewer.empty()) {
      auto v = state_->identity.FindAccount(viewer);
      if (!v.ok()) return v.status();
      if (*v) viewer_id = (*v)->id;
    }
    auto rows = state_->identity.TeamSummaries(org->id, viewer_id);
    if (!rows.ok()) return rows.status();
    std::vector<TeamSummary> out;
    for (const auto& r : *rows) {
      out.push_back(
          {TeamFrom(org->name, r.team), static_cast<size_t>(r.member_count), r.is_member});
    }
    return out;
  }

  Result<Team> UpdateTeam(const Actor& actor, std::string_view organization, std::string_view team,
                          std::optional<std::string> description,
                          std::optional<TeamRole> role) override {
    auto found = RequireTeam(organization, team);
    if (!found.ok()) return found.status();
    db::TeamRow& row = found->second;
    std::vector<db::AuditRow> audits;
    std::optional<int> new_role;
    if (description && *description == row.description) description.reset();
    const TeamRole wanted = role.value_or(static_cast<TeamRole>(row.role));
    const bool change_role = static_cast<int>(wanted) != row.role;
    if (description) {
      audits.push_back(Audit(actor, "org_set_team_description", found->first.name, "",
                             AuditMetadata({{"description", *description}, {"team", row.name}})));
      row.description = *description;
    }
    if (change_role) {
      audits.push_back(Audit(actor, "org_set_team_role", found->first.name, "",
                             AuditMetadata({{"role", ToString(wanted)}, {"team", row.name}})));
      new_role = static_cast<int>(wanted);
      row.role = *new_role;
    }
    if (!audits.empty()) {
      if (auto s = state_->identity.UpdateTeam(row.id, description, new_role, audits); !s.ok()) {
        return s;
      }
    }
    return TeamFrom(found->first.name, row);
  }

  Result<std::vector<RepositoryGrant>> ListTeamPermissions(std::string_view organization,
                                                           std::string_view team) override {
    auto found = RequireTeam(organization, team);
    if (!found.ok()) return found.status();
    auto grants = state_->identity.ListTeamGrants(found->second.id);
    if (!grants.ok()) return grants.status();
    return GrantsFrom(*grants);
  }

  Result<std::vector<RepositoryGrant>> ListRobotPermissions(std::string_view robot_name) override {
    auto row = Require(robot_name, db::AccountKind::kRobot, "robot");
    if (!row.ok()) return row.status();
    auto grants = state_->identity.ListAccountGrants(row->id);
    if (!grants.ok()) return grants.status();
    return GrantsFrom(*grants);
  }

  Result<Prototype> UpdatePrototype(const Actor& actor, std::string_view organization,
                                    std::string_view prototype_id, RepositoryRole role) override {
    if (role == RepositoryRole::kNone) {
      return Status::InvalidArgument(Subject::kNone, "role must be read, write or admin");
    }
    auto org = Require(organization, db::AccountKind::kOrg, "organization");
    if (!org.ok()) return org.status();
    auto rows = state_->identity.ListPrototypes(org->id);
    if (!rows.ok()) return rows.status();
    for (const auto& r : *rows) {
      if (r.uuid != prototype_id) continue;
      Prototype p = PrototypeFrom(org->name, r);
      const RepositoryRole original = p.role;
      p.role = role;
      std::string metadata = PrototypeMetadata(p);
      metadata.pop_back();  // '}'
      metadata += ",";
      AppendJsonString(metadata, "original_role");
      metadata += ":";
      AppendJsonString(metadata, ToString(original));
      metadata += "}";
      auto audit = Audit(actor, "modify_prototype_permission", org->name, "", metadata);
      if (auto s = state_->identity.UpdatePrototypeRole(org->id, prototype_id,
                                                        static_cast<int>(role), audit);
          !s.ok()) {
        return s;
      }
      return p;
    }
    return Status::NotFound(Subject::kNone, "unknown prototype");
  }

  Result<RepositoryRole> UserRoleOn(std::string_view account,
                                    std::string_view repository) override {
    auto row = state_->identity.FindAccount(account);
    if (!row.ok()) return row.status();
    if (!*row || (*row)->kind == db::AccountKind::kOrg) return UnknownAccount("account", account);
    Principal who = (*row)->kind == db::AccountKind::kRobot ? Principal::Robot((*row)->name)
                                                            : Principal::User((*row)->name);
    if (who.kind == Principal::Kind::kUser) who.superuser = SuperuserOf(who.name);
    auto facts = GatherFacts(*state_, who, repository, NamespaceOf(repository));
    if (!facts.ok()) return facts.status();
    if (!facts->repository_exists) {
      return Status::NotFound(Subject::kRepository,
                              core::StrCat({"repository '", repository, "' not found"}));
    }
    facts->repository_public = false;  // the role from grants, not the public read
    return auth::EffectiveRole(*facts, PolicyOf(state_->options.identity));
  }

  // Cached per principal, filter and page like the catalog (UIs poll it);
  // every write that changes a listed fact (repositories, their settings,
  // grants, teams, tags, stars) advances the cache generation.
  Result<std::shared_ptr<const RepositoryListingPage>> SharedListRepositories(
      const Principal& who, const RepositoryFilter& filter, size_t limit,
      std::string_view after_cursor) override {
    limit = std::min<size_t>(std::max<size_t>(limit, 1), 1000);
    // Every field of RepositoryFilter is part of the key: a new filter field
    // must be added here too.
    std::string key;
    key += static_cast<char>(who.kind);
    key += static_cast<char>(who.scopes.bits() & 0xff);
    key += static_cast<char>((who.scopes.bits() >> 8) & 0xff);
    key += filter.public_only ? 'p' : '-';
    for (std::string_view part :
         {std::string_view(who.name), std::string_view(filter.namespace_name),
          std::string_view(filter.starred_by), std::string_view(filter.search), after_cursor}) {
      key += std::to_string(part.size());
      key += ':';
      key += part;
    }
    key += std::to_string(limit);
    const uint64_t generation = state_->db->connections().CacheGeneration();
    if (auto hit = listing_pages_.Get(key, generation)) return std::move(*hit);
    auto page = FindRepositories(who, filter, limit, after_cursor);
    if (!page.ok()) return page.status();
    auto shared = std::make_shared<const RepositoryListingPage>(std::move(page).value());
    size_t cost = sizeof(RepositoryListingPage) + key.size() + shared->next_cursor.size();
    for (const RepositoryListing& r : shared->repositories) {
      cost += sizeof(RepositoryListing) + r.namespace_name.size() + r.name.size() +
              r.description.size();
    }
    listing_pages_.Put(key, generation, shared, cost);
    return shared;
  }

  Result<RepositoryListingPage> FindRepositories(const Principal& who,
                                                 const RepositoryFilter& filter, size_t limit,
                                                 std::string_view after_cursor) {
    const auto& options = state_->options.identity;
    db::ListingQuery query;
    query.namespace_name = filter.namespace_name;
    query.public_only = filter.public_only;
    query.search = filter.search;
    if (!filter.starred_by.empty()) {
      auto starred = Require(filter.starred_by, db::AccountKind::kUser, "user");
      if (!starred.ok()) return starred.status();
      query.starred_by = starred->id;
    }
    if (who.kind == Principal::Kind::kAnonymous || who.name.empty()) {
      query.public_ones = options.anonymous_access;
    } else {
      auto account = SignedInSources(who, query);
      if (!account.ok()) return account.status();
      if (*account && ActsAsUser(who)) query.star_viewer = (*account)->id;
    }
    auto rows = state_->identity.ListRepositories(query, limit, after_cursor);
    if (!rows.ok()) return rows.status();
    RepositoryListingPage page;
    for (auto& r : rows->first) {
      RepositoryListing l;
      l.namespace_name = std::string(NamespaceOf(r.name));
      l.name = ShortName(r.name);
      l.description = std::move(r.description);
      l.is_public = r.is_public;
      if (r.last_modified) l.last_modified = FromMicros(*r.last_modified);
      l.is_starred = r.is_starred;
      l.namespace_is_org = r.namespace_is_org;
      l.star_count = static_cast<uint64_t>(r.star_count);
      page.repositories.push_back(std::move(l));
    }
    page.more = rows->second;
    if (page.more) page.next_cursor = rows->first.back().name;
    return page;
  }

  Result<Issued<OAuthToken>> IssueOAuthToken(const Actor& actor, std::string_view user,
                                             const OAuthClientId& client,
                                             ScopeSet scopes) override {
    auto account = Require(user, db::AccountKind::kUser, "user");
    if (!account.ok()) return account.status();
    auto app = state_->identity.FindApplication(client.value);
    if (!app.ok()) return app.status();
    if (!*app) return UnknownAccount("application", client.value);
    return MintApplicationToken(*state_, actor, *account, **app, scopes, "");
  }

 private:
  // A row-id cursor ("" is 0).
  static Result<int64_t> ParseCursor(std::string_view cursor) {
    if (cursor.empty()) return int64_t{0};
    try {
      size_t used = 0;
      const int64_t id = std::stoll(std::string(cursor), &used);
      if (used == cursor.size() && id >= 0) return id;
    } catch (const std::exception&) {
    }
    return Status::InvalidArgument(Subject::kNone, "invalid cursor");
  }

  Result<db::UserNotificationRow> FindNotification(std::string_view user, std::string_view id) {
    auto account = Require(user, db::AccountKind::kUser, "user");
    if (!account.ok()) return account.status();
    auto row = state_->identity.FindUserNotification(account->id, id);
    if (!row.ok()) return row.status();
    if (!*row) return Status::NotFound(Subject::kNone, "unknown notification");
    return std::move(**row);
  }

  static UserNotification NotificationFrom(const db::UserNotificationRow& row) {
    UserNotification n;
    n.id = row.uuid;
    if (row.target_is_org) n.organization = row.target;
    n.kind = row.kind;
    n.metadata_json = row.metadata;
    n.dismissed = row.dismissed;
    n.created_at = FromMicros(row.created_at);
    return n;
  }

  struct TokenText {
    std::string lookup;
    std::string text;  // what the caller gets
  };

  // The visibility sources of a signed-in principal's repository listing,
  // shared by the catalog (db VisibleFilter) and GET /api/v1/repository (db
  // ListingQuery), whose fields of the same names mean the same. Returns the
  // principal's account row.
  template <typename Sources>
  Result<std::optional<db::AccountRow>> SignedInSources(const Principal& who, Sources& q) {
    auto facts = GatherFacts(*state_, who, {}, {});
    if (!facts.ok()) return facts.status();
    if (!facts->account_valid) return Status::Unauthenticated("the account is unknown or disabled");
    auto account = state_->identity.FindAccount(who.name);
    if (!account.ok()) return account.status();
    q.public_ones = true;
    q.everything = facts->superuser == SuperuserKind::kFullAccess ||
                   facts->superuser == SuperuserKind::kGlobalReadOnly;
    // A token without any repo:* scope reads public repositories only.
    const bool may_read_grants = who.scopes.Has(Scope::kRepoRead) ||
                                 who.scopes.Has(Scope::kRepoWrite) ||
                                 who.scopes.Has(Scope::kRepoAdmin);
    if (may_read_grants && *account) {
      q.account_id = (*account)->id;
      if (ActsAsUser(who)) q.own_namespace = who.name;
    }
    return account;
  }

  db::AuditRow Audit(const Actor& actor, std::string kind, std::string namespace_name,
                     std::string repository, std::string metadata) const {
    return AuditRowFor(*state_, actor, std::move(kind), std::move(namespace_name),
                       std::move(repository), std::move(metadata));
  }

  Result<db::AccountRow> Require(std::string_view name, db::AccountKind kind,
                                 std::string_view what) {
    auto row = state_->identity.FindAccount(name);
    if (!row.ok()) return row.status();
    if (!*row || (*row)->kind != kind) return UnknownAccount(what, name);
    return std::move(**row);
  }

  // A user or an organization (what may own robots and repositories).
  Result<db::AccountRow> RequireNamespace(std::string_view name) {
    auto row = state_->identity.FindAccount(name);
    if (!row.ok()) return row.status();
    if (!*row || (*row)->kind == db::AccountKind::kRobot) return UnknownAccount("namespace", name);
    return std::move(**row);
  }

  Result<std::pair<db::AccountRow, db::TeamRow>> RequireTeam(std::string_view organization,
                                                             std::string_view team) {
    auto org = Require(organization, db::AccountKind::kOrg, "organization");
    if (!org.ok()) return org.status();
    auto row = state_->identity.FindTeam(org->id, team);
    if (!row.ok()) return row.status();
    if (!*row) return UnknownAccount("team", team);
    return std::make_pair(std::move(*org), std::move(**row));
  }

  // Team members are users, or robots of the team's own organization.
  Result<db::AccountRow> RequireMember(const db::AccountRow& org, std::string_view member) {
    auto row = state_->identity.FindAccount(member);
    if (!row.ok()) return row.status();
    if (!*row || (*row)->kind == db::AccountKind::kOrg) return UnknownAccount("member", member);
    if ((*row)->kind == db::AccountKind::kRobot && (*row)->owner_id != org.id) {
      return Status::InvalidArgument(Subject::kNone,
                                     "only the organization's own robots may join its teams");
    }
    return std::move(**row);
  }

  Result<db::RepositoryRow> RequireRepository(std::string_view name) {
    auto row = state_->identity.FindRepository(name);
    if (!row.ok()) return row.status();
    if (!*row) {
      return Status::NotFound(Subject::kRepository,
                              core::StrCat({"repository '", name, "' not found"}));
    }
    return std::move(**row);
  }

  // (account_id, team_id) of a grantee in `namespace_name`.
  Result<std::pair<std::optional<int64_t>, std::optional<int64_t>>> ResolveGrantee(
      std::string_view namespace_name, const Grantee& grantee) {
    using Out = std::pair<std::optional<int64_t>, std::optional<int64_t>>;
    switch (grantee.kind) {
      case Grantee::Kind::kUser: {
        auto user = Require(grantee.name, db::AccountKind::kUser, "user");
        if (!user.ok()) return user.status();
        return Out(user->id, std::nullopt);
      }
      case Grantee::Kind::kRobot: {
        auto robot = Require(grantee.name, db::AccountKind::kRobot, "robot");
        if (!robot.ok()) return robot.status();
        if (NamespaceOfRobot(robot->name) != namespace_name) {
          return Status::InvalidArgument(Subject::kNone,
                                         "robots get permissions in their own namespace only");
        }
        return Out(robot->id, std::nullopt);
      }
      case Grantee::Kind::kTeam: {
        auto found = RequireTeam(namespace_name, grantee.name);
        if (!found.ok()) return found.status();
        return Out(std::nullopt, found->second.id);
      }
    }
    return Status::InvalidArgument(Subject::kNone, "unknown grantee kind");
  }

  static std::string_view NamespaceOfRobot(std::string_view robot) {
    return robot.substr(0, robot.find('+'));
  }

  static Status NoLongerValid() { return Status::Unauthenticated("credential no longer valid"); }

  // The token with that uuid as read under the current cache generation
  // (CheckCurrent runs on every registry request); null when there is none.
  // Deleting a token, or changing its expiry, advances the generation.
  Result<std::shared_ptr<const db::TokenRow>> LiveToken(bool oauth, std::string_view uuid) {
    std::string key;
    key.reserve(1 + uuid.size());
    key += oauth ? 'o' : 'a';
    key += uuid;
    const uint64_t generation = state_->db->connections().CacheGeneration();
    if (auto hit = live_tokens_.Get(key, generation)) return *hit;
    auto found = state_->identity.FindTokenByUuid(oauth, uuid);
    if (!found.ok()) return found.status();
    std::shared_ptr<const db::TokenRow> row;
    if (*found) row = std::make_shared<const db::TokenRow>(std::move(**found));
    // Misses are cached too: a revoked token's registry tokens keep coming
    // until they expire, and each would otherwise be a query.
    live_tokens_.Put(key, generation, row, sizeof(db::TokenRow) + 2 * key.size() + 128);
    return row;
  }

  // Robots whose owner is a disabled user stop working with it.
  Status RequireUsableOwner(const db::AccountRow& robot) {
    const auto owner_name = NamespaceOfRobot(robot.name);
    auto owner = state_->identity.FindAccount(owner_name);
    if (!owner.ok()) return owner.status();
    if (!*owner || !(*owner)->enabled) return InvalidCredentials();
    return Status::Ok();
  }

  Result<db::TokenRow> VerifyToken(bool oauth, std::string_view secret, std::string_view prefix) {
    const auto parts = Split(secret, prefix);
    if (!parts) return InvalidCredentials();
    // A token with an enabled owner, as read under the current cache
    // generation: every API request presents one, and revoking it (or
    // disabling its owner) is a write that advances the generation, so a
    // revoked token is refused by the next request.
    std::string key;
    key.reserve(1 + parts->lookup.size());
    key += oauth ? 'o' : 'a';
    key += parts->lookup;
    const uint64_t generation = state_->db->connections().CacheGeneration();
    std::shared_ptr<const db::TokenRow> row;
    if (auto hit = verified_tokens_.Get(key, generation)) {
      row = *hit;
    } else {
      auto found = state_->identity.FindTokenByLookup(oauth, parts->lookup);
      if (!found.ok()) return found.status();
      if (*found) {
        auto owner = state_->identity.FindAccount((*found)->user);
        if (!owner.ok()) return owner.status();
        if (*owner && (*owner)->enabled) {
          row = std::make_shared<const db::TokenRow>(std::move(**found));
          verified_tokens_.Put(key, generation, row, sizeof(db::TokenRow) + 2 * key.size() + 128);
        }
      }
    }
    // Hash even when the lookup missed, so both paths cost the same.
    const std::string presented = auth::Sha256(parts->secret);
    if (!row || !auth::ConstantTimeEqual(row->secret_hash, presented)) {
      return InvalidCredentials();
    }
    if (row->expires_at && *row->expires_at <= state_->NowMicros()) return InvalidCredentials();
    return *row;
  }

  std::pair<db::TokenRow, TokenText> NewToken(const db::AccountRow& account, std::string title,
                                              uint16_t scopes, std::chrono::seconds lifetime,
                                              std::string_view prefix) {
    TokenText text;
    text.lookup = auth::RandomToken(kLookupLength);
    const std::string secret = auth::RandomToken(kSecretLength);
    text.text = std::string(prefix) + text.lookup + secret;
    db::TokenRow row;
    row.uuid = auth::NewUuid();
    row.account_id = account.id;
    row.user = account.name;
    row.title = std::move(title);
    row.scopes = scopes;
    row.secret_hash = auth::Sha256(secret);
    row.created_at = state_->NowMicros();
    if (lifetime.count() > 0) {
      row.expires_at =
          row.created_at + std::chrono::duration_cast<std::chrono::microseconds>(lifetime).count();
    }
    return {std::move(row), std::move(text)};
  }

  // CREATE_NAMESPACE_ON_PUSH: the organization a push into a missing
  // namespace needs, owned by the pushing user (Quay's v2auth). Does nothing
  // when the option is off or the actor is not a user (or a user's token):
  // CreateRepositoryRow then refuses a missing namespace as usual.
  //
  // With the option on, a caller's Check(kPush) may have been answered
  // while the namespace was missing, and someone else may have created it
  // since: so the decision is taken again here, uncached, before anything is
  // created, and once more if the org insert conflicts (the same race, later).
  // The pusher then continues only with a role in that namespace like anyone.
  Status CreateNamespaceOnPush(const Actor& actor, std::string_view name) {
    if (!state_->options.identity.create_namespace_on_push) return Status::Ok();
    const Principal& who = actor.principal;
    if (!ActsAsUser(who) || who.name.empty()) return Status::Ok();
    if (auto s = ValidateRepositoryName(name); !s.ok()) return s;
    const std::string_view ns = NamespaceOf(name);
    if (ns.empty()) return Status::Ok();
    if (auto s = DecidePushNow(who, name); !s.ok()) return s;
    auto found = state_->identity.FindAccount(ns);
    if (!found.ok()) return found.status();
    if (*found) return Status::Ok();
    auto org = CreateOrganization(actor, ns, "", who.name);
    if (org.ok()) {
      state_->logger->Log(LogLevel::kInfo, "identity", "created organization on push",
                          {{"organization", std::string(ns)}, {"owner", who.name}});
      return Status::Ok();
    }
    if (org.status().code() != Code::kConflict) return org.status();
    return DecidePushNow(who, name);
  }

  Status DecidePushNow(const Principal& who, std::string_view repository) {
    auto facts = GatherFacts(*state_, who, repository, NamespaceOf(repository));
    if (!facts.ok()) return facts.status();
    return auth::Decide(*facts, PolicyOf(state_->options.identity), Action::kPush);
  }

  Result<bool> CreateRepositoryRow(const Actor& actor, std::string_view name, Visibility visibility,
                                   std::string_view description, bool adopt) {
    if (auto s = ValidateRepositoryName(name); !s.ok()) return s;
    const std::string_view ns = NamespaceOf(name);
    if (ns.empty()) {
      return Status::InvalidArgument(Subject::kName,
                                     "repository name needs a namespace ('<namespace>/<name>')");
    }
    auto owner = RequireNamespace(ns);
    if (!owner.ok()) return owner.status();
    db::NewRepository repo;
    repo.name = std::string(name);
    repo.is_public = visibility == Visibility::kPublic;
    repo.description = std::string(description);
    repo.now = state_->NowMicros();
    repo.org_id = owner->kind == db::AccountKind::kOrg ? owner->id : 0;
    repo.adopt = adopt;
    if (actor.principal.kind != Principal::Kind::kAnonymous && !actor.principal.name.empty()) {
      auto creator = state_->identity.FindAccount(actor.principal.name);
      if (!creator.ok()) return creator.status();
      if (*creator && (*creator)->kind != db::AccountKind::kOrg) repo.creator_id = (*creator)->id;
    }
    auto audit = Audit(actor, "create_repo", "", repo.name,
                       AuditMetadata({{"namespace", ns}, {"repo", ShortName(name)}}));
    return state_->identity.CreateRepository(repo, audit);
  }

  static std::string PermissionMetadata(const std::string& repository, const Grantee& grantee,
                                        std::string_view role) {
    std::vector<std::pair<std::string, std::string>> fields = {
        {"namespace", std::string(NamespaceOf(repository))}, {"repo", ShortName(repository)}};
    fields.emplace_back(grantee.kind == Grantee::Kind::kTeam ? "team" : "username", grantee.name);
    if (!role.empty()) fields.emplace_back("role", std::string(role));
    return MetadataOf(fields);
  }

  static std::string PrototypeMetadata(const Prototype& p) {
    std::vector<std::pair<std::string, std::string>> fields = {
        {"prototypeid", p.id}, {"role", std::string(ToString(p.role))}};
    if (p.activating_user) fields.emplace_back("activating_username", *p.activating_user);
    fields.emplace_back(p.delegate.kind == Grantee::Kind::kTeam ? "delegate_team" : "delegate_user",
                        p.delegate.name);
    return MetadataOf(fields);
  }

  User UserFrom(const db::AccountRow& row) const {
    User u;
    u.name = row.name;
    u.id = row.uuid;
    u.email = row.email;
    u.enabled = row.enabled;
    u.created_at = FromMicros(row.created_at);
    u.superuser = SuperuserOf(row.name);
    return u;
  }

  static Organization OrganizationFrom(const db::AccountRow& row) {
    return Organization{row.name, row.email, FromMicros(row.created_at)};
  }

  static Team TeamFrom(const std::string& org, const db::TeamRow& row) {
    return Team{org, row.name, static_cast<TeamRole>(row.role), row.description};
  }

  static Prototype PrototypeFrom(const std::string& org, const db::PrototypeRow& row) {
    Prototype p;
    p.id = row.uuid;
    p.organization = org;
    p.activating_user = row.activating_user;
    p.delegate =
        Grantee{row.delegate_is_team ? Grantee::Kind::kTeam : GranteeKindOf(row.delegate_kind),
                row.delegate_name};
    p.role = static_cast<RepositoryRole>(row.role);
    return p;
  }

  static AppToken AppTokenFrom(const db::TokenRow& row) {
    AppToken t;
    t.id = row.uuid;
    t.user = row.user;
    t.title = row.title;
    t.created_at = FromMicros(row.created_at);
    if (row.expires_at) t.expires_at = FromMicros(*row.expires_at);
    if (row.last_used_at) t.last_used_at = FromMicros(*row.last_used_at);
    return t;
  }

  static OAuthToken OAuthTokenFrom(const db::TokenRow& row) { return OAuthTokenFromRow(row); }

  static std::vector<RepositoryGrant> GrantsFrom(const std::vector<db::GrantRow>& rows) {
    std::vector<RepositoryGrant> out;
    for (const auto& r : rows) out.push_back({r.repository, static_cast<RepositoryRole>(r.role)});
    return out;
  }

  std::shared_ptr<ServiceState> state_;
  std::shared_ptr<DatabaseAuthorizer> authorizer_;
  AuditLogImpl audit_;
  SigningKeyStoreImpl keys_;
  db::ReadCache<std::shared_ptr<const AccountPage>> visible_pages_{4u << 20};
  db::ReadCache<std::shared_ptr<const RepositoryListingPage>> listing_pages_{4u << 20};
  // Verified tokens by kind and lookup (VerifyToken); ~1 MiB holds thousands.
  db::ReadCache<std::shared_ptr<const db::TokenRow>> verified_tokens_{1u << 20};
  // Tokens by kind and uuid, found or not (CheckCurrent).
  db::ReadCache<std::shared_ptr<const db::TokenRow>> live_tokens_{1u << 20};
  // Account names CheckCurrent found absent.
  db::ReadCache<bool> missing_accounts_{256u << 10};
  std::unique_ptr<Stars> stars_;
  std::unique_ptr<RepositoryNotifications> notifications_;
  std::unique_ptr<OAuthApplications> applications_;
  std::unique_ptr<GlobalMessages> messages_;
};

}  // namespace

std::unique_ptr<IdentityService> NewIdentityService(const Options& options,
                                                    std::shared_ptr<db::Database> database) {
  return std::make_unique<IdentityServiceImpl>(
      std::make_shared<ServiceState>(options, std::move(database)));
}

Result<std::vector<std::string>> DeleteNamespaceRows(IdentityService& identity, const Actor& actor,
                                                     std::string_view name,
                                                     NamespaceDeletion what) {
  auto* impl = dynamic_cast<IdentityServiceImpl*>(&identity);
  if (impl == nullptr) {
    return Status::InvalidArgument(Subject::kNone,
                                   "the identity service was not opened by IdentityService::Open");
  }
  return impl->DeleteNamespaceRows(actor, name, what);
}

}  // namespace quay::api

namespace quay {

Result<std::unique_ptr<IdentityService>> IdentityService::Open(const Options& options) {
  // The same file as Registry::Open.
  auto path = db::DatabasePathFor(options);
  if (!path.ok()) return path.status();
  auto db = db::Database::Open(*path, options.durable);
  if (!db.ok()) return db.status();
  return api::NewIdentityService(options, std::shared_ptr<db::Database>(std::move(*db)));
}

}  // namespace quay
