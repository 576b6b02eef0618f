// The audit log: rows written by identity mutations (in their transaction),
// queries with filters and keyset paging, per-day aggregation, and the
// asynchronous appender.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <filesystem>
#include <set>
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

std::vector<std::string> Kinds(const AuditPage& page) {
  std::vector<std::string> out;
  for (const auto& e : page.events) out.push_back(e.kind);
  return out;
}

AuditQuery All(size_t limit = 100) {
  AuditQuery q;
  q.limit = limit;
  return q;
}

// Makes every audit insert fail, through a second connection on the file.
// `file`: quay.db (mutations) or quay-audit.db (what appenders journal).
void BreakAuditLog(const std::string& data_dir, const char* file = "quay.db") {
  quay::testing::BreakTable((std::filesystem::path(data_dir) / file).string(), "audit_log");
}

void RepairAuditLog(const std::string& data_dir, const char* file = "quay.db") {
  quay::testing::RepairTable((std::filesystem::path(data_dir) / file).string(), "audit_log");
}

}  // namespace

TEST_CASE("mutations record who, from where, in which request, with Quay's kinds") {
  auto clock = std::make_shared<ManualClock>();
  Options options = FastIdentityOptions();
  options.clock = clock;
  auto id = OpenIdentity(options);
  Actor a = AdminActor();
  REQUIRE(id->CreateUser(a, "alice", "alice@example.com", "pw").ok());
  clock->Advance(std::chrono::seconds(1));
  a.principal = Principal::User("alice");
  a.ip = "192.0.2.7";
  a.request_id = "req-42";
  REQUIRE(id->CreateRepository(a, "alice/app", Visibility::kPrivate, "").ok());
  clock->Advance(std::chrono::seconds(1));
  REQUIRE(id->SetVisibility(a, "alice/app", Visibility::kPublic).ok());
  REQUIRE(id->CreateRobot(a, "alice", "ci", "").ok());
  REQUIRE(id->RegenerateRobotToken(a, "alice+ci").ok());
  REQUIRE(id->DeleteRobot(a, "alice+ci").ok());

  auto page = id->audit().Query(All());
  REQUIRE(page.ok());
  CHECK(Kinds(*page) == std::vector<std::string>{"delete_robot", "regenerate_robot_token",
                                                 "create_robot", "change_repo_visibility",
                                                 "create_repo", "user_create"});
  const AuditEvent& create_repo = page->events[4];
  CHECK(create_repo.repository == "alice/app");
  CHECK(create_repo.namespace_name == "alice");
  CHECK(create_repo.performer_kind == Principal::Kind::kUser);
  CHECK(create_repo.performer == "alice");
  CHECK(create_repo.ip == "192.0.2.7");
  CHECK(create_repo.request_id == "req-42");
  CHECK(create_repo.metadata == R"({"namespace":"alice","repo":"app"})");
  CHECK(create_repo.time == ManualClock().Now() + std::chrono::seconds(1));
  CHECK(page->events[3].metadata == R"({"namespace":"alice","repo":"app","visibility":"public"})");
  CHECK(page->events.back().metadata == R"({"username":"alice","email":"alice@example.com"})");
  CHECK(page->events.back().request_id == "req-test");
}

TEST_CASE("a failed audit write fails the mutation and changes nothing") {
  TempDir dir;
  auto id = OpenIdentity(FastIdentityOptions(dir.path()));
  const Actor a = AdminActor();
  REQUIRE(id->CreateUser(a, "alice", "", "pw").ok());
  REQUIRE(id->CreateRepository(a, "alice/app", Visibility::kPrivate, "").ok());

  BreakAuditLog(dir.path());
  CHECK_FALSE(id->CreateUser(a, "bob", "", "pw").ok());
  CHECK(id->GetUser("bob").status().code() == Code::kNotFound);
  CHECK_FALSE(id->CreateRepository(a, "alice/other", Visibility::kPrivate, "").ok());
  CHECK(id->GetRepository("alice/other").status().code() == Code::kNotFound);
  CHECK_FALSE(id->SetVisibility(a, "alice/app", Visibility::kPublic).ok());
  CHECK(id->GetRepository("alice/app")->visibility == Visibility::kPrivate);
  auto robot = id->CreateRobot(a, "alice", "ci", "");
  CHECK_FALSE(robot.ok());
  CHECK(id->GetRobot("alice+ci").status().code() == Code::kNotFound);
  CHECK_FALSE(id->CreateAppToken(a, "alice", "t").ok());
  CHECK(id->ListAppTokens("alice")->empty());
  CHECK_FALSE(id->SetUserEnabled(a, "alice", false).ok());
  CHECK(id->GetUser("alice")->enabled);
  CHECK_FALSE(id->audit().Record(AuditEvent::By(a, "pull_repo", "alice/app")).ok());

  RepairAuditLog(dir.path());
  CHECK(id->CreateUser(a, "bob", "", "pw").ok());
  auto page = id->audit().Query(All());
  REQUIRE(page.ok());
  CHECK(Kinds(*page) == std::vector<std::string>{"user_create", "create_repo", "user_create"});
}

TEST_CASE("queries: scope, performer, kinds, time range; keyset pages") {
  auto clock = std::make_shared<ManualClock>();
  Options options = FastIdentityOptions();
  options.clock = clock;
  auto id = OpenIdentity(options);
  AuditLog& log = id->audit();
  const auto start = clock->Now();
  Actor alice;
  alice.principal = Principal::User("alice");
  Actor ci;
  ci.principal = Principal::Robot("acme+ci");
  // 30 events, one per minute: pulls and pushes on two repositories.
  for (int i = 0; i < 30; ++i) {
    const Actor& who = i % 3 == 0 ? ci : alice;
    const char* repo = i % 2 == 0 ? "acme/app" : "alice/tool";
    const char* kind = i % 5 == 0 ? "push_repo" : "pull_repo";
    REQUIRE(log.Record(AuditEvent::By(who, kind, repo, AuditMetadata({{"tag", "v1"}}))).ok());
    clock->Advance(std::chrono::minutes(1));
  }

  AuditQuery by_repo = All();
  by_repo.repository = "acme/app";
  CHECK(log.Query(by_repo)->events.size() == 15);
  AuditQuery by_ns = All();
  by_ns.namespace_name = "alice";
  CHECK(log.Query(by_ns)->events.size() == 15);
  AuditQuery by_performer = All();
  by_performer.performer = "acme+ci";
  auto robot_rows = log.Query(by_performer);
  REQUIRE(robot_rows.ok());
  CHECK(robot_rows->events.size() == 10);
  for (const auto& e : robot_rows->events) CHECK(e.performer_kind == Principal::Kind::kRobot);
  AuditQuery pushes = All();
  pushes.kinds = {"push_repo"};
  CHECK(log.Query(pushes)->events.size() == 6);
  AuditQuery combined = by_repo;
  combined.performer = "acme+ci";
  combined.kinds = {"pull_repo", "push_repo"};
  CHECK(log.Query(combined)->events.size() == 5);  // i = 0, 6, 12, 18, 24
  AuditQuery window = All();
  window.since = start + std::chrono::minutes(10);
  window.until = start + std::chrono::minutes(20);
  auto in_window = log.Query(window);
  REQUIRE(in_window.ok());
  CHECK(in_window->events.size() == 10);
  CHECK(in_window->events.front().time == start + std::chrono::minutes(19));
  CHECK(in_window->events.back().time == start + std::chrono::minutes(10));

  // Pages of 7, newest first; rows written between pages do not shift them.
  AuditQuery q = All(7);
  std::set<int64_t> seen;
  std::vector<Clock::TimePoint> times;
  int pages = 0;
  for (;;) {
    auto page = log.Query(q);
    REQUIRE(page.ok());
    ++pages;
    for (const auto& e : page->events) {
      CHECK(seen.insert(e.id).second);
      times.push_back(e.time);
    }
    if (pages == 1) REQUIRE(log.Record(AuditEvent::By(alice, "pull_repo", "acme/app")).ok());
    if (page->next_page.empty()) break;
    q.page = page->next_page;
  }
  CHECK(pages == 5);
  CHECK(seen.size() == 30);
  CHECK(std::is_sorted(times.rbegin(), times.rend()));
  q.page = "garbage";
  CHECK(log.Query(q).status().code() == Code::kInvalidArgument);
}

TEST_CASE("aggregation: counts per kind per UTC day") {
  auto clock = std::make_shared<ManualClock>(
      Clock::TimePoint(std::chrono::hours(24 * 20000)));  // midnight UTC
  Options options = FastIdentityOptions();
  options.clock = clock;
  auto id = OpenIdentity(options);
  Actor alice;
  alice.principal = Principal::User("alice");
  const auto day0 = clock->Now();
  for (int day = 0; day < 3; ++day) {
    for (int i = 0; i <= day; ++i) {
      REQUIRE(id->audit().Record(AuditEvent::By(alice, "pull_repo", "alice/app")).ok());
    }
    REQUIRE(id->audit().Record(AuditEvent::By(alice, "push_repo", "alice/app")).ok());
    clock->Advance(std::chrono::hours(24));
  }
  AuditQuery q;
  q.repository = "alice/app";
  auto counts = id->audit().Aggregate(q);
  REQUIRE(counts.ok());
  REQUIRE(counts->size() == 6);
  CHECK((*counts)[0].day == day0);
  CHECK((*counts)[0].kind == "pull_repo");
  CHECK((*counts)[0].count == 1);
  CHECK((*counts)[1].kind == "push_repo");
  CHECK((*counts)[1].count == 1);
  CHECK((*counts)[4].day == day0 + std::chrono::hours(48));
  CHECK((*counts)[4].count == 3);
  q.kinds = {"push_repo"};
  q.since = day0 + std::chrono::hours(24);
  counts = id->audit().Aggregate(q);
  REQUIRE(counts.ok());
  CHECK(counts->size() == 2);
}

TEST_CASE("record validates kind and metadata") {
  auto id = OpenIdentity(FastIdentityOptions());
  AuditEvent e = AuditEvent::By(AdminActor(), "pull_repo", "alice/app");
  e.metadata = "[1,2]";
  CHECK(id->audit().Record(e).code() == Code::kInvalidArgument);
  e.metadata = "{not json";
  CHECK(id->audit().Record(e).code() == Code::kInvalidArgument);
  e.metadata = R"({"a":1} {"b":2})";  // two values
  CHECK(id->audit().Record(e).code() == Code::kInvalidArgument);
  e.metadata = "\"text\"";
  CHECK(id->audit().Record(e).code() == Code::kInvalidArgument);
  e.metadata = R"({"a":[1,{"b":null}],"c":{}})";
  CHECK(id->audit().Record(e).ok());
  e.metadata = AuditMetadata({{"quote\"d", "line\nbreak"}});
  CHECK(id->audit().Record(e).ok());
  e.kind.clear();
  CHECK(id->audit().Record(e).code() == Code::kInvalidArgument);
  auto page = id->audit().Query(All());
  REQUIRE(page.ok());
  REQUIRE(page->events.size() == 2);
  CHECK(page->events[0].metadata == R"({"quote\"d":"line\nbreak"})");
}

TEST_CASE("appender: batches in the background, flushes on demand and on destruction") {
  auto id = OpenIdentity(FastIdentityOptions());
  Actor alice;
  alice.principal = Principal::User("alice");
  alice.principal.kind = Principal::Kind::kToken;
  alice.principal.token_kind = Principal::TokenKind::kOAuth;
  alice.principal.token_id = "tok-1";
  {
    auto appender = id->audit().NewAppender({});
    for (int i = 0; i < 1000; ++i) {
      CHECK(appender->Append(AuditEvent::By(alice, "pull_repo", "alice/app")));
    }
    CHECK(appender->Flush().ok());
    CHECK(id->audit().Query(All(2000))->events.size() == 1000);
    for (int i = 0; i < 500; ++i) appender->Append(AuditEvent::By(alice, "push_repo", "alice/app"));
    AuditEvent bad = AuditEvent::By(alice, "push_repo", "alice/app");
    bad.metadata = "nope";
    CHECK(appender->Append(bad));  // metadata is checked when indexed
    AuditEvent no_kind = AuditEvent::By(alice, "", "alice/app");
    CHECK_FALSE(appender->Append(no_kind));
    CHECK(appender->failed() == 1);
    CHECK(appender->Flush().ok());
    CHECK(appender->failed() == 2);  // the bad metadata, dropped and counted
  }                                  // destruction writes what is still queued
  auto page = id->audit().Query(All(2000));
  REQUIRE(page.ok());
  CHECK(page->events.size() == 1500);
  CHECK(page->events.front().performer_kind == Principal::Kind::kToken);
  CHECK(page->events.front().token_kind == Principal::TokenKind::kOAuth);
  CHECK(page->events.front().token_id == "tok-1");
}

TEST_CASE("appender: a full buffer drops instead of blocking; failed indexing is retried") {
  TempDir dir;
  auto id = OpenIdentity(FastIdentityOptions(dir.path()));
  AuditAppenderOptions options;
  options.capacity = 4;
  options.batch_size = 2;
  auto appender = id->audit().NewAppender(options);
  // Far more than the queue holds, faster than a background writer drains it.
  size_t accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    accepted += appender->Append(AuditEvent::By(AdminActor(), "pull_repo", "a/b")) ? 1 : 0;
  }
  CHECK(appender->dropped() + accepted == 20000);
  CHECK(appender->Flush().ok());
  CHECK(id->audit().Query(All(30000))->events.size() == accepted);

  // Indexing fails: the event stays in the journal (not counted as lost)
  // and is indexed once the database works again.
  BreakAuditLog(dir.path(), "quay-audit.db");
  CHECK(appender->Append(AuditEvent::By(AdminActor(), "pull_repo", "a/b")));
  CHECK_FALSE(appender->Flush().ok());
  CHECK(appender->failed() == 0);
  CHECK(id->audit().Query(All(30000))->events.size() == accepted);
  RepairAuditLog(dir.path(), "quay-audit.db");
  CHECK(appender->Append(AuditEvent::By(AdminActor(), "pull_repo", "a/b")));
  CHECK(appender->Flush().ok());
  CHECK(id->audit().Query(All(30000))->events.size() == accepted + 2);
}

// Distinct events through the appender come back each with its own fields
// (rows are inserted several per statement).
TEST_CASE("appender: every queued event is written with its own fields") {
  auto id = OpenIdentity(FastIdentityOptions());
  constexpr int kEvents = 53;  // several multi-row groups and a remainder
  {
    auto appender = id->audit().NewAppender({});
    for (int i = 0; i < kEvents; ++i) {
      const std::string n = std::to_string(i);
      AuditEvent e = AuditEvent::By(AdminActor(), i % 2 ? "pull_repo" : "push_repo", "ns/r" + n,
                                    AuditMetadata({{"i", n}}));
      e.ip = "10.0.0." + n;
      REQUIRE(appender->Append(std::move(e)));
    }
    REQUIRE(appender->Flush().ok());
  }
  auto page = id->audit().Query(All(1000));
  REQUIRE(page.ok());
  REQUIRE(page->events.size() == static_cast<size_t>(kEvents));
  std::vector<bool> seen(kEvents, false);
  for (const AuditEvent& e : page->events) {
    const int i = std::stoi(e.repository.substr(4));
    REQUIRE(i >= 0);
    REQUIRE(i < kEvents);
    CHECK_FALSE(seen[i]);
    seen[i] = true;
    const std::string n = std::to_string(i);
    CHECK(e.kind == (i % 2 ? "pull_repo" : "push_repo"));
    CHECK(e.ip == "10.0.0." + n);
    CHECK(e.metadata == "{\"i\":\"" + n + "\"}");
  }
}

// Pull and push rows are built by the library (ManifestAuditEvent), so an
// embedder's rows read like quayd's: Quay's kinds, the namespace column, the
// performer's columns and the metadata keys in Quay's order; no tag when the
// client named a digest; the user agent cut to 256 bytes. Both ways in (the
// appender's by-reference AppendView and an owning event) write the same.
TEST_CASE("manifest pull and push events: Quay's kinds and metadata keys") {
  auto id = OpenIdentity(FastIdentityOptions());
  Principal robot = Principal::Robot("acme+ci");
  const std::string digest = "sha256:" + std::string(64, 'a');
  const std::string long_agent(300, 'x');
  ManifestAuditEvent::Fields pull;
  pull.performer = &robot;
  pull.ip = "10.1.2.3";
  pull.request_id = "req-1";
  pull.repository = "acme/team/app";
  pull.reference = "v1";
  pull.manifest_digest = digest;
  pull.media_type = "application/vnd.oci.image.manifest.v1+json";
  pull.user_agent = long_agent;
  ManifestAuditEvent::Fields push = pull;
  push.performer = nullptr;
  push.reference = digest;
  push.user_agent = "skopeo/1.0";
  {
    const ManifestAuditEvent pulled(ManifestAuditEvent::Kind::kPull, pull);
    CHECK(pulled.view().kind == "pull_repo");
    CHECK(pulled.view().namespace_name == "acme");
    CHECK(pulled.view().metadata.size() == 6);
    const ManifestAuditEvent pushed(ManifestAuditEvent::Kind::kPush, push);
    CHECK(pushed.view().metadata.size() == 5);  // a digest reference: no tag
    auto appender = id->audit().NewAppender({});
    REQUIRE(appender->AppendView(pulled.view()));
    REQUIRE(appender->AppendView(pushed.view()));
    REQUIRE(appender->Append(pulled.ToEvent()));
    REQUIRE(appender->Flush().ok());
  }
  const std::string pull_metadata =
      R"({"repo":"team/app","namespace":"acme","tag":"v1","manifest_digest":")" + digest +
      R"(","mediaType":"application/vnd.oci.image.manifest.v1+json","user-agent":")" +
      std::string(256, 'x') + "\"}";
  const std::string push_metadata = R"({"repo":"team/app","namespace":"acme","manifest_digest":")" +
                                    digest +
                                    R"(","mediaType":"application/vnd.oci.image.manifest.v1+json",)"
                                    R"("user-agent":"skopeo/1.0"})";
  auto page = id->audit().Query(All());
  REQUIRE(page.ok());
  REQUIRE(page->events.size() == 3);
  size_t pulls = 0;
  for (const AuditEvent& e : page->events) {
    CHECK(e.repository == "acme/team/app");
    CHECK(e.namespace_name == "acme");
    CHECK(e.ip == "10.1.2.3");
    CHECK(e.request_id == "req-1");
    if (e.kind == "pull_repo") {
      ++pulls;
      CHECK(e.performer_kind == Principal::Kind::kRobot);
      CHECK(e.performer == "acme+ci");
      CHECK(e.metadata == pull_metadata);
    } else {
      CHECK(e.kind == "push_repo");
      CHECK(e.performer_kind == Principal::Kind::kAnonymous);
      CHECK(e.performer.empty());
      CHECK(e.metadata == push_metadata);
    }
  }
  CHECK(pulls == 2);
}

// Schema 5 rebuilt audit_log without the metadata CHECK (the appender
// validates) and with slimmer indexes. A version-4 log must come through with
// every row, and queries must still use the indexes.
TEST_CASE("migrating to schema 5 keeps every audit row and drops the JSON CHECK" *
          quay::testing::SqliteOnly()) {
  TempDir dir;
  Options options = FastIdentityOptions(dir.path());
  {
    auto id = OpenIdentity(options);
    for (int i = 0; i < 40; ++i) {
      AuditEvent e = AuditEvent::By(AdminActor(), i % 2 ? "pull_repo" : "push_repo",
                                    i % 4 < 2 ? "acme/app" : "acme/tool",
                                    AuditMetadata({{"n", std::to_string(i)}}));
      REQUIRE(id->audit().Record(e).ok());
    }
  }
  const std::string path = (std::filesystem::path(dir.path()) / "quay.db").string();
  {
    // Back to version 4's table: the CHECK and the indexes ending in id.
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec(R"sql(
      CREATE TABLE audit_v4 (
        id INTEGER PRIMARY KEY, kind TEXT NOT NULL,
        namespace_name TEXT NOT NULL DEFAULT '', repository TEXT NOT NULL DEFAULT '',
        performer_kind TEXT NOT NULL, performer TEXT NOT NULL DEFAULT '',
        token_kind TEXT NOT NULL DEFAULT '', token_id TEXT NOT NULL DEFAULT '',
        ip TEXT NOT NULL DEFAULT '', request_id TEXT NOT NULL DEFAULT '',
        metadata TEXT NOT NULL DEFAULT '{}'
          CHECK (json_valid(metadata) AND json_type(metadata) = 'object'),
        created_at INTEGER NOT NULL);
      INSERT INTO audit_v4 SELECT * FROM audit_log;
      DROP TABLE audit_log;
      ALTER TABLE audit_v4 RENAME TO audit_log;
      CREATE INDEX audit_log_time ON audit_log(created_at, id);
      CREATE INDEX audit_log_repository ON audit_log(repository, created_at, id);
      CREATE INDEX audit_log_namespace ON audit_log(namespace_name, created_at, id);
      CREATE INDEX audit_log_performer ON audit_log(performer, created_at, id);
      DELETE FROM schema_migrations WHERE version >= 5;
    )sql");
    // And versions 6 to 10 undone, so every later migration runs again
    // (version 7's star and oauth_token triggers go with their tables).
    db.exec(quay::testing::kUndoSchemaV10);
    db.exec(R"sql(
      DROP INDEX account_uuid;
      ALTER TABLE account DROP COLUMN uuid;
      DROP TABLE global_message;
      DROP TABLE user_notification;
      DROP TRIGGER app_token_epoch_d;
      DROP TRIGGER app_token_epoch_u;
      ALTER TABLE manifest DROP COLUMN layers_size;
      DROP TABLE manifest_label;
      DROP TABLE star;
      DROP TABLE repository_notification;
      DROP TABLE oauth_assigned_token;
      DROP TABLE oauth_authorization_code;
      CREATE TABLE oauth_token_v3 (
        id INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE,
        account_id INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
        application TEXT NOT NULL, scopes INTEGER NOT NULL, lookup TEXT NOT NULL UNIQUE,
        secret_hash BLOB NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER);
      INSERT INTO oauth_token_v3 SELECT id, uuid, account_id, application, scopes, lookup,
        secret_hash, created_at, expires_at FROM oauth_token;
      DROP TABLE oauth_token;
      ALTER TABLE oauth_token_v3 RENAME TO oauth_token;
      CREATE INDEX oauth_token_account ON oauth_token(account_id);
      DROP TABLE oauth_application;
      DROP TRIGGER repository_settings_name;
      DROP INDEX repository_settings_public;
      ALTER TABLE repository_settings DROP COLUMN name;
    )sql");
  }
  {
    auto id = OpenIdentity(options);
    auto all = id->audit().Query(All());
    REQUIRE(all.ok());
    CHECK(all->events.size() == 40);
    AuditQuery by_repo = All();
    by_repo.repository = "acme/tool";
    auto tool = id->audit().Query(by_repo);
    REQUIRE(tool.ok());
    REQUIRE(tool->events.size() == 20);
    CHECK(tool->events[0].metadata == R"({"n":"39"})");  // newest first, metadata intact
  }
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  const std::string table_sql =
      db.execAndGet("SELECT sql FROM sqlite_schema WHERE name = 'audit_log'").getString();
  CHECK(table_sql.find("json_valid") == std::string::npos);
  CHECK(db.execAndGet("SELECT MAX(version) FROM schema_migrations").getInt() >= 5);
  SQLite::Statement plan(db,
                         "EXPLAIN QUERY PLAN SELECT id FROM audit_log WHERE repository = 'x'"
                         " ORDER BY created_at DESC, id DESC LIMIT 5");
  std::string details;
  while (plan.executeStep()) details += plan.getColumn(3).getString() + ";";
  CHECK(details.find("audit_log_repository") != std::string::npos);
  CHECK(details.find("TEMP B-TREE") == std::string::npos);  // the index orders it
}

TEST_CASE("query pages are shared while nothing is written, and fresh after any write") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>();
  Options options = FastIdentityOptions(dir.path());
  options.clock = clock;
  auto id = OpenIdentity(options);
  AuditLog& log = id->audit();
  REQUIRE(log.Record(AuditEvent::By(AdminActor(), "pull_repo", "a/b")).ok());
  auto first = log.SharedQuery(All());
  REQUIRE(first.ok());
  CHECK((*first)->events.size() == 1);
  // The same object: callers may key what they render on it.
  CHECK(log.SharedQuery(All())->get() == first->get());
  CHECK(log.SharedQuery(All(5))->get() != first->get());  // another query, its own page

  // A strict row (Record) shows at once.
  REQUIRE(log.Record(AuditEvent::By(AdminActor(), "push_repo", "a/b")).ok());
  auto second = log.SharedQuery(All());
  CHECK(second->get() != first->get());
  CHECK((*second)->events.size() == 2);

  // So does a row the appender indexed...
  {
    auto appender = log.NewAppender({});
    CHECK(appender->Append(AuditEvent::By(AdminActor(), "pull_repo", "a/b")));
    REQUIRE(appender->Flush().ok());
  }
  auto third = log.SharedQuery(All());
  CHECK((*third)->events.size() == 3);

  // ...and one a mutation wrote in its own transaction.
  REQUIRE(id->CreateUser(AdminActor(), "carol", "carol@example.com", "pw").ok());
  // The mutation's change_epoch bump is heard again at the next epoch poll
  // (at most every 10 ms); let that poll happen first, so that what follows
  // sees only the changes it makes.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto fourth = log.SharedQuery(All());
  CHECK((*fourth)->events.size() == 4);
  CHECK(log.SharedQuery(All())->get() == fourth->get());

  // A row another process adds to either database, with nothing else
  // changed, shows once the clock's second has moved on.
  for (const char* file : {"quay.db", "quay-audit.db"}) {
    quay::testing::TestConnection((std::filesystem::path(dir.path()) / file).string())
        ->Exec(
            "INSERT INTO audit_log(kind, performer_kind, created_at)"
            " VALUES('pull_repo', 'anonymous', 1)");
  }
  CHECK((*log.SharedQuery(All()))->events.size() == 4);
  clock->Advance(std::chrono::seconds(1));
  CHECK((*log.SharedQuery(All()))->events.size() == 6);
}
