// Accounts, robots, tokens, prototypes and repositories of IdentityService.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "auth/password.h"
#include "identity_test_support.h"
#include "test_database.h"

using namespace quay;
using quay::testing::AdminActor;
using quay::testing::FastIdentityOptions;
using quay::testing::OpenIdentity;
using quay::testing::TempDir;

TEST_CASE("passwords are argon2id hashes, salted, and only the right one verifies") {
  auto hash = auth::HashPassword("correct horse", PasswordHashCost::kMinimum);
  REQUIRE(hash.ok());
  CHECK(hash->rfind("$argon2id$", 0) == 0);
  CHECK(hash->find("correct horse") == std::string::npos);
  CHECK(auth::VerifyPassword(*hash, "correct horse"));
  CHECK_FALSE(auth::VerifyPassword(*hash, "correct horsE"));
  CHECK_FALSE(auth::VerifyPassword(*hash, ""));
  CHECK_FALSE(auth::VerifyPassword("not a hash", "correct horse"));
  auto again = auth::HashPassword("correct horse", PasswordHashCost::kMinimum);
  REQUIRE(again.ok());
  CHECK(*again != *hash);  // a fresh salt each time
}

TEST_CASE("user authentication: every failure looks the same") {
  auto id = OpenIdentity(FastIdentityOptions());
  const Actor a = AdminActor();
  REQUIRE(id->CreateUser(a, "alice", "alice@example.com", "s3cret").ok());

  auto ok = id->AuthenticateUser("alice", "s3cret");
  REQUIRE(ok.ok());
  CHECK(ok->kind == Principal::Kind::kUser);
  CHECK(ok->name == "alice");
  CHECK(ok->scopes == ScopeSet::All());

  const auto fails = [&](std::string_view u, std::string_view p) {
    auto r = id->AuthenticateUser(u, p);
    CHECK(r.status().code() == Code::kUnauthenticated);
    CHECK(r.status().message() == "invalid credentials");
  };
  fails("alice", "wrong");
  fails("nobody", "s3cret");
  fails("Not A Name", "s3cret");

  REQUIRE(id->SetUserEnabled(a, "alice", false).ok());
  fails("alice", "s3cret");
  REQUIRE(id->SetUserEnabled(a, "alice", true).ok());

  REQUIRE(id->SetPassword(a, "alice", "n3w").ok());
  fails("alice", "s3cret");
  CHECK(id->AuthenticateBasic("alice", "n3w").ok());
  CHECK(id->SetPassword(a, "nobody", "x").code() == Code::kNotFound);
}

TEST_CASE("account names: grammar, one name space for users, orgs and robots") {
  auto id = OpenIdentity(FastIdentityOptions());
  const Actor a = AdminActor();
  CHECK(id->CreateUser(a, "Alice", "", "pw").status().code() == Code::kInvalidArgument);
  CHECK(id->CreateUser(a, "a", "", "pw").status().code() == Code::kInvalidArgument);
  CHECK(id->CreateUser(a, "al--ice", "", "pw").status().code() == Code::kInvalidArgument);
  CHECK(id->CreateUser(a, "alice", "", "").status().code() == Code::kInvalidArgument);
  REQUIRE(id->CreateUser(a, "alice", "", "pw").ok());
  CHECK(id->CreateUser(a, "alice", "", "pw").status().code() == Code::kConflict);
  CHECK(id->CreateOrganization(a, "alice", "", "alice").status().code() == Code::kConflict);
  REQUIRE(id->CreateOrganization(a, "acme", "", "alice").ok());
  CHECK(id->CreateUser(a, "acme", "", "pw").status().code() == Code::kConflict);
  CHECK(id->GetUser("acme").status().code() == Code::kNotFound);
  CHECK(id->GetOrganization("acme").ok());

  // The creator owns the org through its "owners" admin team.
  auto teams = id->ListTeams("acme");
  REQUIRE(teams.ok());
  REQUIRE(teams->size() == 1);
  CHECK((*teams)[0].name == "owners");
  CHECK((*teams)[0].role == TeamRole::kAdmin);
  CHECK(*id->ListTeamMembers("acme", "owners") == std::vector<std::string>{"alice"});

  auto users = id->ListUsers(10, "");
  REQUIRE(users.ok());
  CHECK(users->names == std::vector<std::string>{"alice"});
}

TEST_CASE("teams: roles, members, robots of the org only") {
  auto id = OpenIdentity(FastIdentityOptions());
  const Actor a = AdminActor();
  REQUIRE(id->CreateUser(a, "olivia", "", "pw").ok());
  REQUIRE(id->CreateUser(a, "bob", "", "pw").ok());
  REQUIRE(id->CreateOrganization(a, "acme", "", "olivia").ok());
  REQUIRE(id->CreateOrganization(a, "other", "", "olivia").ok());
  REQUIRE(id->CreateTeam(a, "acme", "devs", TeamRole::kMember, "developers").ok());
  CHECK(id->CreateTeam(a, "acme", "devs", TeamRole::kMember, "").status().code() ==
        Code::kConflict);
  CHECK(id->CreateTeam(a, "bob", "devs", TeamRole::kMember, "").status().code() ==
        Code::kNotFound);  // bob is a user, not an org
  REQUIRE(id->AddTeamMember(a, "acme", "devs", "bob").ok());
  REQUIRE(id->AddTeamMember(a, "acme", "devs", "bob").ok());  // idempotent
  REQUIRE(id->CreateRobot(a, "other", "ci", "").ok());
  CHECK(id->AddTeamMember(a, "acme", "devs", "other+ci").code() == Code::kInvalidArgument);
  REQUIRE(id->CreateRobot(a, "acme", "ci", "").ok());
  REQUIRE(id->AddTeamMember(a, "acme", "devs", "acme+ci").ok());
  CHECK(*id->ListTeamMembers("acme", "devs") == std::vector<std::string>{"acme+ci", "bob"});
  REQUIRE(id->SetTeamRole(a, "acme", "devs", TeamRole::kCreator).ok());
  CHECK(id->authorizer()
            ->CheckNamespace(Principal::User("bob"), "acme", NamespaceAction::kCreateRepository)
            .ok());
  REQUIRE(id->RemoveTeamMember(a, "acme", "devs", "bob").ok());
  CHECK(id->RemoveTeamMember(a, "acme", "devs", "bob").code() == Code::kNotFound);
  CHECK(id->authorizer()
            ->CheckNamespace(Principal::User("bob"), "acme", NamespaceAction::kCreateRepository)
            .code() == Code::kDenied);
  REQUIRE(id->DeleteTeam(a, "acme", "devs").ok());
  CHECK(id->ListTeamMembers("acme", "devs").status().code() == Code::kNotFound);
}

TEST_CASE("robot tokens: random, shown once, regenerating invalidates the old one") {
  auto id = OpenIdentity(FastIdentityOptions());
  const Actor a = AdminActor();
  REQUIRE(id->CreateUser(a, "alice", "", "pw").ok());
  auto robot = id->CreateRobot(a, "alice", "deploy", "deploys things");
  REQUIRE(robot.ok());
  CHECK(robot->robot.name == "alice+deploy");
  CHECK(robot->robot.namespace_name == "alice");
  CHECK(robot->token.size() == 64);
  CHECK(id->CreateRobot(a, "alice", "deploy", "").status().code() == Code::kConflict);
  CHECK(id->CreateRobot(a, "nobody", "deploy", "").status().code() == Code::kNotFound);

  auto p = id->AuthenticateBasic("alice+deploy", robot->token);
  REQUIRE(p.ok());
  CHECK(p->kind == Principal::Kind::kRobot);
  CHECK(p->name == "alice+deploy");
  CHECK(id->AuthenticateRobot("alice+deploy", "wrong").status().code() == Code::kUnauthenticated);

  auto fresh = id->RegenerateRobotToken(a, "alice+deploy");
  REQUIRE(fresh.ok());
  CHECK(fresh->token != robot->token);
  CHECK(id->AuthenticateRobot("alice+deploy", robot->token).status().code() ==
        Code::kUnauthenticated);
  CHECK(id->AuthenticateRobot("alice+deploy", fresh->token).ok());

  // A robot stops working when its owner is disabled, and goes with it.
  REQUIRE(id->SetUserEnabled(a, "alice", false).ok());
  CHECK(id->AuthenticateRobot("alice+deploy", fresh->token).status().code() ==
        Code::kUnauthenticated);
  REQUIRE(id->SetUserEnabled(a, "alice", true).ok());
  auto robots = id->ListRobots("alice");
  REQUIRE(robots.ok());
  CHECK(robots->size() == 1);
  REQUIRE(id->DeleteUser(a, "alice").ok());
  CHECK(id->GetRobot("alice+deploy").status().code() == Code::kNotFound);
  CHECK(id->AuthenticateRobot("alice+deploy", fresh->token).status().code() ==
        Code::kUnauthenticated);
}

TEST_CASE("app-specific tokens: verify, use as a password, expire, revoke") {
  auto clock = std::make_shared<ManualClock>();
  Options options = FastIdentityOptions();
  options.clock = clock;
  options.identity.app_token_lifetime = std::chrono::hours(24);
  auto id = OpenIdentity(options);
  const Actor a = AdminActor();
  REQUIRE(id->CreateUser(a, "alice", "", "pw").ok());
  REQUIRE(id->CreateUser(a, "bob", "", "pw").ok());
  auto token = id->CreateAppToken(a, "alice", "laptop");
  REQUIRE(token.ok());
  CHECK(token->secret.rfind("qapp_", 0) == 0);
  CHECK(token->token.title == "laptop");
  REQUIRE(token->token.expires_at.has_value());

  auto p = id->AuthenticateBasic("$app", token->secret);
  REQUIRE(p.ok());
  CHECK(p->kind == Principal::Kind::kToken);
  CHECK(p->token_kind == Principal::TokenKind::kAppSpecific);
  CHECK(p->name == "alice");
  CHECK(p->token_id == token->token.id);
  CHECK(p->scopes == ScopeSet::All());
  CHECK(id->AuthenticateBasic("alice", token->secret).ok());  // as the user's password
  CHECK(id->AuthenticateBasic("bob", token->secret).status().code() == Code::kUnauthenticated);

  // Tampering with the secret part, or with the lookup part, fails.
  std::string tampered = token->secret;
  tampered.back() = tampered.back() == 'a' ? 'b' : 'a';
  CHECK(id->AuthenticateAppToken(tampered).status().code() == Code::kUnauthenticated);
  tampered = token->secret;
  tampered[6] = tampered[6] == 'a' ? 'b' : 'a';
  CHECK(id->AuthenticateAppToken(tampered).status().code() == Code::kUnauthenticated);
  CHECK(id->AuthenticateAppToken("").status().code() == Code::kUnauthenticated);

  auto listed = id->ListAppTokens("alice");
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK((*listed)[0].last_used_at.has_value());

  clock->Advance(std::chrono::hours(25));
  CHECK(id->AuthenticateAppToken(token->secret).status().code() == Code::kUnauthenticated);

  auto second = id->CreateAppToken(a, "alice", "ci");
  REQUIRE(second.ok());
  CHECK(id->RevokeAppToken(a, "bob", second->token.id).code() == Code::kNotFound);
  REQUIRE(id->RevokeAppToken(a, "alice", second->token.id).ok());
  CHECK(id->AuthenticateAppToken(second->secret).status().code() == Code::kUnauthenticated);
  CHECK(id->RevokeAppToken(a, "alice", second->token.id).code() == Code::kNotFound);
}

TEST_CASE("oauth tokens: scopes travel with the principal; revoke and expiry end them") {
  auto clock = std::make_shared<ManualClock>();
  Options options = FastIdentityOptions();
  options.clock = clock;
  options.identity.oauth_token_lifetime = std::chrono::hours(1);
  auto id = OpenIdentity(options);
  const Actor a = AdminActor();
  REQUIRE(id->CreateUser(a, "alice", "", "pw").ok());
  CHECK(id->IssueOAuthToken(a, "alice", "ci", ScopeSet()).status().code() ==
        Code::kInvalidArgument);
  auto scopes = ScopeSet::Parse("repo:read, repo:create");
  REQUIRE(scopes.ok());
  auto token = id->IssueOAuthToken(a, "alice", "ci", *scopes);
  REQUIRE(token.ok());
  CHECK(token->secret.rfind("qoat_", 0) == 0);

  auto p = id->AuthenticateBasic("$oauthtoken", token->secret);
  REQUIRE(p.ok());
  CHECK(p->token_kind == Principal::TokenKind::kOAuth);
  CHECK(p->scopes == ScopeSet{Scope::kRepoRead, Scope::kRepoCreate});
  CHECK(p->scopes.ToString() == "repo:read repo:create");
  // An app-token-shaped check of an OAuth token fails (separate tables).
  CHECK(id->AuthenticateAppToken(token->secret).status().code() == Code::kUnauthenticated);

  auto listed = id->ListOAuthTokens("alice");
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK((*listed)[0].application == "ci");

  REQUIRE(id->RevokeOAuthToken(a, token->token.id).ok());
  CHECK(id->AuthenticateOAuthToken(token->secret).status().code() == Code::kUnauthenticated);

  auto short_lived = id->IssueOAuthToken(a, "alice", "ci", ScopeSet{Scope::kRepoRead});
  REQUIRE(short_lived.ok());
  CHECK(id->AuthenticateOAuthToken(short_lived->secret).ok());
  clock->Advance(std::chrono::minutes(61));
  CHECK(id->AuthenticateOAuthToken(short_lived->secret).status().code() == Code::kUnauthenticated);

  CHECK(ScopeSet::Parse("repo:read bogus").status().code() == Code::kInvalidArgument);
}

TEST_CASE("default permissions (prototypes) are applied when a repository is created") {
  auto id = OpenIdentity(FastIdentityOptions());
  const Actor a = AdminActor();
  for (const char* u : {"olivia", "cathy", "dave"}) REQUIRE(id->CreateUser(a, u, "", "pw").ok());
  REQUIRE(id->CreateOrganization(a, "acme", "", "olivia").ok());
  REQUIRE(id->CreateTeam(a, "acme", "readers", TeamRole::kMember, "").ok());
  REQUIRE(id->CreateTeam(a, "acme", "builders", TeamRole::kCreator, "").ok());
  REQUIRE(id->AddTeamMember(a, "acme", "builders", "cathy").ok());
  REQUIRE(id->CreateRobot(a, "acme", "ci", "").ok());

  auto everyone =
      id->CreatePrototype(a, "acme", std::nullopt, Grantee::Team("readers"), RepositoryRole::kRead);
  REQUIRE(everyone.ok());
  auto robot = id->CreatePrototype(a, "acme", std::nullopt, Grantee::Robot("acme+ci"),
                                   RepositoryRole::kWrite);
  REQUIRE(robot.ok());
  auto when_cathy = id->CreatePrototype(a, "acme", std::string("cathy"), Grantee::User("dave"),
                                        RepositoryRole::kWrite);
  REQUIRE(when_cathy.ok());
  CHECK(id->CreatePrototype(a, "acme", std::nullopt, Grantee::Team("nope"), RepositoryRole::kRead)
            .status()
            .code() == Code::kNotFound);
  CHECK(id->ListPrototypes("acme")->size() == 3);

  Actor as_cathy = a;
  as_cathy.principal = Principal::User("cathy");
  REQUIRE(id->CreateRepository(as_cathy, "acme/app", Visibility::kPrivate, "").ok());
  auto perms = id->ListPermissions("acme/app");
  REQUIRE(perms.ok());
  std::vector<std::pair<std::string, RepositoryRole>> got;
  for (const auto& p : *perms) got.emplace_back(p.grantee.name, p.role);
  CHECK(got == std::vector<std::pair<std::string, RepositoryRole>>{
                   {"acme+ci", RepositoryRole::kWrite},
                   {"cathy", RepositoryRole::kAdmin},  // the creator administers it
                   {"dave", RepositoryRole::kWrite},
                   {"readers", RepositoryRole::kRead}});
  CHECK(id->authorizer()->Check(Principal::User("cathy"), "acme/app", Action::kPush).ok());

  Actor as_olivia = a;
  as_olivia.principal = Principal::User("olivia");
  REQUIRE(id->CreateRepository(as_olivia, "acme/other", Visibility::kPrivate, "").ok());
  perms = id->ListPermissions("acme/other");
  REQUIRE(perms.ok());
  got.clear();
  for (const auto& p : *perms) got.emplace_back(p.grantee.name, p.role);
  CHECK(got ==
        std::vector<std::pair<std::string, RepositoryRole>>{{"acme+ci", RepositoryRole::kWrite},
                                                            {"olivia", RepositoryRole::kAdmin},
                                                            {"readers", RepositoryRole::kRead}});

  REQUIRE(id->DeletePrototype(a, "acme", everyone->id).ok());
  CHECK(id->DeletePrototype(a, "acme", everyone->id).code() == Code::kNotFound);
  REQUIRE(id->CreateRepository(as_olivia, "acme/third", Visibility::kPrivate, "").ok());
  CHECK(id->ListPermissions("acme/third")->size() == 2);
}

TEST_CASE("repositories: create, visibility, description, permissions") {
  auto id = OpenIdentity(FastIdentityOptions());
  const Actor a = AdminActor();
  REQUIRE(id->CreateUser(a, "alice", "", "pw").ok());
  REQUIRE(id->CreateUser(a, "bob", "", "pw").ok());
  CHECK(id->CreateRepository(a, "noslash", Visibility::kPrivate, "").status().code() ==
        Code::kInvalidArgument);
  CHECK(id->CreateRepository(a, "ghost/app", Visibility::kPrivate, "").status().code() ==
        Code::kNotFound);
  CHECK(id->CreateRepository(a, "alice/Bad", Visibility::kPrivate, "").status().code() ==
        Code::kInvalidArgument);
  auto repo = id->CreateRepository(a, "alice/app", Visibility::kPrivate, "my app");
  REQUIRE(repo.ok());
  CHECK(repo->namespace_name == "alice");
  CHECK(repo->description == "my app");
  CHECK(id->CreateRepository(a, "alice/app", Visibility::kPrivate, "").status().code() ==
        Code::kConflict);
  CHECK(id->authorizer()->Check(Principal::User("bob"), "alice/app", Action::kPull).code() ==
        Code::kDenied);
  REQUIRE(id->SetVisibility(a, "alice/app", Visibility::kPublic).ok());
  CHECK(id->authorizer()->Check(Principal::User("bob"), "alice/app", Action::kPull).ok());
  CHECK(id->authorizer()->Check(Principal::Anonymous(), "alice/app", Action::kPull).ok());
  REQUIRE(id->SetDescription(a, "alice/app", "new words").ok());
  auto got = id->GetRepository("alice/app");
  REQUIRE(got.ok());
  CHECK(got->visibility == Visibility::kPublic);
  CHECK(got->description == "new words");

  REQUIRE(id->SetPermission(a, "alice/app", Grantee::User("bob"), RepositoryRole::kRead).ok());
  REQUIRE(id->SetPermission(a, "alice/app", Grantee::User("bob"), RepositoryRole::kWrite).ok());
  CHECK(id->authorizer()->Check(Principal::User("bob"), "alice/app", Action::kPush).ok());
  CHECK(id->SetPermission(a, "alice/app", Grantee::Team("devs"), RepositoryRole::kRead).code() ==
        Code::kNotFound);  // a user namespace has no teams
  CHECK(id->SetPermission(a, "alice/nope", Grantee::User("bob"), RepositoryRole::kRead).code() ==
        Code::kNotFound);
  REQUIRE(id->RemovePermission(a, "alice/app", Grantee::User("bob")).ok());
  CHECK(id->RemovePermission(a, "alice/app", Grantee::User("bob")).code() == Code::kNotFound);
  CHECK(id->authorizer()->Check(Principal::User("bob"), "alice/app", Action::kPush).code() ==
        Code::kDenied);
}

TEST_CASE("on a registry's database: push-to-create adopts, deletion cascades") {
  Options options = FastIdentityOptions();  // in memory: only sharing makes this work
  auto registry = Registry::Open(quay::testing::WithTestDatabase(options));
  REQUIRE(registry.ok());
  auto opened = IdentityService::Open(options, **registry);
  REQUIRE(opened.ok());
  auto& id = **opened;
  const Actor a = AdminActor();
  REQUIRE(id.CreateUser(a, "alice", "", "pw").ok());
  REQUIRE(id.CreateUser(a, "bob", "", "pw").ok());

  // Bob may not create in alice's namespace; alice may.
  auto authz = id.authorizer();
  CHECK(authz->Check(Principal::User("bob"), "alice/app", Action::kPush).code() == Code::kDenied);
  CHECK(authz->Check(Principal::User("alice"), "alice/app", Action::kPush).ok());

  // A push through the Registry alone creates the row; the identity layer
  // sees it as a private repository, then adopts it.
  quay::testing::PushImage(**registry, "alice/app", "seed", "v1");
  auto info = id.GetRepository("alice/app");
  REQUIRE(info.ok());
  CHECK(info->visibility == Visibility::kPrivate);
  CHECK(authz->Check(Principal::User("bob"), "alice/app", Action::kPull).code() == Code::kDenied);
  Actor as_alice = a;
  as_alice.principal = Principal::User("alice");
  auto created = id.EnsureRepository(as_alice, "alice/app");
  REQUIRE(created.ok());
  CHECK(*created);
  created = id.EnsureRepository(as_alice, "alice/app");
  REQUIRE(created.ok());
  CHECK_FALSE(*created);
  REQUIRE(id.SetPermission(a, "alice/app", Grantee::User("bob"), RepositoryRole::kRead).ok());
  CHECK(authz->Check(Principal::User("bob"), "alice/app", Action::kPull).ok());

  // Deleting the repository in the Registry removes its grants with it.
  REQUIRE((*registry)->DeleteRepository("alice/app").ok());
  CHECK(id.GetRepository("alice/app").status().code() == Code::kNotFound);
  CHECK(authz->Check(Principal::User("bob"), "alice/app", Action::kPull).code() == Code::kDenied);

  // EnsureRepository creates one that does not exist at all.
  created = id.EnsureRepository(as_alice, "alice/new");
  REQUIRE(created.ok());
  CHECK(*created);
  CHECK(*(*registry)->RepositoryExists("alice/new"));
}

TEST_CASE("deleting a user removes its tokens, grants and memberships") {
  auto id = OpenIdentity(FastIdentityOptions());
  const Actor a = AdminActor();
  REQUIRE(id->CreateUser(a, "alice", "", "pw").ok());
  REQUIRE(id->CreateUser(a, "bob", "", "pw").ok());
  REQUIRE(id->CreateOrganization(a, "acme", "", "alice").ok());
  REQUIRE(id->AddTeamMember(a, "acme", "owners", "bob").ok());
  REQUIRE(id->CreateRepository(a, "alice/app", Visibility::kPrivate, "").ok());
  REQUIRE(id->SetPermission(a, "alice/app", Grantee::User("bob"), RepositoryRole::kWrite).ok());
  auto token = id->CreateAppToken(a, "bob", "t");
  REQUIRE(token.ok());
  REQUIRE(id->DeleteUser(a, "bob").ok());
  CHECK(id->AuthenticateAppToken(token->secret).status().code() == Code::kUnauthenticated);
  CHECK(id->ListPermissions("alice/app")->empty());
  CHECK(*id->ListTeamMembers("acme", "owners") == std::vector<std::string>{"alice"});
  // A principal for the deleted account is refused as unauthenticated.
  CHECK(id->authorizer()->Check(Principal::User("bob"), "alice/app", Action::kPull).code() ==
        Code::kUnauthenticated);
  REQUIRE(id->DeleteOrganization(a, "acme").ok());
  CHECK(id->GetOrganization("acme").status().code() == Code::kNotFound);
}

namespace {

Actor As(Principal who) {
  Actor actor = AdminActor();
  actor.principal = std::move(who);
  return actor;
}

Principal OAuthPrincipal(std::string user, ScopeSet scopes) {
  Principal p;
  p.kind = Principal::Kind::kToken;
  p.name = std::move(user);
  p.token_kind = Principal::TokenKind::kOAuth;
  p.token_id = "tok";
  p.scopes = scopes;
  return p;
}

}  // namespace

TEST_CASE("CREATE_NAMESPACE_ON_PUSH off: a push into a missing namespace is refused") {
  auto id = OpenIdentity(FastIdentityOptions());
  REQUIRE(id->CreateUser(AdminActor(), "alice", "", "pw").ok());
  const Principal alice = Principal::User("alice");
  CHECK(id->authorizer()->Check(alice, "neworg/app", Action::kPush).code() == Code::kDenied);
  CHECK_FALSE(id->Access(alice, "neworg/app")->may_create);
  CHECK(id->EnsureRepository(As(alice), "neworg/app").status().code() == Code::kNotFound);
  CHECK(id->GetOrganization("neworg").status().code() == Code::kNotFound);
}

TEST_CASE("CREATE_NAMESPACE_ON_PUSH: the pusher's organization, then the repository") {
  Options options = FastIdentityOptions();
  options.identity.create_namespace_on_push = true;
  auto id = OpenIdentity(options);
  const Actor admin = AdminActor();
  REQUIRE(id->CreateUser(admin, "alice", "", "pw").ok());
  REQUIRE(id->CreateUser(admin, "bob", "", "pw").ok());
  REQUIRE(id->CreateRobot(admin, "alice", "ci", "").ok());
  auto authz = id->authorizer();
  const Principal alice = Principal::User("alice");

  // Robots and anonymous principals never create namespaces.
  const Principal robot = Principal::Robot("alice+ci");
  CHECK(authz->Check(robot, "robotns/app", Action::kPush).code() == Code::kDenied);
  CHECK(id->EnsureRepository(As(robot), "robotns/app").status().code() == Code::kNotFound);
  CHECK(authz->Check(Principal::Anonymous(), "anonns/app", Action::kPush).code() ==
        Code::kUnauthenticated);
  CHECK(id->EnsureRepository(As(Principal::Anonymous()), "anonns/app").status().code() ==
        Code::kNotFound);
  CHECK(id->GetOrganization("robotns").status().code() == Code::kNotFound);
  CHECK(id->GetOrganization("anonns").status().code() == Code::kNotFound);
  // Nor does an OAuth token without repo:create, nor a name no account may have.
  const Principal read_write = OAuthPrincipal("alice", {Scope::kRepoRead, Scope::kRepoWrite});
  CHECK(authz->Check(read_write, "tokenns/app", Action::kPush).code() == Code::kDenied);
  CHECK(authz->Check(alice, "x/app", Action::kPush).code() == Code::kDenied);  // too short

  // A user may: the org is created owned by the pusher, then the repository.
  CHECK(authz->Check(alice, "neworg/app", Action::kPush).ok());
  CHECK(id->Access(alice, "neworg/app")->may_create);
  auto created = id->EnsureRepository(As(alice), "neworg/app");
  REQUIRE_MESSAGE(created.ok(), created.status().ToString());
  CHECK(*created);
  REQUIRE(id->GetOrganization("neworg").ok());
  CHECK(*id->ListTeamMembers("neworg", "owners") == std::vector<std::string>{"alice"});
  auto teams = id->ListTeams("neworg");
  REQUIRE(teams.ok());
  REQUIRE(teams->size() == 1);
  CHECK((*teams)[0].role == TeamRole::kAdmin);
  auto repo = id->GetRepository("neworg/app");
  REQUIRE(repo.ok());
  CHECK(repo->visibility == Visibility::kPrivate);
  // Alice administers the org: pushes and creates more repositories there.
  CHECK(authz->Check(alice, "neworg/app", Action::kAdmin).ok());
  CHECK(authz->CheckNamespace(alice, "neworg", NamespaceAction::kAdmin).ok());
  CHECK(authz->Check(alice, "neworg/second", Action::kPush).ok());
  // Bob has no role in alice's new org: no push, no repository of his.
  CHECK(authz->Check(Principal::User("bob"), "neworg/app", Action::kPush).code() == Code::kDenied);
  CHECK(authz->Check(Principal::User("bob"), "neworg/bobs", Action::kPush).code() == Code::kDenied);

  // Audit: org_create then create_repo, both by alice.
  AuditQuery q;
  q.performer = "alice";
  auto page = id->audit().Query(q);
  REQUIRE(page.ok());
  REQUIRE(page->events.size() == 2);
  CHECK(page->events[1].kind == "org_create");
  CHECK(page->events[1].namespace_name == "neworg");
  CHECK(page->events[1].metadata.find("\"namespace\":\"neworg\"") != std::string::npos);
  CHECK(page->events[0].kind == "create_repo");
  CHECK(page->events[0].repository == "neworg/app");

  // An OAuth token with repo:create acts for its user.
  const Principal creator = OAuthPrincipal("bob", {Scope::kRepoRead, Scope::kRepoCreate});
  CHECK(authz->Check(creator, "bobsorg/app", Action::kPush).ok());
  REQUIRE(id->EnsureRepository(As(creator), "bobsorg/app").ok());
  CHECK(*id->ListTeamMembers("bobsorg", "owners") == std::vector<std::string>{"bob"});
}

TEST_CASE("CREATE_NAMESPACE_ON_PUSH: a namespace taken between check and create is not joined") {
  Options options = FastIdentityOptions();
  options.identity.create_namespace_on_push = true;
  auto id = OpenIdentity(options);
  const Actor admin = AdminActor();
  REQUIRE(id->CreateUser(admin, "alice", "", "pw").ok());
  REQUIRE(id->CreateUser(admin, "bob", "", "pw").ok());
  const Principal alice = Principal::User("alice");
  // The host asked while the namespace was missing...
  REQUIRE(id->authorizer()->Check(alice, "racy/app", Action::kPush).ok());
  // ...then bob's push created it first.
  REQUIRE(id->EnsureRepository(As(Principal::User("bob")), "racy/bobs").ok());
  // Alice gets no repository in bob's org, and no membership in it.
  CHECK(id->EnsureRepository(As(alice), "racy/app").status().code() == Code::kDenied);
  CHECK(id->GetRepository("racy/app").status().code() == Code::kNotFound);
  CHECK(*id->ListTeamMembers("racy", "owners") == std::vector<std::string>{"bob"});
}
