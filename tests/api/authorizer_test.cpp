// One table covers the permission model: every kind of principal (anonymous,
// users with direct grants, org admin / creator / member teams, robots, each
// superuser flavour, app-specific and OAuth tokens with scope clamping,
// disabled and unknown accounts) against private, public and missing
// repositories in an organization and in a user namespace, for every action.
//
// Each row states the role the principal should end up with on each
// repository; the actions follow from the documented rules: pull needs read,
// push and delete need write (push to a missing repository needs the right
// to create it), admin needs admin. Refusals are Unauthenticated for
// anonymous principals and for accounts that are unknown or disabled, Denied
// otherwise. A missing repository answers pull exactly like a private one the
// principal cannot read (no existence leak).
#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "identity_test_support.h"

using namespace quay;
using quay::testing::AdminActor;
using quay::testing::FastIdentityOptions;
using quay::testing::OpenIdentity;
using quay::testing::TempDir;

namespace {

// Column order of the role strings below.
constexpr std::array<const char*, 6> kRepos = {
    "acme/private", "acme/public", "acme/missing", "alice/private", "alice/public", "alice/missing",
};
constexpr std::array<bool, 6> kExists = {true, true, false, true, true, false};

struct Expect {
  RepositoryRole role = RepositoryRole::kNone;
  bool may_create = false;  // missing repositories only
};

// '-' none, 'r' read, 'w' write, 'a' admin; on a missing repository an
// upper-case letter also means "may create it", and 'C' means "may create,
// no role".
Expect Decode(char c) {
  switch (c) {
    case 'r':
      return {RepositoryRole::kRead, false};
    case 'w':
      return {RepositoryRole::kWrite, false};
    case 'a':
      return {RepositoryRole::kAdmin, false};
    case 'R':
      return {RepositoryRole::kRead, true};
    case 'W':
      return {RepositoryRole::kWrite, true};
    case 'A':
      return {RepositoryRole::kAdmin, true};
    case 'C':
      return {RepositoryRole::kNone, true};
    default:
      return {RepositoryRole::kNone, false};
  }
}

struct Fixture {
  TempDir dir;
  std::unique_ptr<IdentityService> full;   // FEATURE_SUPERUSERS_FULL_ACCESS on
  std::unique_ptr<IdentityService> plain;  // ... off (same database)
  std::string alice_app, alice_read, alice_admin, alice_write_create, dave_read, dave_user_read,
      sam_repo_admin, sam_super, olivia_repo, rita_no_super;

  Fixture() {
    Options options = FastIdentityOptions(dir.path());
    options.identity.super_users = {"sam"};
    options.identity.global_readonly_super_users = {"rita"};
    options.identity.superusers_full_access = true;
    full = OpenIdentity(options);
    options.identity.superusers_full_access = false;
    plain = OpenIdentity(options);

    IdentityService& id = *full;
    const Actor a = AdminActor();
    for (const char* u : {"alice", "bob", "carol", "dave", "erin", "zed", "olivia", "cathy", "mike",
                          "sam", "rita"}) {
      REQUIRE(id.CreateUser(a, u, std::string(u) + "@example.com", "pw-" + std::string(u)).ok());
    }
    REQUIRE(id.CreateOrganization(a, "acme", "acme@example.com", "olivia").ok());
    REQUIRE(id.CreateTeam(a, "acme", "builders", TeamRole::kCreator, "").ok());
    REQUIRE(id.CreateTeam(a, "acme", "readers", TeamRole::kMember, "").ok());
    REQUIRE(id.AddTeamMember(a, "acme", "builders", "cathy").ok());
    REQUIRE(id.AddTeamMember(a, "acme", "readers", "mike").ok());
    REQUIRE(id.CreateRobot(a, "acme", "ci", "").ok());
    REQUIRE(id.CreateRobot(a, "acme", "none", "").ok());
    REQUIRE(id.CreateRobot(a, "acme", "maker", "").ok());
    REQUIRE(id.AddTeamMember(a, "acme", "builders", "acme+maker").ok());
    REQUIRE(id.CreateRobot(a, "alice", "bot", "").ok());

    for (const char* repo : {"acme/private", "alice/private"}) {
      REQUIRE(id.CreateRepository(a, repo, Visibility::kPrivate, "").ok());
    }
    for (const char* repo : {"acme/public", "alice/public"}) {
      REQUIRE(id.CreateRepository(a, repo, Visibility::kPublic, "").ok());
    }
    for (const char* repo : {"acme/private", "alice/private"}) {
      REQUIRE(id.SetPermission(a, repo, Grantee::User("carol"), RepositoryRole::kRead).ok());
      REQUIRE(id.SetPermission(a, repo, Grantee::User("dave"), RepositoryRole::kWrite).ok());
      REQUIRE(id.SetPermission(a, repo, Grantee::User("erin"), RepositoryRole::kAdmin).ok());
    }
    REQUIRE(id.SetPermission(a, "acme/private", Grantee::User("zed"), RepositoryRole::kWrite).ok());
    REQUIRE(id.SetUserEnabled(a, "zed", false).ok());
    REQUIRE(
        id.SetPermission(a, "acme/private", Grantee::Team("readers"), RepositoryRole::kRead).ok());
    REQUIRE(id.SetPermission(a, "acme/private", Grantee::Robot("acme+ci"), RepositoryRole::kWrite)
                .ok());
    REQUIRE(id.SetPermission(a, "alice/private", Grantee::Robot("alice+bot"), RepositoryRole::kRead)
                .ok());

    alice_app = id.CreateAppToken(a, "alice", "cli")->secret;
    alice_read = Issue("alice", {Scope::kRepoRead});
    alice_admin = Issue("alice", {Scope::kRepoAdmin});
    alice_write_create = Issue("alice", {Scope::kRepoWrite, Scope::kRepoCreate});
    dave_read = Issue("dave", {Scope::kRepoRead});
    dave_user_read = Issue("dave", {Scope::kUserRead});
    sam_repo_admin = Issue("sam", {Scope::kRepoAdmin, Scope::kRepoCreate});
    sam_super = Issue("sam", {Scope::kRepoRead, Scope::kSuperUser});
    olivia_repo = Issue("olivia", {Scope::kRepoAdmin, Scope::kRepoCreate});
    rita_no_super = Issue("rita", {Scope::kRepoRead});
  }

  std::string Issue(const char* user, ScopeSet scopes) {
    auto t = full->IssueOAuthToken(AdminActor(), user, "app", scopes);
    REQUIRE(t.ok());
    return t->secret;
  }

  Principal OAuth(const std::string& secret) {
    auto p = full->AuthenticateOAuthToken(secret);
    REQUIRE(p.ok());
    return *p;
  }
};

Principal Ghost() { return Principal::User("ghost"); }

}  // namespace

TEST_CASE("authorizer: every principal x repository x action") {
  Fixture fx;
  struct Row {
    std::string label;
    Principal who;
    bool plain_service;  // ask the service without superuser full access
    bool valid;          // false: every refusal is Unauthenticated
    const char* roles;   // one letter per kRepos entry
  };
  const auto user = [](const char* n) { return Principal::User(n); };
  const std::vector<Row> rows = {
      {"anonymous", Principal::Anonymous(), false, true, "-r--r-"},
      {"namespace owner", user("alice"), false, true, "-r-aaA"},
      {"no grants", user("bob"), false, true, "-r--r-"},
      {"direct read", user("carol"), false, true, "rr-rr-"},
      {"direct write", user("dave"), false, true, "wr-wr-"},
      {"direct admin", user("erin"), false, true, "ar-ar-"},
      {"disabled user with a grant", user("zed"), false, false, "------"},
      {"unknown account", Ghost(), false, false, "------"},
      {"org admin team", user("olivia"), false, true, "aaA-r-"},
      {"creator team", user("cathy"), false, true, "-rC-r-"},
      {"member team with a team grant", user("mike"), false, true, "rr--r-"},
      {"robot with a grant", Principal::Robot("acme+ci"), false, true, "wr--r-"},
      {"robot without grants", Principal::Robot("acme+none"), false, true, "-r--r-"},
      {"robot in a creator team", Principal::Robot("acme+maker"), false, true, "-rC-r-"},
      {"robot of a user namespace", Principal::Robot("alice+bot"), false, true, "-r-rr-"},
      {"superuser, full access", user("sam"), false, true, "aaAaaA"},
      {"superuser, panel only", user("sam"), true, true, "-r--r-"},
      {"global read-only superuser", user("rita"), false, true, "rrrrrr"},
      {"app-specific token", *fx.full->AuthenticateAppToken(fx.alice_app), false, true, "-r-aaA"},
      {"oauth repo:read clamps the owner", fx.OAuth(fx.alice_read), false, true, "-r-rrr"},
      {"oauth repo:admin without repo:create", fx.OAuth(fx.alice_admin), false, true, "-r-aaa"},
      {"oauth repo:write + repo:create", fx.OAuth(fx.alice_write_create), false, true, "-r-wwW"},
      {"oauth repo:read caps a write grant", fx.OAuth(fx.dave_read), false, true, "rr-rr-"},
      {"oauth without repo scopes", fx.OAuth(fx.dave_user_read), false, true, "-r--r-"},
      {"oauth superuser without super:user", fx.OAuth(fx.sam_repo_admin), false, true, "-r--r-"},
      {"oauth superuser with super:user", fx.OAuth(fx.sam_super), false, true, "aaAaaA"},
      {"oauth org admin", fx.OAuth(fx.olivia_repo), false, true, "aaA-r-"},
      {"oauth read-only superuser without super:user", fx.OAuth(fx.rita_no_super), false, true,
       "-r--r-"},
  };

  for (const auto& row : rows) {
    IdentityService& service = row.plain_service ? *fx.plain : *fx.full;
    auto authorizer = service.authorizer();
    const bool anonymous = row.who.kind == Principal::Kind::kAnonymous;
    const Code refusal = anonymous || !row.valid ? Code::kUnauthenticated : Code::kDenied;
    for (size_t i = 0; i < kRepos.size(); ++i) {
      const Expect e = Decode(row.roles[i]);
      const std::string repo = kRepos[i];
      CAPTURE(row.label);
      CAPTURE(repo);
      const auto expect = [&](bool allowed) { return allowed ? Code::kOk : refusal; };
      CHECK(authorizer->Check(row.who, repo, Action::kPull).code() ==
            expect(e.role >= RepositoryRole::kRead));
      CHECK(authorizer->Check(row.who, repo, Action::kPush).code() ==
            expect(kExists[i] ? e.role >= RepositoryRole::kWrite : e.may_create));
      CHECK(authorizer->Check(row.who, repo, Action::kDelete).code() ==
            expect(e.role >= RepositoryRole::kWrite));
      CHECK(authorizer->Check(row.who, repo, Action::kAdmin).code() ==
            expect(e.role == RepositoryRole::kAdmin));
      if (!kExists[i]) {
        CHECK(authorizer
                  ->CheckNamespace(row.who, NamespaceOf(repo), NamespaceAction::kCreateRepository)
                  .code() == expect(e.may_create));
      }
      if (row.valid) {
        auto access = service.Access(row.who, repo);
        REQUIRE(access.ok());
        CHECK(access->exists == kExists[i]);
        CHECK(access->role == e.role);
        CHECK(access->may_create == e.may_create);
      }
    }
    // Registry-wide listing: anyone authenticated; anonymous only with a
    // public catalog (off here).
    CHECK(authorizer->Check(row.who, "", Action::kCatalog).code() ==
          (row.valid && !anonymous ? Code::kOk : refusal));
  }
}

TEST_CASE("authorizer: anonymous access and the public catalog follow the options") {
  TempDir dir;
  Options options = FastIdentityOptions(dir.path());
  {
    auto id = OpenIdentity(options);
    REQUIRE(id->CreateUser(AdminActor(), "alice", "", "pw").ok());
    REQUIRE(id->CreateRepository(AdminActor(), "alice/pub", Visibility::kPublic, "").ok());
  }
  options.identity.anonymous_access = false;
  auto closed = OpenIdentity(options);
  CHECK(closed->authorizer()->Check(Principal::Anonymous(), "alice/pub", Action::kPull).code() ==
        Code::kUnauthenticated);
  CHECK(closed->authorizer()->Check(Principal::User("alice"), "alice/pub", Action::kPull).ok());

  options.identity.anonymous_access = true;
  options.identity.public_catalog = true;
  auto open = OpenIdentity(options);
  CHECK(open->authorizer()->Check(Principal::Anonymous(), "", Action::kCatalog).ok());
  auto listing = open->ListVisibleRepositories(Principal::Anonymous(), 10, "");
  REQUIRE(listing.ok());
  CHECK(listing->names == std::vector<std::string>{"alice/pub"});
}

TEST_CASE("authorizer: namespace administration") {
  Fixture fx;
  auto authz = fx.full->authorizer();
  CHECK(authz->CheckNamespace(Principal::User("olivia"), "acme", NamespaceAction::kAdmin).ok());
  CHECK(authz->CheckNamespace(Principal::User("alice"), "alice", NamespaceAction::kAdmin).ok());
  CHECK(authz->CheckNamespace(Principal::User("cathy"), "acme", NamespaceAction::kAdmin).code() ==
        Code::kDenied);
  CHECK(authz->CheckNamespace(Principal::User("alice"), "acme", NamespaceAction::kAdmin).code() ==
        Code::kDenied);
  CHECK(authz->CheckNamespace(Principal::Anonymous(), "acme", NamespaceAction::kAdmin).code() ==
        Code::kUnauthenticated);
  CHECK(authz->CheckNamespace(Principal::User("sam"), "acme", NamespaceAction::kAdmin).ok());
  CHECK(fx.plain->authorizer()
            ->CheckNamespace(Principal::User("sam"), "acme", NamespaceAction::kAdmin)
            .code() == Code::kDenied);
  // org:admin is needed for org administration through an OAuth token.
  CHECK(authz->CheckNamespace(fx.OAuth(fx.olivia_repo), "acme", NamespaceAction::kAdmin).code() ==
        Code::kDenied);
  // AllowAll grants namespace actions too; an Authorizer that only knows
  // repositories grants none.
  CHECK(Authorizer::AllowAll()
            ->CheckNamespace(Principal::Anonymous(), "x", NamespaceAction::kAdmin)
            .ok());
}

TEST_CASE("authorizer: visible repositories follow the same rules") {
  Fixture fx;
  const auto names = [&](const Principal& who, IdentityService& s) {
    auto page = s.ListVisibleRepositories(who, 100, "");
    REQUIRE(page.ok());
    return page->names;
  };
  using V = std::vector<std::string>;
  CHECK(names(Principal::User("bob"), *fx.full) == V{"acme/public", "alice/public"});
  CHECK(names(Principal::User("carol"), *fx.full) ==
        V{"acme/private", "acme/public", "alice/private", "alice/public"});
  CHECK(names(Principal::User("alice"), *fx.full) ==
        V{"acme/public", "alice/private", "alice/public"});
  CHECK(names(Principal::User("olivia"), *fx.full) ==
        V{"acme/private", "acme/public", "alice/public"});
  CHECK(names(Principal::User("mike"), *fx.full) ==
        V{"acme/private", "acme/public", "alice/public"});
  CHECK(names(Principal::User("rita"), *fx.full) ==
        V{"acme/private", "acme/public", "alice/private", "alice/public"});
  CHECK(names(Principal::User("sam"), *fx.plain) == V{"acme/public", "alice/public"});
  CHECK(names(fx.OAuth(fx.dave_user_read), *fx.full) == V{"acme/public", "alice/public"});
  CHECK(fx.full->ListVisibleRepositories(Principal::Anonymous(), 10, "").status().code() ==
        Code::kUnauthenticated);
  // Paging.
  auto first = fx.full->ListVisibleRepositories(Principal::User("carol"), 3, "");
  REQUIRE(first.ok());
  CHECK(first->more);
  auto second = fx.full->ListVisibleRepositories(Principal::User("carol"), 3, first->names.back());
  REQUIRE(second.ok());
  CHECK(second->names == V{"alice/public"});
  CHECK_FALSE(second->more);
}

// Polls `condition` until it holds: another process's change is heard at
// the next epoch poll (every 10 ms), which no fixed sleep can promise on a
// loaded machine. The 10 s limit only ends a test that would never pass.
namespace {
bool Eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}
}  // namespace

// Decisions are cached (api/database_authorizer.h). A change made through
// this process is seen at once; one made by another process on the same
// database (here: a second service on the same files, as the quayd CLI is)
// within the epoch poll interval.
TEST_CASE("authorizer: cached decisions follow permission changes") {
  TempDir dir;
  Options options = FastIdentityOptions(dir.path());
  auto id = OpenIdentity(options);
  REQUIRE(id->CreateUser(AdminActor(), "alice", "", "pw").ok());
  REQUIRE(id->CreateUser(AdminActor(), "bob", "", "pw").ok());
  REQUIRE(id->CreateRepository(AdminActor(), "alice/app", Visibility::kPrivate, "").ok());
  auto authz = id->authorizer();
  const Principal bob = Principal::User("bob");

  // Twice each: the second answer comes from the cache and must agree.
  for (int i = 0; i < 2; ++i) {
    CHECK(authz->Check(bob, "alice/app", Action::kPull).code() == Code::kDenied);
  }
  const auto visible = [&] { return id->ListVisibleRepositories(bob, 10, "")->names; };
  for (int i = 0; i < 2; ++i) CHECK(visible().empty());
  QUAY_REQUIRE_OK(
      id->SetPermission(AdminActor(), "alice/app", Grantee::User("bob"), RepositoryRole::kRead));
  for (int i = 0; i < 2; ++i) CHECK(authz->Check(bob, "alice/app", Action::kPull).ok());
  for (int i = 0; i < 2; ++i) CHECK(visible() == std::vector<std::string>{"alice/app"});

  // Another process revokes: seen within the poll interval (10 ms).
  {
    auto other = OpenIdentity(options);
    QUAY_REQUIRE_OK(other->RemovePermission(AdminActor(), "alice/app", Grantee::User("bob")));
  }
  CHECK(Eventually(
      [&] { return authz->Check(bob, "alice/app", Action::kPull).code() == Code::kDenied; }));
  CHECK(visible().empty());

  // And grants again; also a visibility change (repository_settings).
  {
    auto other = OpenIdentity(options);
    QUAY_REQUIRE_OK(other->SetVisibility(AdminActor(), "alice/app", Visibility::kPublic));
  }
  // Anonymous has no cached decision to lose; bob's denial is cached until
  // the poll, so each is waited for.
  CHECK(Eventually(
      [&] { return authz->Check(Principal::Anonymous(), "alice/app", Action::kPull).ok(); }));
  CHECK(Eventually([&] { return authz->Check(bob, "alice/app", Action::kPull).ok(); }));
}

// Verified tokens are cached too (VerifyToken): revoking one here is seen by
// the next request, revoking or disabling from another process within the
// epoch poll interval (schema v7's token triggers; accounts had one).
TEST_CASE("authorizer: cached token verification follows revocation and disabling") {
  TempDir dir;
  Options options = FastIdentityOptions(dir.path());
  auto id = OpenIdentity(options);
  REQUIRE(id->CreateUser(AdminActor(), "alice", "", "pw").ok());
  auto scopes = ScopeSet{Scope::kRepoRead};
  auto first = id->IssueOAuthToken(AdminActor(), "alice", "ci", scopes);
  auto second = id->IssueOAuthToken(AdminActor(), "alice", "ci", scopes);
  auto app = id->CreateAppToken(AdminActor(), "alice", "laptop");
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  REQUIRE(app.ok());
  for (int i = 0; i < 2; ++i) {  // the second answer comes from the cache
    CHECK(id->AuthenticateOAuthToken(first->secret).ok());
    CHECK(id->AuthenticateOAuthToken(second->secret).ok());
    CHECK(id->AuthenticateAppToken(app->secret).ok());
  }
  // A wrong secret with a cached lookup part still fails.
  std::string tampered = first->secret;
  tampered.back() = tampered.back() == 'a' ? 'b' : 'a';
  CHECK(id->AuthenticateOAuthToken(tampered).status().code() == Code::kUnauthenticated);

  QUAY_REQUIRE_OK(id->RevokeOAuthToken(AdminActor(), first->token.id));
  CHECK(id->AuthenticateOAuthToken(first->secret).status().code() == Code::kUnauthenticated);
  CHECK(id->AuthenticateOAuthToken(second->secret).ok());

  {
    auto other = OpenIdentity(options);
    QUAY_REQUIRE_OK(other->RevokeOAuthToken(AdminActor(), second->token.id));
    QUAY_REQUIRE_OK(other->RevokeAppToken(AdminActor(), "alice", app->token.id));
  }
  CHECK(Eventually([&] {
    return id->AuthenticateOAuthToken(second->secret).status().code() == Code::kUnauthenticated;
  }));
  CHECK(id->AuthenticateAppToken(app->secret).status().code() == Code::kUnauthenticated);

  auto third = id->IssueOAuthToken(AdminActor(), "alice", "ci", scopes);
  REQUIRE(third.ok());
  CHECK(id->AuthenticateOAuthToken(third->secret).ok());
  {
    auto other = OpenIdentity(options);
    QUAY_REQUIRE_OK(other->SetUserEnabled(AdminActor(), "alice", false));
  }
  CHECK(Eventually([&] {
    return id->AuthenticateOAuthToken(third->secret).status().code() == Code::kUnauthenticated;
  }));
}

// Push-to-create and POST /api/v1/repository as the library decides them
// (Permissions::PushToCreate, CreateRepositoryAs), for every protocol: own
// namespace and an org's creator team may create; a plain member, another
// user and anonymous may not, and nothing is created for them.
TEST_CASE("push-to-create and authorized creation: who may create where") {
  auto id = OpenIdentity(FastIdentityOptions());
  const Actor admin = AdminActor();
  for (const char* u : {"alice", "bob", "carol"}) {
    REQUIRE(id->CreateUser(admin, u, std::string(u) + "@example.com", "pw").ok());
  }
  REQUIRE(id->CreateOrganization(admin, "acme", "acme@example.com", "alice").ok());
  REQUIRE(id->CreateTeam(admin, "acme", "builders", TeamRole::kCreator, "").ok());
  REQUIRE(id->AddTeamMember(admin, "acme", "builders", "bob").ok());
  REQUIRE(id->CreateTeam(admin, "acme", "readers", TeamRole::kMember, "").ok());
  REQUIRE(id->AddTeamMember(admin, "acme", "readers", "carol").ok());
  auto as = [](const char* user) {
    Actor a;
    a.principal = Principal::User(user);
    return a;
  };

  auto own = id->PushToCreate(as("alice"), "alice/app");
  REQUIRE(own.ok());
  CHECK(*own == PushTarget::kCreated);
  CHECK(id->GetRepository("alice/app")->visibility == Visibility::kPrivate);  // on-push default
  CHECK(*id->PushToCreate(as("alice"), "alice/app") == PushTarget::kExists);

  CHECK(*id->PushToCreate(as("bob"), "acme/tool") == PushTarget::kCreated);
  CHECK(*id->UserRoleOn("bob", "acme/tool") == RepositoryRole::kAdmin);  // the creator's grant
  CHECK(*id->PushToCreate(as("carol"), "acme/other") == PushTarget::kRefused);
  CHECK(*id->PushToCreate(as("carol"), "acme/tool") == PushTarget::kRefused);  // no write
  CHECK(*id->PushToCreate(as("bob"), "alice/mine") == PushTarget::kRefused);
  CHECK(*id->PushToCreate(Actor{}, "alice/anon") == PushTarget::kRefused);
  CHECK(*id->PushToCreate(as("alice"), "nosuchns/app") == PushTarget::kRefused);
  for (const char* name : {"acme/other", "alice/mine", "alice/anon", "nosuchns/app"}) {
    CHECK(id->GetRepository(name).status().IsNotFound());
  }
  CHECK(id->PushToCreate(as("alice"), "Bad/Name").status().code() == Code::kInvalidArgument);

  auto created = id->CreateRepositoryAs(as("bob"), "acme/api", Visibility::kPublic, "d");
  REQUIRE(created.ok());
  CHECK(created->visibility == Visibility::kPublic);
  CHECK(id->CreateRepositoryAs(as("carol"), "acme/nope", Visibility::kPublic, "").status().code() ==
        Code::kDenied);
  CHECK(id->CreateRepositoryAs(Actor{}, "acme/nope", Visibility::kPublic, "").status().code() ==
        Code::kUnauthenticated);
  CHECK(id->GetRepository("acme/nope").status().IsNotFound());
  CHECK(id->CreateRepositoryAs(as("bob"), "acme/api", Visibility::kPublic, "").status().code() ==
        Code::kConflict);
}
