// Stars, repository notifications and OAuth applications (quay/stars.h,
// quay/notifications.h, quay/oauth_apps.h) over db::IdentityStore.
#include "api/identity_extras.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

#include "api/database_secret.h"
#include "auth/field_cipher.h"
#include "auth/secrets.h"
#include "core/json_text.h"
#include "core/str_cat.h"
#include "db/delivery_store.h"
#include "quay/audit.h"

namespace quay::api {
namespace {

// The same token text as IdentityService's OAuth tokens (identity_service.cpp).
constexpr std::string_view kOAuthTokenPrefix = "qoat_";
constexpr std::string_view kCodePrefix = "qoac_";
constexpr size_t kLookupLength = 16;
constexpr size_t kSecretLength = 48;
constexpr size_t kClientIdLength = 20;
constexpr size_t kClientSecretLength = 40;
constexpr auto kCodeLifetime = std::chrono::minutes(10);

Status Unknown(std::string_view what, std::string_view name) {
  return Status::NotFound(Subject::kNone,
                          std::string(what) + " '" + std::string(name) + "' not found");
}

std::string ShortName(std::string_view repository) {
  const auto slash = repository.find('/');
  return std::string(slash == std::string_view::npos ? repository : repository.substr(slash + 1));
}

Result<db::AccountRow> RequireUser(ServiceState& state, std::string_view name) {
  auto row = state.identity.FindAccount(name);
  if (!row.ok()) return row.status();
  if (!*row || (*row)->kind != db::AccountKind::kUser) return Unknown("user", name);
  return std::move(**row);
}

Result<db::RepositoryRow> RequireRepository(ServiceState& state, std::string_view name) {
  auto row = state.identity.FindRepository(name);
  if (!row.ok()) return row.status();
  if (!*row) {
    return Status::NotFound(Subject::kRepository,
                            core::StrCat({"repository '", name, "' not found"}));
  }
  return std::move(**row);
}

// ---- stars ----

class StarsImpl final : public Stars {
 public:
  explicit StarsImpl(std::shared_ptr<ServiceState> state) : state_(std::move(state)) {}

  Status Star(std::string_view user, std::string_view repository) override {
    auto account = RequireUser(*state_, user);
    if (!account.ok()) return account.status();
    auto repo = RequireRepository(*state_, repository);
    if (!repo.ok()) return repo.status();
    return state_->identity.InsertStar(account->id, repo->id, state_->NowMicros());
  }

  Status Unstar(std::string_view user, std::string_view repository) override {
    auto account = RequireUser(*state_, user);
    if (!account.ok()) return account.status();
    auto repo = RequireRepository(*state_, repository);
    if (!repo.ok()) return repo.status();
    return state_->identity.DeleteStar(account->id, repo->id);
  }

  Result<AccountPage> ListStarred(std::string_view user, size_t limit,
                                  std::string_view after) override {
    auto account = RequireUser(*state_, user);
    if (!account.ok()) return account.status();
    auto page = state_->identity.ListStarred(account->id, limit, after);
    if (!page.ok()) return page.status();
    return AccountPage{std::move(page->first), page->second};
  }

  Result<std::vector<bool>> AreStarred(std::string_view user,
                                       const std::vector<std::string>& repositories) override {
    auto account = RequireUser(*state_, user);
    if (!account.ok()) return account.status();
    std::string names = "[";
    for (size_t i = 0; i < repositories.size(); ++i) {
      if (i) names += ',';
      AppendJsonString(names, repositories[i]);
    }
    names += ']';
    auto starred = state_->identity.StarredAmong(account->id, names);
    if (!starred.ok()) return starred.status();
    const std::set<std::string> hits(starred->begin(), starred->end());
    std::vector<bool> out;
    out.reserve(repositories.size());
    for (const auto& r : repositories) out.push_back(hits.count(r) != 0);
    return out;
  }

 private:
  std::shared_ptr<ServiceState> state_;
};

// ---- notifications ----

constexpr std::array<std::string_view, 13> kEvents = {"repo_push",
                                                      "build_queued",
                                                      "build_start",
                                                      "build_success",
                                                      "build_failure",
                                                      "build_cancelled",
                                                      "vulnerability_found",
                                                      "repo_mirror_sync_started",
                                                      "repo_mirror_sync_success",
                                                      "repo_mirror_sync_failed",
                                                      "repo_image_expiry",
                                                      "quota_warning",
                                                      "quota_error"};
constexpr std::array<std::string_view, 6> kMethods = {
    "quay_notification", "email", "webhook", "slack", "flowdock", "hipchat"};

RepositoryNotification NotificationFrom(const db::NotificationRow& row) {
  RepositoryNotification n;
  n.uuid = row.uuid;
  n.repository = row.repository;
  n.event = row.event;
  n.method = row.method;
  n.config_json = row.config_json;
  n.event_config_json = row.event_config_json;
  n.title = row.title;
  n.number_of_failures = row.number_of_failures;
  n.created_at = FromMicros(row.created_at);
  return n;
}

class NotificationsImpl final : public RepositoryNotifications {
 public:
  explicit NotificationsImpl(std::shared_ptr<ServiceState> state) : state_(std::move(state)) {}

  Result<RepositoryNotification> CreateNotification(
      const Actor& actor, std::string_view repository,
      const NewRepositoryNotification& spec) override {
    if (!IsNotificationEvent(spec.event)) {
      return Status::InvalidArgument(Subject::kNone, "unknown event '" + spec.event + "'");
    }
    if (!IsNotificationMethod(spec.method)) {
      return Status::InvalidArgument(Subject::kNone, "unknown method '" + spec.method + "'");
    }
    for (const std::string* json : {&spec.config_json, &spec.event_config_json}) {
      if (!ValidateMetadata(*json).ok()) {
        return Status::InvalidArgument(Subject::kNone, "config must be a JSON object");
      }
    }
    auto repo = RequireRepository(*state_, repository);
    if (!repo.ok()) return repo.status();
    db::NotificationRow row;
    row.uuid = auth::NewUuid();
    row.repository_id = repo->id;
    row.repository = repo->name;
    row.event = spec.event;
    row.method = spec.method;
    row.title = spec.title;
    row.config_json = spec.config_json;
    row.event_config_json = spec.event_config_json;
    row.created_at = state_->NowMicros();
    if (auto s =
            state_->identity.InsertNotification(row, Audit(actor, "add_repo_notification", row));
        !s.ok()) {
      return s;
    }
    return NotificationFrom(row);
  }

  Result<std::vector<RepositoryNotification>> ListNotifications(
      std::string_view repository) override {
    auto repo = RequireRepository(*state_, repository);
    if (!repo.ok()) return repo.status();
    auto rows = state_->identity.ListNotifications(repo->id);
    if (!rows.ok()) return rows.status();
    std::vector<RepositoryNotification> out;
    for (const auto& r : *rows) out.push_back(NotificationFrom(r));
    return out;
  }

  Result<RepositoryNotification> GetNotification(std::string_view repository,
                                                 std::string_view uuid) override {
    auto row = Find(repository, uuid);
    if (!row.ok()) return row.status();
    return NotificationFrom(*row);
  }

  Status DeleteNotification(const Actor& actor, std::string_view repository,
                            std::string_view uuid) override {
    auto row = Find(repository, uuid);
    if (!row.ok()) return row.status();
    return state_->identity.DeleteNotification(row->id,
                                               Audit(actor, "delete_repo_notification", *row));
  }

  Status ResetNotificationFailures(const Actor& actor, std::string_view repository,
                                   std::string_view uuid) override {
    auto row = Find(repository, uuid);
    if (!row.ok()) return row.status();
    return state_->identity.ResetNotification(row->id,
                                              Audit(actor, "reset_repo_notification", *row));
  }

  // Quay queues a test delivery (its event's sample data) and writes no
  // audit row. Only the delivered methods (quay/webhooks.h) queue one.
  Status TestNotification(std::string_view repository, std::string_view uuid) override {
    auto row = Find(repository, uuid);
    if (!row.ok()) return row.status();
    if (row->method != "webhook" && row->method != "slack" && row->method != "quay_notification") {
      return Status::Ok();
    }
    return db::DeliveryStore(state_->db->connections())
        .Enqueue(repository, uuid, SamplePayload(*row), state_->NowMicros());
  }

 private:
  // Quay's get_sample_data of each event (notifications/notificationevent.py).
  // Repository names are grammar-checked: nothing in them needs escaping.
  static std::string SamplePayload(const db::NotificationRow& row) {
    const std::string name = row.repository;
    const std::string ns(NamespaceOf(name));
    if (row.event == "quota_warning") {
      return "{\"namespace\":\"" + ns + "\",\"repository\":\"" + name +
             "\",\"threshold_percent\":80,\"usage_bytes\":858993459,"
             "\"limit_bytes\":1073741824,\"usage_percent\":80}";
    }
    if (row.event == "quota_error") {
      return "{\"namespace\":\"" + ns + "\",\"repository\":\"" + name +
             "\",\"threshold_percent\":100,\"usage_bytes\":1127428915,"
             "\"limit_bytes\":1073741824,\"usage_percent\":105}";
    }
    std::string payload = "{\"repository\":\"" + name + "\",\"namespace\":\"" + ns +
                          "\",\"name\":\"" + std::string(ShortName(name)) + "\"";
    if (row.event == "repo_image_expiry") {
      rapidjson::Document config;
      config.Parse(row.event_config_json.c_str());
      std::string days = "None";  // Quay's rendering of a missing value
      if (config.IsObject() && config.HasMember("days") && config["days"].IsInt64()) {
        days = std::to_string(config["days"].GetInt64());
      }
      payload += ",\"tags\":[\"latest\",\"v1\"],\"expiring_in\":\"" + days + " days\"}";
    } else {
      payload += ",\"updated_tags\":[\"latest\"]}";
    }
    return payload;
  }

 private:
  Result<db::NotificationRow> Find(std::string_view repository, std::string_view uuid) {
    auto repo = RequireRepository(*state_, repository);
    if (!repo.ok()) return repo.status();
    auto row = state_->identity.FindNotification(repo->id, uuid);
    if (!row.ok()) return row.status();
    if (!*row) return Unknown("notification", uuid);
    return std::move(**row);
  }

  db::AuditRow Audit(const Actor& actor, std::string kind, const db::NotificationRow& row) {
    return AuditRowFor(*state_, actor, std::move(kind), "", row.repository,
                       AuditMetadata({{"event", row.event},
                                      {"method", row.method},
                                      {"namespace", NamespaceOf(row.repository)},
                                      {"notification_id", row.uuid},
                                      {"repo", ShortName(row.repository)}}));
  }

  std::shared_ptr<ServiceState> state_;
};

// ---- OAuth applications ----

class OAuthApplicationsImpl final : public OAuthApplications {
 public:
  explicit OAuthApplicationsImpl(std::shared_ptr<ServiceState> state) : state_(std::move(state)) {}

  Result<OAuthApplication> CreateApplication(const Actor& actor, std::string_view organization,
                                             const OAuthApplicationSpec& spec) override {
    if (spec.name.empty()) return Status::InvalidArgument(Subject::kNone, "name is empty");
    auto org = state_->identity.FindAccount(organization);
    if (!org.ok()) return org.status();
    if (!*org || (*org)->kind != db::AccountKind::kOrg) {
      return Unknown("organization", organization);
    }
    db::ApplicationRow row;
    row.client_id = auth::RandomToken(kClientIdLength);
    row.org_id = (*org)->id;
    row.organization = (*org)->name;
    SetSpec(row, spec);
    row.created_at = state_->NowMicros();
    const std::string secret = auth::RandomToken(kClientSecretLength);
    auto sealed = Seal(row.client_id, secret);
    if (!sealed.ok()) return sealed.status();
    row.secret_sealed = std::move(*sealed);
    if (auto s =
            state_->identity.InsertApplication(row, Audit(actor, "create_application", row, true));
        !s.ok()) {
      return s;
    }
    return From(row, secret);
  }

  Result<OAuthApplication> GetApplication(std::string_view client_id) override {
    auto row = Require(client_id);
    if (!row.ok()) return row.status();
    return WithSecret(*row);
  }

  Result<std::vector<OAuthApplication>> ListApplications(std::string_view organization) override {
    auto org = state_->identity.FindAccount(organization);
    if (!org.ok()) return org.status();
    if (!*org || (*org)->kind != db::AccountKind::kOrg) {
      return Unknown("organization", organization);
    }
    auto rows = state_->identity.ListApplications((*org)->id);
    if (!rows.ok()) return rows.status();
    std::vector<OAuthApplication> out;
    for (const auto& r : *rows) {
      auto app = WithSecret(r);
      if (!app.ok()) return app.status();
      out.push_back(std::move(*app));
    }
    return out;
  }

  Result<OAuthApplication> UpdateApplication(const Actor& actor, std::string_view client_id,
                                             const OAuthApplicationSpec& spec) override {
    if (spec.name.empty()) return Status::InvalidArgument(Subject::kNone, "name is empty");
    auto row = Require(client_id);
    if (!row.ok()) return row.status();
    SetSpec(*row, spec);
    if (auto s = state_->identity.UpdateApplication(*row,
                                                    Audit(actor, "update_application", *row, true));
        !s.ok()) {
      return s;
    }
    return WithSecret(*row);
  }

  Status DeleteApplication(const Actor& actor, std::string_view client_id) override {
    auto row = Require(client_id);
    if (!row.ok()) return row.status();
    return state_->identity.DeleteApplication(row->id,
                                              Audit(actor, "delete_application", *row, false));
  }

  Result<OAuthApplication> ResetClientSecret(const Actor& actor,
                                             std::string_view client_id) override {
    auto row = Require(client_id);
    if (!row.ok()) return row.status();
    const std::string secret = auth::RandomToken(kClientSecretLength);
    auto sealed = Seal(row->client_id, secret);
    if (!sealed.ok()) return sealed.status();
    if (auto s = state_->identity.UpdateApplicationSecret(
            row->id, *sealed, Audit(actor, "reset_application_client_secret", *row, false));
        !s.ok()) {
      return s;
    }
    return From(*row, secret);
  }

  Status VerifyClient(std::string_view client_id, std::string_view client_secret) override {
    auto app = VerifiedClient(client_id, client_secret);
    return app.ok() ? Status::Ok() : app.status();
  }

  Result<std::string> IssueAuthorizationCode(const Actor& /*actor*/, std::string_view client_id,
                                             std::string_view user, ScopeSet scopes,
                                             std::string_view redirect_uri) override {
    if (scopes.empty()) return Status::InvalidArgument(Subject::kNone, "no scopes requested");
    auto app = Require(client_id);
    if (!app.ok()) return app.status();
    auto account = RequireUser(*state_, user);
    if (!account.ok()) return account.status();
    db::CodeRow row;
    row.lookup = auth::RandomToken(kLookupLength);
    const std::string secret = auth::RandomToken(kSecretLength);
    row.code_hash = auth::Sha256(secret);
    row.application_id = app->id;
    row.account_id = account->id;
    row.scopes = scopes.bits();
    row.redirect_uri = std::string(redirect_uri);
    row.created_at = state_->NowMicros();
    row.expires_at = row.created_at +
                     std::chrono::duration_cast<std::chrono::microseconds>(kCodeLifetime).count();
    if (auto s = state_->identity.InsertCode(row); !s.ok()) return s;
    return std::string(kCodePrefix) + row.lookup + secret;
  }

  Result<Issued<OAuthToken>> ExchangeAuthorizationCode(std::string_view client_id,
                                                       std::string_view client_secret,
                                                       std::string_view code,
                                                       std::string_view redirect_uri) override {
    auto app = VerifiedClient(client_id, client_secret);
    if (!app.ok()) return app.status();
    if (code.size() != kCodePrefix.size() + kLookupLength + kSecretLength ||
        code.substr(0, kCodePrefix.size()) != kCodePrefix) {
      return InvalidGrant("unknown code");
    }
    code.remove_prefix(kCodePrefix.size());
    // Taken (deleted) before it is checked: a code presented once is gone,
    // whatever the outcome, as RFC 6749 10.5 asks for a misused code.
    auto taken = state_->identity.TakeCode(code.substr(0, kLookupLength));
    if (!taken.ok()) return taken.status();
    const std::string presented = auth::Sha256(code.substr(kLookupLength));
    if (!*taken || !auth::ConstantTimeEqual((*taken)->code_hash, presented)) {
      return InvalidGrant("unknown code");
    }
    const db::CodeRow& row = **taken;
    if (row.application_id != app->id) return InvalidGrant("code issued to another client");
    if (row.expires_at <= state_->NowMicros()) return InvalidGrant("code expired");
    if (row.redirect_uri != redirect_uri) return InvalidGrant("redirect_uri mismatch");
    auto found = state_->identity.FindAccountById(row.account_id);
    if (!found.ok()) return found.status();
    if (!*found || !(*found)->enabled) return InvalidGrant("the code's user is gone or disabled");
    const db::AccountRow* user = &**found;
    Actor actor;
    actor.principal = Principal::User(user->name);
    return MintApplicationToken(*state_, actor, *user, *app, ScopeSet::FromBits(row.scopes),
                                "authorization_code");
  }

  Result<std::vector<AuthorizedApplication>> ListAuthorizedApplications(
      std::string_view user) override {
    auto account = RequireUser(*state_, user);
    if (!account.ok()) return account.status();
    auto rows = state_->identity.AuthorizedTokens(account->id, state_->NowMicros());
    if (!rows.ok()) return rows.status();
    std::vector<AuthorizedApplication> out;
    for (const auto& [app, token] : *rows) {
      if (out.empty() || out.back().client_id != app.client_id) {
        AuthorizedApplication a;
        a.client_id = app.client_id;
        a.name = app.name;
        a.organization = app.organization;
        a.description = app.description;
        a.application_uri = app.application_uri;
        a.avatar_email = app.avatar_email;
        out.push_back(std::move(a));
      }
      out.back().scopes = ScopeSet::FromBits(out.back().scopes.bits() | token.scopes);
      out.back().tokens.push_back(OAuthTokenFromRow(token));
    }
    return out;
  }

  Status RevokeAuthorizedApplication(const Actor& actor, std::string_view user,
                                     std::string_view client_id) override {
    auto account = RequireUser(*state_, user);
    if (!account.ok()) return account.status();
    auto app = Require(client_id);
    if (!app.ok()) return app.status();
    auto tokens = state_->identity.ApplicationTokensOf(app->id, account->id);
    if (!tokens.ok()) return tokens.status();
    std::vector<std::string> uuids;
    std::vector<db::AuditRow> audits;
    for (const auto& t : *tokens) {
      uuids.push_back(t.uuid);
      audits.push_back(RevokeAudit(actor, *app, t.uuid));
    }
    if (uuids.empty()) return Status::NotFound(Subject::kNone, "the application has no tokens");
    return state_->identity.DeleteTokens(uuids, audits);
  }

  Result<bool> HasGrantedScopes(std::string_view user, std::string_view client_id,
                                ScopeSet scopes) override {
    auto account = RequireUser(*state_, user);
    if (!account.ok()) return account.status();
    auto rows = state_->identity.AuthorizedTokens(account->id, state_->NowMicros());
    if (!rows.ok()) return rows.status();
    uint16_t granted = 0;
    for (const auto& [app, token] : *rows) {
      if (app.client_id == client_id) granted |= token.scopes;
    }
    return (scopes.bits() & ~granted) == 0;
  }

  Result<Page<OAuthToken>> ListApplicationTokens(std::string_view client_id, size_t limit,
                                                 std::string_view after) override {
    auto app = Require(client_id);
    if (!app.ok()) return app.status();
    auto rows = state_->identity.ListApplicationTokens(app->id, limit, after);
    if (!rows.ok()) return rows.status();
    Page<OAuthToken> out;
    for (const auto& r : rows->first) out.items.push_back(OAuthTokenFromRow(r));
    out.more = rows->second;
    return out;
  }

  Result<Issued<OAuthToken>> CreateApplicationToken(const Actor& actor, std::string_view client_id,
                                                    ScopeSet scopes) override {
    auto app = Require(client_id);
    if (!app.ok()) return app.status();
    auto account = RequireUser(*state_, actor.principal.name);
    if (!account.ok()) return account.status();
    return MintApplicationToken(*state_, actor, *account, *app, scopes, "api");
  }

  Status RevokeApplicationToken(const Actor& actor, std::string_view client_id,
                                std::string_view token_id) override {
    auto app = Require(client_id);
    if (!app.ok()) return app.status();
    auto token = state_->identity.FindTokenByUuid(true, token_id);
    if (!token.ok()) return token.status();
    if (!*token || (*token)->application_id != app->id) return Unknown("token", token_id);
    return state_->identity.DeleteTokens({std::string(token_id)},
                                         {RevokeAudit(actor, *app, token_id)});
  }

  Result<AssignedAuthorization> AssignAuthorization(const Actor& actor, std::string_view client_id,
                                                    std::string_view user, ScopeSet scopes,
                                                    std::string_view redirect_uri,
                                                    std::string_view response_type) override {
    if (scopes.empty()) return Status::InvalidArgument(Subject::kNone, "no scopes given");
    if (response_type != "code" && response_type != "token") {
      return Status::InvalidArgument(Subject::kNone, "response_type must be code or token");
    }
    auto app = Require(client_id);
    if (!app.ok()) return app.status();
    auto account = RequireUser(*state_, user);
    if (!account.ok()) return account.status();
    if (!account->enabled) return Unknown("user", user);
    auto assigner = RequireUser(*state_, actor.principal.name);
    if (!assigner.ok()) return assigner.status();
    db::AssignedTokenRow row;
    row.uuid = auth::NewUuid();
    row.application_id = app->id;
    row.account_id = account->id;
    row.assigner_id = assigner->id;
    row.assigner = assigner->name;
    row.scopes = scopes.bits();
    row.redirect_uri = std::string(redirect_uri);
    row.response_type = std::string(response_type);
    row.created_at = state_->NowMicros();
    auto audit = AuditRowFor(*state_, actor, "oauth_token_assigned", app->organization, "",
                             core::JsonObjectText({{"assigning_user", assigner->name},
                                                   {"assigned_user", account->name},
                                                   {"application", app->name},
                                                   {"client_id", app->client_id}}));
    // Quay tells the user through a notification, cleared when the user
    // lists its assignments.
    db::UserNotificationRow note;
    note.uuid = auth::NewUuid();
    note.kind = "assigned_authorization";
    note.created_at = row.created_at;
    if (auto s = state_->identity.InsertAssignedToken(row, note, audit); !s.ok()) return s;
    return AssignedFrom(*app, row);
  }

  Result<std::vector<AssignedAuthorization>> ListAssignedAuthorizations(
      std::string_view user) override {
    auto account = RequireUser(*state_, user);
    if (!account.ok()) return account.status();
    auto rows = state_->identity.ListAssignedTokens(account->id);
    if (!rows.ok()) return rows.status();
    // Seen now (Quay deletes them on listing too).
    if (auto s =
            state_->identity.DeleteUserNotificationsOfKind(account->id, "assigned_authorization");
        !s.ok()) {
      return s;
    }
    std::vector<AssignedAuthorization> out;
    for (const auto& [app, row] : *rows) out.push_back(AssignedFrom(app, row));
    return out;
  }

  Status DeleteAssignedAuthorization(std::string_view user, std::string_view uuid) override {
    auto account = RequireUser(*state_, user);
    if (!account.ok()) return account.status();
    return state_->identity.DeleteAssignedToken(account->id, uuid);
  }

 private:
  static AssignedAuthorization AssignedFrom(const db::ApplicationRow& app,
                                            const db::AssignedTokenRow& row) {
    AssignedAuthorization a;
    a.uuid = row.uuid;
    a.application = From(app, {});
    a.scopes = ScopeSet::FromBits(row.scopes);
    a.redirect_uri = row.redirect_uri;
    a.response_type = row.response_type;
    a.assigner = row.assigner;
    a.created_at = FromMicros(row.created_at);
    return a;
  }

  static Status InvalidGrant(std::string_view why) {
    return Status::InvalidArgument(Subject::kNone, core::StrCat({"invalid_grant: ", why}));
  }
  static Status InvalidClient() { return Status::Unauthenticated("invalid_client"); }

  static void SetSpec(db::ApplicationRow& row, const OAuthApplicationSpec& spec) {
    row.name = spec.name;
    row.description = spec.description;
    row.application_uri = spec.application_uri;
    row.redirect_uri = spec.redirect_uri;
    row.avatar_email = spec.avatar_email;
  }

  static OAuthApplication From(const db::ApplicationRow& row, std::string secret) {
    OAuthApplication a;
    a.client_id = row.client_id;
    a.client_secret = std::move(secret);
    a.organization = row.organization;
    a.name = row.name;
    a.description = row.description;
    a.application_uri = row.application_uri;
    a.redirect_uri = row.redirect_uri;
    a.avatar_email = row.avatar_email;
    a.created_at = FromMicros(row.created_at);
    return a;
  }

  Result<OAuthApplication> WithSecret(const db::ApplicationRow& row) {
    auto secret = Open(row);
    if (!secret.ok()) return secret.status();
    return From(row, std::move(*secret));
  }

  Result<db::ApplicationRow> Require(std::string_view client_id) {
    auto row = state_->identity.FindApplication(client_id);
    if (!row.ok()) return row.status();
    if (!*row) return Unknown("application", client_id);
    return std::move(**row);
  }

  Result<db::ApplicationRow> VerifiedClient(std::string_view client_id,
                                            std::string_view client_secret) {
    auto row = state_->identity.FindApplication(client_id);
    if (!row.ok()) return row.status();
    std::string expected(kClientSecretLength, '\0');  // compared against when unknown
    if (*row) {
      auto secret = Open(**row);
      if (!secret.ok()) return secret.status();
      expected = std::move(*secret);
    }
    const bool match = auth::ConstantTimeEqual(expected, client_secret);
    if (!*row || !match) return InvalidClient();
    return std::move(**row);
  }

  Result<std::shared_ptr<const auth::FieldCipher>> Cipher() {
    std::lock_guard<std::mutex> lock(cipher_mu_);
    if (cipher_) return cipher_;
    auto secret = DatabaseSecretFor(state_->options, state_->db->connections(), *state_->logger);
    if (!secret.ok()) return secret.status();
    auto cipher = auth::FieldCipher::FromSecret(*secret);
    if (!cipher.ok()) return cipher.status();
    cipher_ = std::make_shared<const auth::FieldCipher>(std::move(*cipher));
    return cipher_;
  }

  static std::string AssociatedData(std::string_view client_id) {
    return core::StrCat({"oauth_application:", client_id});
  }

  Result<std::string> Seal(std::string_view client_id, std::string_view secret) {
    auto cipher = Cipher();
    if (!cipher.ok()) return cipher.status();
    return (*cipher)->Seal(secret, AssociatedData(client_id));
  }

  Result<std::string> Open(const db::ApplicationRow& row) {
    auto cipher = Cipher();
    if (!cipher.ok()) return cipher.status();
    auto opened = (*cipher)->Open(row.secret_sealed, AssociatedData(row.client_id));
    if (opened.error != auth::FieldCipher::OpenError::kNone) {
      return Status::Internal("the client secret of application '" + row.client_id +
                              "' cannot be decrypted (database secret changed or value damaged)");
    }
    return std::move(opened.plaintext);
  }

  db::AuditRow Audit(const Actor& actor, std::string kind, const db::ApplicationRow& row,
                     bool full) {
    std::string metadata =
        full ? AuditMetadata({{"application_name", row.name},
                              {"client_id", row.client_id},
                              {"description", row.description},
                              {"application_uri", row.application_uri},
                              {"redirect_uri", row.redirect_uri},
                              {"avatar_email", row.avatar_email}})
             : AuditMetadata({{"application_name", row.name}, {"client_id", row.client_id}});
    return AuditRowFor(*state_, actor, std::move(kind), row.organization, "", std::move(metadata));
  }

  db::AuditRow RevokeAudit(const Actor& actor, const db::ApplicationRow& app,
                           std::string_view token_uuid) {
    return AuditRowFor(*state_, actor, "revoke_oauth_api_token", app.organization, "",
                       AuditMetadata({{"application_name", app.name},
                                      {"client_id", app.client_id},
                                      {"oauth_token_uuid", token_uuid}}));
  }

  std::shared_ptr<ServiceState> state_;
  std::mutex cipher_mu_;
  std::shared_ptr<const auth::FieldCipher> cipher_;
};

// ---- global messages ----

constexpr std::array<std::string_view, 2> kMessageMediaTypes = {"text/plain", "text/markdown"};
constexpr std::array<std::string_view, 3> kSeverities = {"info", "warning", "error"};

GlobalMessage MessageFrom(const db::MessageRow& row) {
  return GlobalMessage{row.uuid, row.content, row.media_type, row.severity,
                       FromMicros(row.created_at)};
}

class GlobalMessagesImpl final : public GlobalMessages {
 public:
  explicit GlobalMessagesImpl(std::shared_ptr<ServiceState> state) : state_(std::move(state)) {}

  Result<std::vector<GlobalMessage>> ListMessages() override {
    auto rows = state_->identity.ListMessages();
    if (!rows.ok()) return rows.status();
    std::vector<GlobalMessage> out;
    for (const auto& r : *rows) out.push_back(MessageFrom(r));
    return out;
  }

  Result<GlobalMessage> CreateMessage(std::string_view severity, std::string_view media_type,
                                      std::string_view content) override {
    if (std::find(kSeverities.begin(), kSeverities.end(), severity) == kSeverities.end()) {
      return Status::InvalidArgument(Subject::kNone, "severity must be info, warning or error");
    }
    if (std::find(kMessageMediaTypes.begin(), kMessageMediaTypes.end(), media_type) ==
        kMessageMediaTypes.end()) {
      return Status::InvalidArgument(Subject::kNone,
                                     "media_type must be text/plain or text/markdown");
    }
    if (content.empty()) return Status::InvalidArgument(Subject::kNone, "content is empty");
    db::MessageRow row;
    row.uuid = auth::NewUuid();
    row.content = std::string(content);
    row.media_type = std::string(media_type);
    row.severity = std::string(severity);
    row.created_at = state_->NowMicros();
    if (auto s = state_->identity.InsertMessage(row); !s.ok()) return s;
    return MessageFrom(row);
  }

  Status DeleteMessage(std::string_view uuid) override {
    return state_->identity.DeleteMessage(uuid);
  }

 private:
  std::shared_ptr<ServiceState> state_;
};

}  // namespace

OAuthToken OAuthTokenFromRow(const db::TokenRow& row) {
  OAuthToken t;
  t.id = row.uuid;
  t.user = row.user;
  t.application = row.title;
  t.client_id = row.client_id;
  t.scopes = ScopeSet::FromBits(row.scopes);
  t.created_at = FromMicros(row.created_at);
  if (row.expires_at) t.expires_at = FromMicros(*row.expires_at);
  return t;
}

Result<Issued<OAuthToken>> MintApplicationToken(ServiceState& state, const Actor& actor,
                                                const db::AccountRow& account,
                                                const db::ApplicationRow& application,
                                                ScopeSet scopes, std::string_view auth_method) {
  if (scopes.empty()) return Status::InvalidArgument(Subject::kNone, "no scopes given");
  const std::string lookup = auth::RandomToken(kLookupLength);
  const std::string secret = auth::RandomToken(kSecretLength);
  db::TokenRow row;
  row.uuid = auth::NewUuid();
  row.account_id = account.id;
  row.user = account.name;
  row.title = application.name;
  row.scopes = scopes.bits();
  row.secret_hash = auth::Sha256(secret);
  row.created_at = state.NowMicros();
  const auto lifetime = state.options.identity.oauth_token_lifetime;
  if (lifetime.count() > 0) {
    row.expires_at =
        row.created_at + std::chrono::duration_cast<std::chrono::microseconds>(lifetime).count();
  }
  row.application_id = application.id;
  row.client_id = application.client_id;
  std::vector<std::pair<std::string_view, std::string_view>> fields = {
      {"oauth_token_uuid", row.uuid},
      {"application_name", application.name},
      {"client_id", application.client_id}};
  const std::string scope_text = scopes.ToString();
  fields.emplace_back("scope", scope_text);
  if (!auth_method.empty()) fields.emplace_back("auth_method", auth_method);
  auto audit = AuditRowFor(state, actor, "create_oauth_api_token", account.name, "",
                           core::JsonObjectText(fields));
  if (auto s = state.identity.InsertToken(true, row, lookup, audit); !s.ok()) return s;
  return Issued<OAuthToken>{OAuthTokenFromRow(row),
                            std::string(kOAuthTokenPrefix) + lookup + secret};
}

std::unique_ptr<Stars> NewStars(std::shared_ptr<ServiceState> state) {
  return std::make_unique<StarsImpl>(std::move(state));
}
std::unique_ptr<RepositoryNotifications> NewNotifications(std::shared_ptr<ServiceState> state) {
  return std::make_unique<NotificationsImpl>(std::move(state));
}
std::unique_ptr<OAuthApplications> NewOAuthApplications(std::shared_ptr<ServiceState> state) {
  return std::make_unique<OAuthApplicationsImpl>(std::move(state));
}
std::unique_ptr<GlobalMessages> NewGlobalMessages(std::shared_ptr<ServiceState> state) {
  return std::make_unique<GlobalMessagesImpl>(std::move(state));
}

}  // namespace quay::api

namespace quay {

bool IsNotificationEvent(std::string_view event) {
  return std::find(api::kEvents.begin(), api::kEvents.end(), event) != api::kEvents.end();
}
bool IsNotificationMethod(std::string_view method) {
  return std::find(api::kMethods.begin(), api::kMethods.end(), method) != api::kMethods.end();
}

}  // namespace quay
