// The identity calls behind the superuser panel, organization collaborators,
// repository search and global messages: outside collaborators, renaming an
// organization, taking ownership, every user's app tokens, the listing's
// search filter, and the message store.
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "identity_test_support.h"

namespace quay::testing {
namespace {

std::vector<AuditEvent> Rows(IdentityService& id, std::string kind) {
  AuditQuery q;
  q.kinds = {std::move(kind)};
  q.limit = 100;
  auto page = id.audit().Query(q);
  REQUIRE(page.ok());
  return page->events;
}

Actor As(std::string user) {
  Actor a;
  a.principal = Principal::User(std::move(user));
  return a;
}

struct World {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  std::unique_ptr<IdentityService> id;
  World(std::chrono::seconds app_token_lifetime = std::chrono::seconds(0)) {
    Options o = FastIdentityOptions();
    o.clock = clock;
    o.identity.super_users = {"root"};
    o.identity.app_token_lifetime = app_token_lifetime;
    id = OpenIdentity(o);
    for (const char* u : {"alice", "bob", "carol", "root"}) {
      REQUIRE(id->accounts().CreateUser(AdminActor(), u, std::string(u) + "@x", "pw").ok());
    }
    REQUIRE(id->organizations().CreateOrganization(As("alice"), "acme", "a@acme", "alice").ok());
    REQUIRE(id->permissions()
                .CreateRepository(As("alice"), "acme/app", Visibility::kPrivate, "the app")
                .ok());
    REQUIRE(id->permissions()
                .CreateRepository(As("alice"), "acme/lib", Visibility::kPublic, "shared code")
                .ok());
  }
};

std::set<std::string> Listed(IdentityService& id, const Principal& who, RepositoryFilter filter) {
  auto page = id.permissions().ListRepositories(who, filter, 100, "");
  REQUIRE_MESSAGE(page.ok(), page.status().ToString());
  std::set<std::string> out;
  for (const auto& r : page->repositories) out.insert(r.namespace_name + "/" + r.name);
  return out;
}

}  // namespace

TEST_CASE("ListOutsideCollaborators: direct grants of users in no team, per user") {
  World w;
  auto& perms = w.id->permissions();
  QUAY_REQUIRE_OK(
      perms.SetPermission(As("alice"), "acme/lib", Grantee::User("bob"), RepositoryRole::kRead));
  QUAY_REQUIRE_OK(
      perms.SetPermission(As("alice"), "acme/app", Grantee::User("bob"), RepositoryRole::kWrite));
  // carol is a member (team ci): her grant does not make her an outsider.
  QUAY_REQUIRE_OK(
      w.id->organizations().CreateTeam(As("alice"), "acme", "ci", TeamRole::kMember, "").status());
  QUAY_REQUIRE_OK(w.id->organizations().AddTeamMember(As("alice"), "acme", "ci", "carol"));
  QUAY_REQUIRE_OK(
      perms.SetPermission(As("alice"), "acme/app", Grantee::User("carol"), RepositoryRole::kRead));
  auto robot = w.id->robots().CreateRobot(As("alice"), "acme", "bot", "");
  REQUIRE(robot.ok());
  QUAY_REQUIRE_OK(perms.SetPermission(As("alice"), "acme/app", Grantee::Robot("acme+bot"),
                                      RepositoryRole::kRead));

  auto list = w.id->organizations().ListOutsideCollaborators("acme");
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].name == "bob");
  CHECK((*list)[0].repositories == std::vector<std::string>{"app", "lib"});
  CHECK(w.id->organizations().ListOutsideCollaborators("nosuch").status().code() ==
        Code::kNotFound);
}

TEST_CASE("RenameOrganization renames robots and repositories; grants and audit follow") {
  World w;
  REQUIRE(w.id->robots().CreateRobot(As("alice"), "acme", "bot", "").ok());
  QUAY_REQUIRE_OK(w.id->permissions().SetPermission(As("alice"), "acme/app", Grantee::User("bob"),
                                                    RepositoryRole::kRead));
  auto renamed = w.id->organizations().RenameOrganization(As("root"), "acme", "acmecorp");
  REQUIRE_MESSAGE(renamed.ok(), renamed.status().ToString());
  CHECK(renamed->name == "acmecorp");
  CHECK(renamed->email == "a@acme");
  CHECK(!w.id->organizations().GetOrganization("acme").ok());
  CHECK(w.id->robots().GetRobot("acmecorp+bot").ok());
  CHECK(!w.id->permissions().GetRepository("acme/app").ok());
  auto repo = w.id->permissions().GetRepository("acmecorp/app");
  REQUIRE(repo.ok());
  CHECK(repo->description == "the app");
  auto role = w.id->permissions().UserRoleOn("bob", "acmecorp/app");
  REQUIRE(role.ok());
  CHECK(*role == RepositoryRole::kRead);
  // The public listing (repository_settings.name) follows too.
  CHECK(Listed(*w.id, Principal::Anonymous(), {}) == std::set<std::string>{"acmecorp/lib"});
  const auto rows = Rows(*w.id, "org_change_name");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].metadata.find("\"old_name\":\"acme\"") != std::string::npos);
  CHECK(rows[0].metadata.find("\"new_name\":\"acmecorp\"") != std::string::npos);
  CHECK(rows[0].metadata.find("\"superuser\":\"root\"") != std::string::npos);

  CHECK(w.id->organizations().RenameOrganization(As("root"), "acmecorp", "bob").status().code() ==
        Code::kConflict);
  CHECK(w.id->organizations().RenameOrganization(As("root"), "acmecorp", "Bad!").status().code() ==
        Code::kInvalidArgument);
  CHECK(w.id->organizations().RenameOrganization(As("root"), "bob", "bobby").status().code() ==
        Code::kNotFound);  // a user, not an org
  CHECK(w.id->organizations().RenameOrganization(As("root"), "acmecorp", "acmecorp").ok());
  CHECK(Rows(*w.id, "org_change_name").size() == 1);  // same name: no row
}

TEST_CASE("TakeOwnership joins an org's admin team, or converts a user") {
  World w;
  auto org = w.id->organizations().TakeOwnership(As("root"), "acme");
  REQUIRE_MESSAGE(org.ok(), org.status().ToString());
  CHECK(!org->was_user);
  auto members = w.id->organizations().ListOrganizationMembers("acme");
  REQUIRE(members.ok());
  bool root_in = false;
  for (const auto& m : *members) root_in = root_in || m.name == "root";
  CHECK(root_in);
  // Twice: no duplicate membership, another row.
  CHECK(w.id->organizations().TakeOwnership(As("root"), "acme").ok());

  REQUIRE(w.id->tokens().CreateAppToken(As("bob"), "bob", "laptop").ok());
  REQUIRE(
      w.id->permissions().CreateRepository(As("bob"), "bob/notes", Visibility::kPrivate, "").ok());
  auto user = w.id->organizations().TakeOwnership(As("root"), "bob");
  REQUIRE(user.ok());
  CHECK(user->was_user);
  CHECK(w.id->organizations().GetOrganization("bob").ok());
  CHECK(!w.id->accounts().GetUser("bob").ok());
  CHECK(!w.id->accounts().AuthenticateUser("bob", "pw").ok());
  auto teams = w.id->organizations().ListTeams("bob");
  REQUIRE(teams.ok());
  REQUIRE(teams->size() == 1);
  CHECK((*teams)[0].name == "owners");
  CHECK((*teams)[0].role == TeamRole::kAdmin);
  auto role = w.id->permissions().UserRoleOn("root", "bob/notes");
  REQUIRE(role.ok());
  CHECK(*role == RepositoryRole::kAdmin);

  const auto rows = Rows(*w.id, "take_ownership");
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].namespace_name == "root");  // Quay logs it under the superuser
  CHECK(rows[0].metadata.find("\"was_user\":true") != std::string::npos);
  CHECK(rows[0].metadata.find("\"superuser\":\"root\"") != std::string::npos);

  CHECK(w.id->organizations().TakeOwnership(As("root"), "nosuch").status().code() ==
        Code::kNotFound);
  CHECK(w.id->organizations().TakeOwnership(As("alice"), "root").status().code() ==
        Code::kInvalidArgument);  // a superuser
}

TEST_CASE(
    "ListAllAppTokens pages every user's tokens; only_expiring uses a tenth of the lifetime") {
  World w(std::chrono::hours(100));
  for (const char* u : {"alice", "bob", "carol"}) {
    REQUIRE(w.id->tokens().CreateAppToken(As(u), u, std::string("t-") + u).ok());
  }
  auto first = w.id->tokens().ListAllAppTokens(false, 2, "");
  REQUIRE(first.ok());
  REQUIRE(first->tokens.size() == 2);
  CHECK(first->more);
  CHECK(first->tokens[0].user == "alice");
  auto second = w.id->tokens().ListAllAppTokens(false, 2, first->next_cursor);
  REQUIRE(second.ok());
  REQUIRE(second->tokens.size() == 1);
  CHECK(!second->more);
  CHECK(second->tokens[0].title == "t-carol");
  CHECK(w.id->tokens().ListAllAppTokens(false, 2, "x1").status().code() == Code::kInvalidArgument);

  // 100h lifetime: "soon" is the last 10h.
  auto soon = w.id->tokens().ListAllAppTokens(true, 10, "");
  REQUIRE(soon.ok());
  CHECK(soon->tokens.empty());
  w.clock->Advance(std::chrono::hours(91));
  soon = w.id->tokens().ListAllAppTokens(true, 10, "");
  REQUIRE(soon.ok());
  CHECK(soon->tokens.size() == 3);
  w.clock->Advance(std::chrono::hours(10));  // expired: no longer "expiring"
  soon = w.id->tokens().ListAllAppTokens(true, 10, "");
  REQUIRE(soon.ok());
  CHECK(soon->tokens.empty());
}

TEST_CASE("ListRepositories search: short name or description, escaped, visibility kept") {
  World w;
  REQUIRE(w.id->permissions()
              .CreateRepository(As("bob"), "bob/apptools", Visibility::kPrivate, "")
              .ok());
  RepositoryFilter app;
  app.search = "APP";
  CHECK(Listed(*w.id, Principal::User("alice"), app) == std::set<std::string>{"acme/app"});
  CHECK(Listed(*w.id, Principal::User("bob"), app) == std::set<std::string>{"bob/apptools"});
  RepositoryFilter shared;
  shared.search = "shared";
  CHECK(Listed(*w.id, Principal::Anonymous(), shared) == std::set<std::string>{"acme/lib"});
  RepositoryFilter wildcard;
  wildcard.search = "_";
  CHECK(Listed(*w.id, Principal::User("alice"), wildcard).empty());
  // The namespace is not searched: "acme" matches no short name.
  RepositoryFilter ns;
  ns.search = "acme";
  CHECK(Listed(*w.id, Principal::User("alice"), ns).empty());
  auto page = w.id->permissions().ListRepositories(Principal::User("alice"), app, 10, "");
  REQUIRE(page.ok());
  REQUIRE(page->repositories.size() == 1);
  CHECK(page->repositories[0].namespace_is_org);
}

TEST_CASE("GlobalMessages: create, list oldest first, delete; bad fields refused") {
  World w;
  auto& m = w.id->messages();
  auto one = m.CreateMessage("info", "text/plain", "hello");
  REQUIRE(one.ok());
  CHECK(!one->uuid.empty());
  REQUIRE(m.CreateMessage("error", "text/markdown", "**down**").ok());
  CHECK(m.CreateMessage("fatal", "text/plain", "x").status().code() == Code::kInvalidArgument);
  CHECK(m.CreateMessage("info", "text/html", "x").status().code() == Code::kInvalidArgument);
  CHECK(m.CreateMessage("info", "text/plain", "").status().code() == Code::kInvalidArgument);
  auto list = m.ListMessages();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].content == "hello");
  CHECK((*list)[1].severity == "error");
  QUAY_REQUIRE_OK(m.DeleteMessage(one->uuid));
  QUAY_REQUIRE_OK(m.DeleteMessage(one->uuid));  // gone: still OK
  list = m.ListMessages();
  REQUIRE(list.ok());
  CHECK(list->size() == 1);
}

}  // namespace quay::testing

namespace quay::testing {

TEST_CASE("AssignAuthorization: pending per user, audited, deleted by its user only") {
  World w;
  OAuthApplicationSpec spec;
  spec.name = "ci";
  auto app = w.id->applications().CreateApplication(As("alice"), "acme", spec);
  REQUIRE(app.ok());
  auto& apps = w.id->applications();
  CHECK(apps.AssignAuthorization(As("alice"), app->client_id, "bob", ScopeSet{}, "", "code")
            .status()
            .code() == Code::kInvalidArgument);
  CHECK(apps.AssignAuthorization(As("alice"), app->client_id, "bob", ScopeSet{Scope::kRepoRead}, "",
                                 "implicit")
            .status()
            .code() == Code::kInvalidArgument);
  CHECK(apps.AssignAuthorization(As("alice"), app->client_id, "nobody", ScopeSet{Scope::kRepoRead},
                                 "", "code")
            .status()
            .code() == Code::kNotFound);
  auto assigned = apps.AssignAuthorization(As("alice"), app->client_id, "bob",
                                           ScopeSet{Scope::kRepoRead, Scope::kUserRead},
                                           "https://x/cb", "code");
  REQUIRE(assigned.ok());
  const auto rows = Rows(*w.id, "oauth_token_assigned");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].namespace_name == "acme");
  CHECK(rows[0].metadata.find("\"assigned_user\":\"bob\"") != std::string::npos);
  CHECK(rows[0].metadata.find("\"assigning_user\":\"alice\"") != std::string::npos);

  auto list = apps.ListAssignedAuthorizations("bob");
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].uuid == assigned->uuid);
  CHECK((*list)[0].application.client_id == app->client_id);
  CHECK((*list)[0].application.client_secret.empty());
  CHECK((*list)[0].assigner == "alice");
  CHECK((*list)[0].scopes.Has(Scope::kUserRead));
  CHECK(apps.ListAssignedAuthorizations("carol")->empty());
  CHECK(apps.DeleteAssignedAuthorization("carol", assigned->uuid).code() == Code::kNotFound);
  QUAY_REQUIRE_OK(apps.DeleteAssignedAuthorization("bob", assigned->uuid));
  CHECK(apps.ListAssignedAuthorizations("bob")->empty());
}

TEST_CASE("user notifications: own and admined orgs', newest first, paged, dismissable") {
  World w;
  OAuthApplicationSpec spec;
  spec.name = "ci";
  auto app = w.id->applications().CreateApplication(As("alice"), "acme", spec);
  REQUIRE(app.ok());
  for (int i = 0; i < 3; ++i) {
    w.clock->Advance(std::chrono::seconds(1));
    REQUIRE(w.id->applications()
                .AssignAuthorization(As("alice"), app->client_id, "bob", ScopeSet{Scope::kRepoRead},
                                     "", "code")
                .ok());
  }
  auto& accounts = w.id->accounts();
  auto first = accounts.ListUserNotifications("bob", 2, "");
  REQUIRE(first.ok());
  REQUIRE(first->notifications.size() == 2);
  CHECK(first->more);
  CHECK(first->notifications[0].created_at > first->notifications[1].created_at);
  CHECK(first->notifications[0].kind == "assigned_authorization");
  CHECK(first->notifications[0].organization.empty());
  auto second = accounts.ListUserNotifications("bob", 2, first->next_cursor);
  REQUIRE(second.ok());
  CHECK(second->notifications.size() == 1);
  CHECK(!second->more);
  CHECK(accounts.ListUserNotifications("carol", 10, "")->notifications.empty());
  CHECK(accounts.ListUserNotifications("bob", 2, "x").status().code() == Code::kInvalidArgument);

  const std::string id = first->notifications[0].id;
  auto dismissed = accounts.SetUserNotificationDismissed("bob", id, true);
  REQUIRE(dismissed.ok());
  CHECK(dismissed->dismissed);
  CHECK(accounts.GetUserNotification("bob", id)->dismissed);
  CHECK(accounts.GetUserNotification("carol", id).status().code() == Code::kNotFound);
  // Listing the assignments clears their notifications.
  REQUIRE(w.id->applications().ListAssignedAuthorizations("bob").ok());
  CHECK(accounts.ListUserNotifications("bob", 10, "")->notifications.empty());
}

}  // namespace quay::testing
