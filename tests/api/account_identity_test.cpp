// An account's uuid (schema v9) and Accounts::CheckCurrent: a credential
// names its account by an identifier that no account re-created under the
// same name inherits, and a principal stops being current the moment its
// account, or its app-specific or OAuth token, goes.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <thread>

#include "api/new_identity_service.h"
#include "db/connection.h"
#include "identity_test_support.h"
#include "test_database.h"

using namespace quay;
using quay::testing::AdminActor;
using quay::testing::FastIdentityOptions;
using quay::testing::OpenIdentity;
using quay::testing::TempDir;

namespace {

bool IsHexUuid(const std::string& s) {
  return s.size() == 32 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

Principal LoggedIn(IdentityService& id, std::string_view user, std::string_view password) {
  auto p = id.AuthenticateUser(user, password);
  REQUIRE(p.ok());
  return *p;
}

}  // namespace

TEST_CASE("account uuid: a re-created account never inherits it, even at the same instant") {
  // The clock never moves: nothing time-derived can tell the accounts apart.
  auto clock = std::make_shared<ManualClock>();
  Options options = FastIdentityOptions();
  options.clock = clock;
  auto id = OpenIdentity(options);
  const Actor a = AdminActor();
  std::set<std::string> seen;
  Principal first;
  for (int round = 0; round < 20; ++round) {
    CAPTURE(round);
    REQUIRE(id->CreateUser(a, "alice", "", "pw").ok());
    Principal p = LoggedIn(*id, "alice", "pw");
    CHECK(IsHexUuid(p.account_uuid));
    CHECK(seen.insert(p.account_uuid).second);
    CHECK(id->CheckCurrent(p).ok());
    if (round == 0) first = p;
    if (round > 0) {
      // The first alice's principal does not speak for this alice.
      CHECK(id->CheckCurrent(first).code() == Code::kUnauthenticated);
    }
    // Deleted as the newest row: SQLite hands its row id to the next
    // insert, but not its uuid.
    REQUIRE(id->DeleteUser(a, "alice").ok());
    CHECK(id->CheckCurrent(p).code() == Code::kUnauthenticated);
  }
}

TEST_CASE("CheckCurrent: users - deleted, disabled, converted, and principals without a uuid") {
  auto id = OpenIdentity(FastIdentityOptions());
  const Actor a = AdminActor();
  REQUIRE(id->CreateUser(a, "alice", "", "pw").ok());
  Principal p = LoggedIn(*id, "alice", "pw");
  CHECK(id->CheckCurrent(p).ok());
  CHECK(id->CheckCurrent(Principal::Anonymous()).ok());

  // Built by name (no uuid), as a token issued before schema v9 would be.
  CHECK(id->CheckCurrent(Principal::User("alice")).code() == Code::kUnauthenticated);
  // The right uuid under another kind is not the same account.
  Principal as_robot = p;
  as_robot.kind = Principal::Kind::kRobot;
  CHECK(id->CheckCurrent(as_robot).code() == Code::kUnauthenticated);

  REQUIRE(id->SetUserEnabled(a, "alice", false).ok());
  CHECK(id->CheckCurrent(p).code() == Code::kUnauthenticated);
  REQUIRE(id->SetUserEnabled(a, "alice", true).ok());
  CHECK(id->CheckCurrent(p).ok());  // the same account, usable again

  REQUIRE(id->DeleteUser(a, "alice").ok());
  CHECK(id->CheckCurrent(p).code() == Code::kUnauthenticated);
}

TEST_CASE("CheckCurrent: a robot re-created under the same name is another robot") {
  auto id = OpenIdentity(FastIdentityOptions());
  const Actor a = AdminActor();
  REQUIRE(id->CreateUser(a, "alice", "", "pw").ok());
  auto robot = id->CreateRobot(a, "alice", "ci", "");
  REQUIRE(robot.ok());
  auto old_robot = id->AuthenticateRobot("alice+ci", robot->token);
  REQUIRE(old_robot.ok());
  CHECK(IsHexUuid(old_robot->account_uuid));
  CHECK(id->CheckCurrent(*old_robot).ok());

  // Its owner disabled: the robot is not usable either.
  REQUIRE(id->SetUserEnabled(a, "alice", false).ok());
  CHECK(id->CheckCurrent(*old_robot).code() == Code::kUnauthenticated);
  REQUIRE(id->SetUserEnabled(a, "alice", true).ok());
  CHECK(id->CheckCurrent(*old_robot).ok());

  REQUIRE(id->DeleteRobot(a, "alice+ci").ok());
  CHECK(id->CheckCurrent(*old_robot).code() == Code::kUnauthenticated);
  auto again = id->CreateRobot(a, "alice", "ci", "");
  REQUIRE(again.ok());
  auto new_robot = id->AuthenticateRobot("alice+ci", again->token);
  REQUIRE(new_robot.ok());
  CHECK(new_robot->account_uuid != old_robot->account_uuid);
  CHECK(id->CheckCurrent(*new_robot).ok());
  CHECK(id->CheckCurrent(*old_robot).code() == Code::kUnauthenticated);
}

TEST_CASE("CheckCurrent: app-specific and OAuth tokens - revoked or expired at once") {
  auto clock = std::make_shared<ManualClock>();
  Options options = FastIdentityOptions();
  options.clock = clock;
  options.identity.app_token_lifetime = std::chrono::hours(24);
  auto id = OpenIdentity(options);
  const Actor a = AdminActor();
  REQUIRE(id->CreateUser(a, "alice", "", "pw").ok());
  const Principal user = LoggedIn(*id, "alice", "pw");

  auto app = id->CreateAppToken(a, "alice", "laptop");
  REQUIRE(app.ok());
  auto by_app = id->AuthenticateBasic("$app", app->secret);
  REQUIRE(by_app.ok());
  CHECK(by_app->kind == Principal::Kind::kToken);
  CHECK(by_app->account_uuid == user.account_uuid);  // the owner's
  CHECK(id->CheckCurrent(*by_app).ok());
  Principal forged = *by_app;
  forged.token_id = "not-a-token";
  CHECK(id->CheckCurrent(forged).code() == Code::kUnauthenticated);

  // Expiry: the token row is still there, but no longer speaks for alice.
  auto other = id->CreateAppToken(a, "alice", "desktop");
  REQUIRE(other.ok());
  auto by_other = id->AuthenticateBasic("$app", other->secret);
  REQUIRE(by_other.ok());
  REQUIRE(id->RevokeAppToken(a, "alice", app->token.id).ok());
  CHECK(id->CheckCurrent(*by_app).code() == Code::kUnauthenticated);
  CHECK(id->CheckCurrent(*by_other).ok());
  clock->Advance(std::chrono::hours(24));
  CHECK(id->CheckCurrent(*by_other).code() == Code::kUnauthenticated);

  auto oauth = id->IssueOAuthToken(a, "alice", "ci-app", {Scope::kRepoRead});
  REQUIRE(oauth.ok());
  auto by_oauth = id->AuthenticateOAuthToken(oauth->secret);
  REQUIRE(by_oauth.ok());
  CHECK(by_oauth->account_uuid == user.account_uuid);
  CHECK(id->CheckCurrent(*by_oauth).ok());
  REQUIRE(id->RevokeOAuthToken(a, oauth->token.id).ok());
  CHECK(id->CheckCurrent(*by_oauth).code() == Code::kUnauthenticated);

  // A token principal of a deleted owner, token row and all.
  auto third = id->CreateAppToken(a, "alice", "phone");
  REQUIRE(third.ok());
  auto by_third = id->AuthenticateBasic("$app", third->secret);
  REQUIRE(by_third.ok());
  REQUIRE(id->DeleteUser(a, "alice").ok());
  CHECK(id->CheckCurrent(*by_third).code() == Code::kUnauthenticated);
}

TEST_CASE("CheckCurrent sees another process's deletion within the change_epoch poll") {
  TempDir dir;
  Options options = FastIdentityOptions(dir.path());
  auto server = OpenIdentity(options);
  auto cli = OpenIdentity(options);
  const Actor a = AdminActor();
  REQUIRE(server->CreateUser(a, "alice", "", "pw").ok());
  auto app = server->CreateAppToken(a, "alice", "laptop");
  REQUIRE(app.ok());
  auto by_app = server->AuthenticateBasic("$app", app->secret);
  REQUIRE(by_app.ok());
  CHECK(server->CheckCurrent(*by_app).ok());  // now cached
  REQUIRE(cli->RevokeAppToken(a, "alice", app->token.id).ok());
  bool refused = false;
  for (int i = 0; i < 200 && !refused; ++i) {
    refused = server->CheckCurrent(*by_app).code() == Code::kUnauthenticated;
    if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(refused);
}

// Schema v9 draws a uuid for every account that existed before it.
TEST_CASE("migrating to schema 9 gives every existing account its own uuid" *
          quay::testing::SqliteOnly()) {
  TempDir dir;
  Options options = FastIdentityOptions(dir.path());
  {
    auto id = OpenIdentity(options);
    for (const char* name : {"alice", "bob", "carol"}) {
      REQUIRE(id->CreateUser(AdminActor(), name, "", "pw").ok());
    }
  }
  const std::string path = (std::filesystem::path(dir.path()) / "quay.db").string();
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec(quay::testing::kUndoSchemaV10);
    db.exec(R"sql(
      DROP INDEX account_uuid;
      ALTER TABLE account DROP COLUMN uuid;
      DELETE FROM schema_migrations WHERE version >= 9;
    )sql");
  }
  auto id = OpenIdentity(options);
  std::set<std::string> seen;
  for (const char* name : {"alice", "bob", "carol"}) {
    Principal p = LoggedIn(*id, name, "pw");
    CHECK(IsHexUuid(p.account_uuid));
    CHECK(seen.insert(p.account_uuid).second);
    CHECK(id->CheckCurrent(p).ok());
  }
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  CHECK(db.execAndGet("SELECT COUNT(*) FROM account WHERE uuid IS NULL").getInt() == 0);
  CHECK(db.execAndGet("SELECT MAX(version) FROM schema_migrations").getInt() >= 9);
}

// Issue 11: a deleted account's tokens keep arriving until they expire; each
// must be refused without a query of its own.
TEST_CASE("CheckCurrent: a deleted account's refusals are answered from the cache") {
  auto opened = db::Database::Open(quay::testing::TestDatabaseFor(":memory:"), false);
  REQUIRE(opened.ok());
  std::shared_ptr<db::Database> database = std::move(*opened);
  auto id = api::NewIdentityService(FastIdentityOptions(), database);
  const Actor a = AdminActor();
  REQUIRE(id->CreateUser(a, "alice", "", "pw").ok());
  Principal p = LoggedIn(*id, "alice", "pw");
  REQUIRE(id->DeleteUser(a, "alice").ok());
  CHECK(id->CheckCurrent(p).code() == Code::kUnauthenticated);  // reads, remembers

  const uint64_t reads = database->connections().reads();
  for (int i = 0; i < 100; ++i) CHECK(id->CheckCurrent(p).code() == Code::kUnauthenticated);
  CHECK(database->connections().reads() == reads);

  // An account created under the name since is read again, and is still
  // not the deleted one.
  REQUIRE(id->CreateUser(a, "alice", "", "pw").ok());
  CHECK(id->CheckCurrent(p).code() == Code::kUnauthenticated);
  CHECK(database->connections().reads() > reads);
  CHECK(id->CheckCurrent(LoggedIn(*id, "alice", "pw")).ok());
}
