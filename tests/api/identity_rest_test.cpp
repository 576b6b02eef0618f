// The identity operations the /api/v1 REST API needs: accounts, orgs and
// teams, robots, prototypes, repository listing, stars, notifications, OAuth
// applications and the authorization-code grant.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "identity_test_support.h"

namespace quay::testing {
namespace {

std::optional<AuditEvent> Last(IdentityService& id, std::string kind) {
  AuditQuery q;
  q.kinds = {std::move(kind)};
  q.limit = 1;
  auto page = id.audit().Query(q);
  REQUIRE(page.ok());
  if (page->events.empty()) return std::nullopt;
  return page->events[0];
}

size_t CountOf(IdentityService& id, std::string kind) {
  AuditQuery q;
  q.kinds = {std::move(kind)};
  q.limit = 100;
  auto page = id.audit().Query(q);
  REQUIRE(page.ok());
  return page->events.size();
}

bool Has(const std::string& metadata, std::string_view key, std::string_view value) {
  return metadata.find("\"" + std::string(key) + "\":\"" + std::string(value) + "\"") !=
         std::string::npos;
}

struct World {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  std::unique_ptr<IdentityService> id;
  Actor admin = AdminActor();
  World() {
    Options o = FastIdentityOptions();
    o.clock = clock;
    id = OpenIdentity(o);
    for (const char* u : {"alice", "bob", "carol"}) {
      REQUIRE(id->accounts().CreateUser(admin, u, std::string(u) + "@x", "pw").ok());
    }
    REQUIRE(id->organizations().CreateOrganization(admin, "acme", "a@acme", "alice").ok());
  }
};

}  // namespace

TEST_CASE("CreateFirstUser succeeds only on an empty database") {
  auto id = OpenIdentity(FastIdentityOptions());
  const Actor admin = AdminActor();
  auto first = id->accounts().CreateFirstUser(admin, "root", "r@x", "pw");
  REQUIRE(first.ok());
  CHECK(first->name == "root");
  CHECK(Last(*id, "user_create").has_value());
  auto second = id->accounts().CreateFirstUser(admin, "other", "", "pw");
  CHECK(second.status().code() == Code::kConflict);
  CHECK(id->accounts().GetUser("other").status().code() == Code::kNotFound);
  CHECK(id->accounts().CreateFirstUser(admin, "Bad Name", "", "pw").status().code() ==
        Code::kInvalidArgument);
}

TEST_CASE("ChangeEmail and SetOrganizationEmail write old and new e-mail") {
  World w;
  REQUIRE(w.id->accounts().ChangeEmail(w.admin, "bob", "new@x").ok());
  CHECK(w.id->accounts().GetUser("bob")->email == "new@x");
  auto ev = Last(*w.id, "user_change_email");
  REQUIRE(ev);
  CHECK(Has(ev->metadata, "email", "new@x"));
  CHECK(Has(ev->metadata, "old_email", "bob@x"));
  REQUIRE(w.id->accounts().ChangeEmail(w.admin, "bob", "new@x").ok());
  CHECK(CountOf(*w.id, "user_change_email") == 1);
  CHECK(w.id->accounts().ChangeEmail(w.admin, "nobody", "e").code() == Code::kNotFound);

  REQUIRE(w.id->organizations().SetOrganizationEmail(w.admin, "acme", "b@acme").ok());
  CHECK(w.id->organizations().GetOrganization("acme")->email == "b@acme");
  ev = Last(*w.id, "org_change_email");
  REQUIRE(ev);
  CHECK(Has(ev->metadata, "old_email", "a@acme"));
  CHECK(Has(ev->metadata, "namespace", "acme"));
  CHECK(w.id->organizations().SetOrganizationEmail(w.admin, "alice", "x").code() ==
        Code::kNotFound);
}

TEST_CASE("organizations: list, memberships, members, removal, team summaries") {
  World w;
  auto& orgs = w.id->organizations();
  REQUIRE(orgs.CreateOrganization(w.admin, "beta", "", "bob").ok());
  REQUIRE(orgs.CreateOrganization(w.admin, "gamma", "", "bob").ok());
  auto page = orgs.ListOrganizations(2, "");
  REQUIRE(page.ok());
  CHECK(page->names == std::vector<std::string>{"acme", "beta"});
  CHECK(page->more);
  page = orgs.ListOrganizations(2, "beta");
  CHECK(page->names == std::vector<std::string>{"gamma"});
  CHECK(!page->more);

  REQUIRE(orgs.CreateTeam(w.admin, "acme", "devs", TeamRole::kMember, "d").ok());
  REQUIRE(orgs.AddTeamMember(w.admin, "acme", "devs", "bob").ok());
  REQUIRE(orgs.AddTeamMember(w.admin, "acme", "devs", "alice").ok());
  auto mine = orgs.OrganizationsOf("bob");
  REQUIRE(mine.ok());
  REQUIRE(mine->size() == 3);
  CHECK((*mine)[0].organization == "acme");
  CHECK(!(*mine)[0].is_admin);
  CHECK((*mine)[1].is_admin);
  CHECK(orgs.OrganizationsOf("nobody").status().code() == Code::kNotFound);

  auto members = orgs.ListOrganizationMembers("acme");
  REQUIRE(members.ok());
  REQUIRE(members->size() == 2);
  CHECK((*members)[0].name == "alice");
  CHECK((*members)[0].teams == std::vector<std::string>{"devs", "owners"});
  CHECK((*members)[1].teams == std::vector<std::string>{"devs"});

  auto teams = orgs.ListTeamSummaries("acme", "bob");
  REQUIRE(teams.ok());
  REQUIRE(teams->size() == 2);
  CHECK((*teams)[0].team.name == "devs");
  CHECK((*teams)[0].member_count == 2);
  CHECK((*teams)[0].is_member);
  CHECK((*teams)[1].member_count == 1);
  CHECK(!(*teams)[1].is_member);

  // Removal: from every team and every direct grant in the org.
  REQUIRE(w.id->permissions().CreateRepository(w.admin, "acme/app", Visibility::kPrivate, "").ok());
  REQUIRE(w.id->permissions()
              .SetPermission(w.admin, "acme/app", Grantee::User("bob"), RepositoryRole::kWrite)
              .ok());
  REQUIRE(orgs.RemoveOrganizationMember(w.admin, "acme", "bob").ok());
  CHECK(*orgs.ListTeamMembers("acme", "devs") == std::vector<std::string>{"alice"});
  CHECK(w.id->accounts().ListUserPermissions("bob")->empty());
  auto ev = Last(*w.id, "org_remove_team_member");
  REQUIRE(ev);
  CHECK(Has(ev->metadata, "member", "bob"));
  CHECK(Has(ev->metadata, "team", "devs"));
  ev = Last(*w.id, "delete_repo_permission");
  REQUIRE(ev);
  CHECK(ev->repository == "acme/app");
  CHECK(Has(ev->metadata, "username", "bob"));
  CHECK(orgs.RemoveOrganizationMember(w.admin, "acme", "bob").code() == Code::kNotFound);
  // The last admin stays.
  CHECK(orgs.RemoveOrganizationMember(w.admin, "acme", "alice").code() == Code::kInvalidArgument);
}

TEST_CASE("UpdateTeam writes one row per change; team and robot permissions") {
  World w;
  auto& orgs = w.id->organizations();
  REQUIRE(orgs.CreateTeam(w.admin, "acme", "devs", TeamRole::kMember, "old").ok());
  auto team = orgs.UpdateTeam(w.admin, "acme", "devs", std::string("new"), TeamRole::kCreator);
  REQUIRE(team.ok());
  CHECK(team->description == "new");
  CHECK(team->role == TeamRole::kCreator);
  CHECK(Has(Last(*w.id, "org_set_team_description")->metadata, "description", "new"));
  CHECK(Has(Last(*w.id, "org_set_team_role")->metadata, "role", "creator"));
  REQUIRE(orgs.UpdateTeam(w.admin, "acme", "devs", std::string("new"), std::nullopt).ok());
  CHECK(CountOf(*w.id, "org_set_team_description") == 1);
  CHECK(orgs.UpdateTeam(w.admin, "acme", "nope", std::nullopt, std::nullopt).status().code() ==
        Code::kNotFound);

  REQUIRE(w.id->permissions().CreateRepository(w.admin, "acme/b", Visibility::kPrivate, "").ok());
  REQUIRE(w.id->permissions().CreateRepository(w.admin, "acme/a", Visibility::kPrivate, "").ok());
  for (const char* r : {"acme/b", "acme/a"}) {
    REQUIRE(w.id->permissions()
                .SetPermission(w.admin, r, Grantee::Team("devs"), RepositoryRole::kRead)
                .ok());
  }
  auto grants = orgs.ListTeamPermissions("acme", "devs");
  REQUIRE(grants.ok());
  CHECK(*grants == std::vector<RepositoryGrant>{{"acme/a", RepositoryRole::kRead},
                                                {"acme/b", RepositoryRole::kRead}});
  auto robot = w.id->robots().CreateRobot(w.admin, "acme", "ci", "");
  REQUIRE(robot.ok());
  REQUIRE(w.id->permissions()
              .SetPermission(w.admin, "acme/a", Grantee::Robot("acme+ci"), RepositoryRole::kWrite)
              .ok());
  CHECK(*w.id->robots().ListRobotPermissions("acme+ci") ==
        std::vector<RepositoryGrant>{{"acme/a", RepositoryRole::kWrite}});
  CHECK(w.id->robots().ListRobotPermissions("acme+none").status().code() == Code::kNotFound);

  // Transitive role: bob via the team; alice as org admin; carol nothing.
  REQUIRE(orgs.AddTeamMember(w.admin, "acme", "devs", "bob").ok());
  CHECK(*w.id->permissions().UserRoleOn("bob", "acme/a") == RepositoryRole::kRead);
  CHECK(*w.id->permissions().UserRoleOn("alice", "acme/a") == RepositoryRole::kAdmin);
  CHECK(*w.id->permissions().UserRoleOn("carol", "acme/a") == RepositoryRole::kNone);
  CHECK(w.id->permissions().UserRoleOn("carol", "acme/zzz").status().code() == Code::kNotFound);
}

TEST_CASE("UpdatePrototype changes the role and logs the original one") {
  World w;
  auto p = w.id->permissions().CreatePrototype(w.admin, "acme", std::nullopt, Grantee::User("bob"),
                                               RepositoryRole::kRead);
  REQUIRE(p.ok());
  auto updated =
      w.id->permissions().UpdatePrototype(w.admin, "acme", p->id, RepositoryRole::kAdmin);
  REQUIRE(updated.ok());
  CHECK(updated->role == RepositoryRole::kAdmin);
  CHECK(w.id->permissions().ListPrototypes("acme")->at(0).role == RepositoryRole::kAdmin);
  auto ev = Last(*w.id, "modify_prototype_permission");
  REQUIRE(ev);
  CHECK(Has(ev->metadata, "original_role", "read"));
  CHECK(Has(ev->metadata, "role", "admin"));
  CHECK(Has(ev->metadata, "prototypeid", p->id));
  CHECK(w.id->permissions()
            .UpdatePrototype(w.admin, "acme", "nope", RepositoryRole::kRead)
            .status()
            .code() == Code::kNotFound);
  CHECK(w.id->permissions()
            .UpdatePrototype(w.admin, "acme", p->id, RepositoryRole::kNone)
            .status()
            .code() == Code::kInvalidArgument);
}

TEST_CASE("SearchEntities finds users, robots, teams and orgs by prefix") {
  World w;
  REQUIRE(w.id->accounts().CreateUser(w.admin, "alfred", "", "pw").ok());
  REQUIRE(w.id->robots().CreateRobot(w.admin, "acme", "alpha", "").ok());
  REQUIRE(w.id->organizations().CreateTeam(w.admin, "acme", "alteam", TeamRole::kMember, "").ok());
  REQUIRE(w.id->organizations().CreateOrganization(w.admin, "alorg", "", "bob").ok());
  EntityQuery q;
  q.prefix = "al";
  q.namespace_name = "acme";
  auto hits = w.id->accounts().SearchEntities(q);
  REQUIRE(hits.ok());
  using K = EntityMatch::Kind;
  CHECK(*hits == std::vector<EntityMatch>{{K::kUser, "alfred"},
                                          {K::kUser, "alice"},
                                          {K::kRobot, "acme+alpha"},
                                          {K::kTeam, "alteam"},
                                          {K::kOrganization, "alorg"}});
  q.limit = 1;
  q.namespace_name.clear();
  q.include_orgs = false;
  CHECK(*w.id->accounts().SearchEntities(q) == std::vector<EntityMatch>{{K::kUser, "alfred"}});
  q.prefix.clear();
  CHECK(w.id->accounts().SearchEntities(q).status().code() == Code::kInvalidArgument);
}

TEST_CASE("ListRepositories: visibility rules, filters, stars and pages") {
  World w;
  auto& perms = w.id->permissions();
  REQUIRE(perms.CreateRepository(w.admin, "acme/pub", Visibility::kPublic, "p").ok());
  REQUIRE(perms.CreateRepository(w.admin, "acme/priv", Visibility::kPrivate, "").ok());
  REQUIRE(perms.CreateRepository(w.admin, "acme/team", Visibility::kPrivate, "").ok());
  REQUIRE(perms.CreateRepository(w.admin, "bob/mine", Visibility::kPrivate, "").ok());
  REQUIRE(perms.CreateRepository(w.admin, "carol/shared", Visibility::kPrivate, "").ok());
  REQUIRE(perms.CreateRepository(w.admin, "carol/secret", Visibility::kPrivate, "").ok());
  REQUIRE(perms.SetPermission(w.admin, "carol/shared", Grantee::User("bob"), RepositoryRole::kRead)
              .ok());
  REQUIRE(w.id->organizations().CreateTeam(w.admin, "acme", "devs", TeamRole::kMember, "").ok());
  REQUIRE(w.id->organizations().AddTeamMember(w.admin, "acme", "devs", "bob").ok());
  REQUIRE(
      perms.SetPermission(w.admin, "acme/team", Grantee::Team("devs"), RepositoryRole::kRead).ok());

  auto names = [](const RepositoryListingPage& p) {
    std::vector<std::string> out;
    for (const auto& r : p.repositories) out.push_back(r.namespace_name + "/" + r.name);
    return out;
  };
  const Principal bob = Principal::User("bob");
  auto all = perms.ListRepositories(bob, {}, 100, "");
  REQUIRE(all.ok());
  CHECK(names(*all) ==
        std::vector<std::string>{"acme/pub", "acme/team", "bob/mine", "carol/shared"});
  CHECK(!all->more);
  CHECK(all->repositories[0].description == "p");
  CHECK(all->repositories[0].is_public);
  CHECK(!all->repositories[0].last_modified);

  // Pages of 1 across every boundary give the same list.
  std::vector<std::string> paged;
  std::string cursor;
  for (int i = 0; i < 10; ++i) {
    auto page = perms.ListRepositories(bob, {}, 1, cursor);
    REQUIRE(page.ok());
    for (auto& n : names(*page)) paged.push_back(n);
    if (!page->more) break;
    cursor = page->next_cursor;
  }
  CHECK(paged == names(*all));

  // Alice administers acme: every acme repository, and public ones.
  CHECK(names(*perms.ListRepositories(Principal::User("alice"), {}, 100, "")) ==
        std::vector<std::string>{"acme/priv", "acme/pub", "acme/team"});
  // Anonymous: public only.
  CHECK(names(*perms.ListRepositories(Principal::Anonymous(), {}, 100, "")) ==
        std::vector<std::string>{"acme/pub"});
  // Filters.
  RepositoryFilter f;
  f.namespace_name = "acme";
  CHECK(names(*perms.ListRepositories(bob, f, 100, "")) ==
        std::vector<std::string>{"acme/pub", "acme/team"});
  f.public_only = true;
  CHECK(names(*perms.ListRepositories(bob, f, 100, "")) == std::vector<std::string>{"acme/pub"});

  // Stars.
  REQUIRE(w.id->stars().Star("bob", "carol/shared").ok());
  REQUIRE(w.id->stars().Star("bob", "carol/shared").ok());
  REQUIRE(w.id->stars().Star("bob", "carol/secret").ok());  // visibility is the caller's check
  RepositoryFilter starred;
  starred.starred_by = "bob";
  auto s = perms.ListRepositories(bob, starred, 100, "");
  REQUIRE(s.ok());
  CHECK(names(*s) == std::vector<std::string>{"carol/shared"});  // secret: not visible to bob
  CHECK(s->repositories[0].is_starred);
  // Listings are cached: a star, a grant and a tag change show at once.
  auto carol_shared = [&] {
    auto listed = perms.ListRepositories(bob, {}, 100, "");
    REQUIRE(listed.ok());
    for (const auto& r : listed->repositories) {
      if (r.namespace_name == "carol" && r.name == "shared") return r;
    }
    return RepositoryListing{};
  };
  CHECK(carol_shared().is_starred);
  REQUIRE(w.id->stars().Unstar("bob", "carol/shared").ok());
  CHECK_FALSE(carol_shared().is_starred);
  REQUIRE(w.id->stars().Star("bob", "carol/shared").ok());
  CHECK(carol_shared().is_starred);
  CHECK(names(*perms.ListRepositories(bob, {}, 100, "")).size() == 4);
  REQUIRE(perms.SetPermission(w.admin, "carol/secret", Grantee::User("bob"), RepositoryRole::kRead)
              .ok());
  CHECK(names(*perms.ListRepositories(bob, {}, 100, "")).size() == 5);
  starred.starred_by = "nobody";
  CHECK(perms.ListRepositories(bob, starred, 100, "").status().code() == Code::kNotFound);
}

TEST_CASE("stars: star, unstar, list pages, batch lookup") {
  World w;
  auto& perms = w.id->permissions();
  for (const char* r : {"bob/a", "bob/b", "bob/c"}) {
    REQUIRE(perms.CreateRepository(w.admin, r, Visibility::kPublic, "").ok());
    REQUIRE(w.id->stars().Star("alice", r).ok());
  }
  auto page = w.id->stars().ListStarred("alice", 2, "");
  REQUIRE(page.ok());
  CHECK(page->names == std::vector<std::string>{"bob/a", "bob/b"});
  CHECK(page->more);
  page = w.id->stars().ListStarred("alice", 2, "bob/b");
  CHECK(page->names == std::vector<std::string>{"bob/c"});
  CHECK(!page->more);
  REQUIRE(w.id->stars().Unstar("alice", "bob/b").ok());
  REQUIRE(w.id->stars().Unstar("alice", "bob/b").ok());
  CHECK(*w.id->stars().AreStarred("alice", {"bob/c", "bob/b", "none/x", "bob/a"}) ==
        std::vector<bool>{true, false, false, true});
  CHECK(w.id->stars().Star("alice", "bob/none").code() == Code::kNotFound);
  CHECK(w.id->stars().Star("nobody", "bob/a").code() == Code::kNotFound);
}

TEST_CASE("repository notifications: create, list, get, reset, delete, validation") {
  World w;
  REQUIRE(w.id->permissions().CreateRepository(w.admin, "bob/app", Visibility::kPrivate, "").ok());
  auto& n = w.id->notifications();
  NewRepositoryNotification spec;
  spec.event = "repo_push";
  spec.method = "webhook";
  spec.config_json = R"({"url":"http://h"})";
  spec.title = "hook";
  auto created = n.CreateNotification(w.admin, "bob/app", spec);
  REQUIRE(created.ok());
  CHECK(created->number_of_failures == 0);
  auto ev = Last(*w.id, "add_repo_notification");
  REQUIRE(ev);
  CHECK(ev->repository == "bob/app");
  CHECK(Has(ev->metadata, "event", "repo_push"));
  CHECK(Has(ev->metadata, "method", "webhook"));
  CHECK(Has(ev->metadata, "notification_id", created->uuid));
  CHECK(Has(ev->metadata, "repo", "app"));
  CHECK(Has(ev->metadata, "namespace", "bob"));
  auto list = n.ListNotifications("bob/app");
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].config_json == spec.config_json);
  CHECK(n.GetNotification("bob/app", created->uuid)->title == "hook");
  CHECK(n.TestNotification("bob/app", created->uuid).ok());
  REQUIRE(n.ResetNotificationFailures(w.admin, "bob/app", created->uuid).ok());
  CHECK(Last(*w.id, "reset_repo_notification").has_value());

  spec.event = "nope";
  CHECK(n.CreateNotification(w.admin, "bob/app", spec).status().code() == Code::kInvalidArgument);
  spec.event = "repo_image_expiry";
  spec.method = "carrier_pigeon";
  CHECK(n.CreateNotification(w.admin, "bob/app", spec).status().code() == Code::kInvalidArgument);
  spec.method = "slack";
  spec.config_json = "[]";
  CHECK(n.CreateNotification(w.admin, "bob/app", spec).status().code() == Code::kInvalidArgument);
  spec.config_json = "{}";
  CHECK(n.CreateNotification(w.admin, "bob/none", spec).status().code() == Code::kNotFound);

  REQUIRE(
      w.id->permissions().CreateRepository(w.admin, "bob/other", Visibility::kPrivate, "").ok());
  CHECK(n.GetNotification("bob/other", created->uuid).status().code() == Code::kNotFound);
  REQUIRE(n.DeleteNotification(w.admin, "bob/app", created->uuid).ok());
  CHECK(Last(*w.id, "delete_repo_notification").has_value());
  CHECK(n.DeleteNotification(w.admin, "bob/app", created->uuid).code() == Code::kNotFound);
  CHECK(IsNotificationEvent("repo_push"));
  // Quay's quota events (initdb.py, notifications/notificationevent.py).
  CHECK(IsNotificationEvent("quota_warning"));
  CHECK(IsNotificationEvent("quota_error"));
  CHECK(!IsNotificationEvent("quota_notice"));
  CHECK(!IsNotificationMethod("sms"));
}

TEST_CASE("OAuth applications: CRUD, secret kept sealed and shown again, reset, verify") {
  World w;
  auto& apps = w.id->applications();
  OAuthApplicationSpec spec;
  spec.name = "ci";
  spec.redirect_uri = "https://ci/cb";
  auto app = apps.CreateApplication(w.admin, "acme", spec);
  REQUIRE(app.ok());
  CHECK(app->client_id.size() == 20);
  CHECK(app->client_secret.size() == 40);
  auto ev = Last(*w.id, "create_application");
  REQUIRE(ev);
  CHECK(ev->namespace_name == "acme");
  CHECK(Has(ev->metadata, "client_id", app->client_id));
  CHECK(ev->metadata.find(app->client_secret) == std::string::npos);
  CHECK(apps.GetApplication(app->client_id)->client_secret == app->client_secret);
  CHECK(apps.ListApplications("acme")->size() == 1);
  CHECK(apps.CreateApplication(w.admin, "bob", spec).status().code() == Code::kNotFound);
  spec.name.clear();
  CHECK(apps.CreateApplication(w.admin, "acme", spec).status().code() == Code::kInvalidArgument);

  CHECK(apps.VerifyClient(app->client_id, app->client_secret).ok());
  CHECK(apps.VerifyClient(app->client_id, "wrong").code() == Code::kUnauthenticated);
  CHECK(apps.VerifyClient("unknown", app->client_secret).code() == Code::kUnauthenticated);

  spec.name = "ci2";
  auto updated = apps.UpdateApplication(w.admin, app->client_id, spec);
  REQUIRE(updated.ok());
  CHECK(updated->name == "ci2");
  CHECK(Last(*w.id, "update_application").has_value());

  auto reset = apps.ResetClientSecret(w.admin, app->client_id);
  REQUIRE(reset.ok());
  CHECK(reset->client_secret != app->client_secret);
  CHECK(apps.VerifyClient(app->client_id, app->client_secret).code() == Code::kUnauthenticated);
  CHECK(apps.VerifyClient(app->client_id, reset->client_secret).ok());
  CHECK(Has(Last(*w.id, "reset_application_client_secret")->metadata, "application_name", "ci2"));

  REQUIRE(apps.DeleteApplication(w.admin, app->client_id).ok());
  CHECK(Has(Last(*w.id, "delete_application")->metadata, "client_id", app->client_id));
  CHECK(apps.GetApplication(app->client_id).status().code() == Code::kNotFound);
}

TEST_CASE("authorization codes: single use, bound to client and redirect, expire") {
  World w;
  auto& apps = w.id->applications();
  OAuthApplicationSpec spec;
  spec.name = "ci";
  auto app = apps.CreateApplication(w.admin, "acme", spec);
  auto other = apps.CreateApplication(w.admin, "acme", spec);
  REQUIRE(app.ok());
  REQUIRE(other.ok());
  const ScopeSet scopes{Scope::kRepoRead};
  auto code = apps.IssueAuthorizationCode(w.admin, app->client_id, "bob", scopes, "https://cb");
  REQUIRE(code.ok());

  auto is_grant_error = [](const Status& s) {
    return s.code() == Code::kInvalidArgument && s.message().rfind("invalid_grant", 0) == 0;
  };
  // Wrong secret: invalid_client, and the code stays usable.
  auto bad = apps.ExchangeAuthorizationCode(app->client_id, "nope", *code, "https://cb");
  CHECK(bad.status().code() == Code::kUnauthenticated);
  CHECK(bad.status().message() == "invalid_client");

  auto token =
      apps.ExchangeAuthorizationCode(app->client_id, app->client_secret, *code, "https://cb");
  REQUIRE(token.ok());
  CHECK(token->token.user == "bob");
  CHECK(token->token.client_id == app->client_id);
  CHECK(token->token.scopes.Has(Scope::kRepoRead));
  auto principal = w.id->accounts().AuthenticateOAuthToken(token->secret);
  REQUIRE(principal.ok());
  CHECK(principal->name == "bob");
  auto ev = Last(*w.id, "create_oauth_api_token");
  REQUIRE(ev);
  CHECK(Has(ev->metadata, "client_id", app->client_id));
  CHECK(Has(ev->metadata, "auth_method", "authorization_code"));
  // Used once: gone.
  auto again =
      apps.ExchangeAuthorizationCode(app->client_id, app->client_secret, *code, "https://cb");
  CHECK(is_grant_error(again.status()));

  // Redirect mismatch and another client's code: refused, and consumed.
  code = apps.IssueAuthorizationCode(w.admin, app->client_id, "bob", scopes, "https://cb");
  CHECK(is_grant_error(
      apps.ExchangeAuthorizationCode(app->client_id, app->client_secret, *code, "https://evil")
          .status()));
  CHECK(is_grant_error(
      apps.ExchangeAuthorizationCode(app->client_id, app->client_secret, *code, "https://cb")
          .status()));
  code = apps.IssueAuthorizationCode(w.admin, app->client_id, "bob", scopes, "https://cb");
  CHECK(is_grant_error(
      apps.ExchangeAuthorizationCode(other->client_id, other->client_secret, *code, "https://cb")
          .status()));

  // Expired after 10 minutes (the injected clock).
  code = apps.IssueAuthorizationCode(w.admin, app->client_id, "bob", scopes, "https://cb");
  w.clock->Advance(std::chrono::minutes(10));
  CHECK(is_grant_error(
      apps.ExchangeAuthorizationCode(app->client_id, app->client_secret, *code, "https://cb")
          .status()));
  code = apps.IssueAuthorizationCode(w.admin, app->client_id, "bob", scopes, "https://cb");
  w.clock->Advance(std::chrono::minutes(9));
  CHECK(
      apps.ExchangeAuthorizationCode(app->client_id, app->client_secret, *code, "https://cb").ok());
  CHECK(is_grant_error(
      apps.ExchangeAuthorizationCode(app->client_id, app->client_secret, "garbage", "https://cb")
          .status()));
  CHECK(apps.IssueAuthorizationCode(w.admin, app->client_id, "bob", ScopeSet{}, "x")
            .status()
            .code() == Code::kInvalidArgument);
}

TEST_CASE("authorized applications, granted scopes, application tokens") {
  World w;
  auto& apps = w.id->applications();
  OAuthApplicationSpec spec;
  spec.name = "ci";
  auto app = apps.CreateApplication(w.admin, "acme", spec);
  REQUIRE(app.ok());
  auto t1 = w.id->tokens().IssueOAuthToken(w.admin, "bob", OAuthClientId{app->client_id},
                                           ScopeSet{Scope::kRepoRead});
  REQUIRE(t1.ok());
  CHECK(t1->token.client_id == app->client_id);
  auto t2 = w.id->tokens().IssueOAuthToken(w.admin, "bob", OAuthClientId{app->client_id},
                                           ScopeSet{Scope::kUserRead});
  REQUIRE(t2.ok());
  REQUIRE(
      w.id->tokens().IssueOAuthToken(w.admin, "bob", "by-name", ScopeSet{Scope::kRepoRead}).ok());
  CHECK(w.id->tokens()
            .IssueOAuthToken(w.admin, "bob", OAuthClientId{"nope"}, ScopeSet{Scope::kRepoRead})
            .status()
            .code() == Code::kNotFound);

  auto authorized = apps.ListAuthorizedApplications("bob");
  REQUIRE(authorized.ok());
  REQUIRE(authorized->size() == 1);
  CHECK((*authorized)[0].client_id == app->client_id);
  CHECK((*authorized)[0].tokens.size() == 2);
  CHECK((*authorized)[0].scopes.Has(Scope::kRepoRead));
  CHECK((*authorized)[0].scopes.Has(Scope::kUserRead));
  CHECK(*apps.HasGrantedScopes("bob", app->client_id, {Scope::kRepoRead, Scope::kUserRead}));
  CHECK(!*apps.HasGrantedScopes("bob", app->client_id, {Scope::kRepoWrite}));
  CHECK(!*apps.HasGrantedScopes("carol", app->client_id, {Scope::kRepoRead}));

  // Application tokens, paged by issue order.
  Actor carol;
  carol.principal = Principal::User("carol");
  auto t3 = apps.CreateApplicationToken(carol, app->client_id, ScopeSet{Scope::kRepoRead});
  REQUIRE(t3.ok());
  CHECK(t3->token.user == "carol");
  CHECK(Has(Last(*w.id, "create_oauth_api_token")->metadata, "auth_method", "api"));
  auto page = apps.ListApplicationTokens(app->client_id, 2, "");
  REQUIRE(page.ok());
  REQUIRE(page->items.size() == 2);
  CHECK(page->more);
  CHECK(page->items[0].id == t1->token.id);
  page = apps.ListApplicationTokens(app->client_id, 2, page->items[1].id);
  REQUIRE(page->items.size() == 1);
  CHECK(page->items[0].id == t3->token.id);
  CHECK(!page->more);
  CHECK(apps.RevokeApplicationToken(w.admin, app->client_id, "nope").code() == Code::kNotFound);
  REQUIRE(apps.RevokeApplicationToken(w.admin, app->client_id, t3->token.id).ok());
  CHECK(Has(Last(*w.id, "revoke_oauth_api_token")->metadata, "oauth_token_uuid", t3->token.id));
  CHECK(!w.id->accounts().AuthenticateOAuthToken(t3->secret).ok());

  // Revoking the application for bob removes both of its tokens.
  REQUIRE(apps.RevokeAuthorizedApplication(w.admin, "bob", app->client_id).ok());
  CHECK(apps.ListAuthorizedApplications("bob")->empty());
  CHECK(!w.id->accounts().AuthenticateOAuthToken(t1->secret).ok());
  CHECK(CountOf(*w.id, "revoke_oauth_api_token") == 3);
  CHECK(apps.RevokeAuthorizedApplication(w.admin, "bob", app->client_id).code() == Code::kNotFound);
}

TEST_CASE("a repository listing page is one shared object per principal until a write") {
  World w;
  auto& perms = w.id->permissions();
  REQUIRE(perms.CreateRepository(w.admin, "acme/one", Visibility::kPublic, "").ok());
  const Principal bob = Principal::User("bob");
  // The change counter's next poll (db/connection.h) sees this process's
  // own write once more and starts a new generation; let it pass first.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  (void)perms.SharedListRepositories(Principal::User("carol"), {}, 100, "");
  auto first = perms.SharedListRepositories(bob, {}, 100, "");
  REQUIRE(first.ok());
  CHECK(perms.SharedListRepositories(bob, {}, 100, "")->get() == first->get());
  // Another principal's listing is its own page, even with the same rows.
  CHECK(perms.SharedListRepositories(Principal::User("alice"), {}, 100, "")->get() != first->get());
  REQUIRE(perms.CreateRepository(w.admin, "acme/two", Visibility::kPublic, "").ok());
  auto second = perms.SharedListRepositories(bob, {}, 100, "");
  CHECK(second->get() != first->get());
  CHECK((*second)->repositories.size() == 2);
  CHECK((*first)->repositories.size() == 1);
}

}  // namespace quay::testing
