// The audit journal (db/event_journal.h) and the appender built on it: record
// framing, segments, torn tails, ownership; events that survive the death of
// the process that journaled them, indexed exactly once; the two audit
// databases read as one log.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "db/event_journal.h"
#include "identity_test_support.h"
#include "test_database.h"

using namespace quay;
using quay::db::EventJournal;
using quay::db::JournalPosition;
using quay::testing::AdminActor;
using quay::testing::FastIdentityOptions;
using quay::testing::OpenIdentity;
using quay::testing::TempDir;

namespace {

std::string Record(std::string_view payload) {
  std::string out;
  EventJournal::AppendHeader(out, static_cast<uint32_t>(payload.size()));
  out += payload;
  return out;
}

std::vector<std::string> ReadAll(EventJournal& j, JournalPosition& pos, uint64_t* torn = nullptr) {
  std::vector<std::string> out;
  auto n = j.Read(
      pos, 1'000'000, [&](std::string_view p) { out.emplace_back(p); }, torn);
  REQUIRE_MESSAGE(n.ok(), n.status().ToString());
  CHECK(*n == out.size());
  return out;
}

std::vector<std::filesystem::path> Segments(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".log") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

AuditQuery All(size_t limit = 100000) {
  AuditQuery q;
  q.limit = limit;
  return q;
}

std::filesystem::path JournalRoot(const std::string& data_dir) {
  return std::filesystem::path(data_dir) / "quay-audit-journal";
}

}  // namespace

TEST_CASE("journal: records come back in order across segments; read segments are deleted") {
  TempDir dir;
  auto j = EventJournal::Open(std::filesystem::path(dir.path()) / "j", /*segment_bytes=*/100);
  REQUIRE(j.ok());
  std::vector<std::string> written;
  for (int batch = 0; batch < 10; ++batch) {
    std::string records;
    for (int i = 0; i < 3; ++i) {
      written.push_back("event " + std::to_string(batch) + "." + std::to_string(i));
      records += Record(written.back());
    }
    REQUIRE((*j)->Write(records).ok());
  }
  // Batches of ~60 bytes into 100-byte segments: several segment files.
  CHECK(Segments((*j)->dir()).size() >= 4);

  JournalPosition pos;
  std::vector<std::string> first = [&] {
    std::vector<std::string> out;
    auto n = (*j)->Read(pos, 4, [&](std::string_view p) { out.emplace_back(p); });
    REQUIRE(n.ok());
    CHECK(*n == 4);
    return out;
  }();
  std::vector<std::string> rest = ReadAll(**j, pos);
  first.insert(first.end(), rest.begin(), rest.end());
  CHECK(first == written);
  CHECK((*j)->AtEnd(pos));

  // Everything before the segment being read can go.
  (*j)->DeleteBefore(pos);
  CHECK(Segments((*j)->dir()).size() == 1);
  std::string more = Record("after");
  REQUIRE((*j)->Write(more).ok());
  CHECK_FALSE((*j)->AtEnd(pos));
  CHECK(ReadAll(**j, pos) == std::vector<std::string>{"after"});
}

TEST_CASE("journal: one owner at a time; a new owner never appends to old segments") {
  TempDir dir;
  const auto path = std::filesystem::path(dir.path()) / "j";
  {
    auto j = EventJournal::Open(path);
    REQUIRE(j.ok());
    auto second = EventJournal::Open(path);
    CHECK(second.status().code() == Code::kUnavailable);
    std::string r = Record("one");
    REQUIRE((*j)->Write(r).ok());
  }
  auto j = EventJournal::Open(path);  // the owner is gone
  REQUIRE(j.ok());
  std::string r = Record("two");
  REQUIRE((*j)->Write(r).ok());
  CHECK(Segments(path).size() == 2);
  JournalPosition pos;
  CHECK(ReadAll(**j, pos) == std::vector<std::string>{"one", "two"});
}

TEST_CASE("journal: a torn or damaged tail ends its segment, not the journal") {
  TempDir dir;
  const auto path = std::filesystem::path(dir.path()) / "j";
  {
    auto j = EventJournal::Open(path);
    REQUIRE(j.ok());
    std::string r = Record("kept-1") + Record("kept-2") + Record("torn-record");
    REQUIRE((*j)->Write(r).ok());
  }
  const auto segment = Segments(path).front();
  SUBCASE("cut in the middle of the last record (a crash during write)") {
    std::filesystem::resize_file(segment, std::filesystem::file_size(segment) - 4);
  }
  SUBCASE("a flipped byte in the last payload") {
    std::fstream f(segment, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(std::filesystem::file_size(segment)) - 2);
    f.put('X');
  }
  SUBCASE("a length field claiming more than is there") {
    std::fstream f(segment, std::ios::in | std::ios::out | std::ios::binary);
    const auto last = 2 * (EventJournal::kHeaderBytes + 6);
    f.seekp(static_cast<std::streamoff>(last) + 2);
    f.put('\x7f');
  }
  auto j = EventJournal::Open(path);
  REQUIRE(j.ok());
  std::string r = Record("next segment");
  REQUIRE((*j)->Write(r).ok());
  JournalPosition pos;
  uint64_t torn = 0;
  CHECK(ReadAll(**j, pos, &torn) == std::vector<std::string>{"kept-1", "kept-2", "next segment"});
  CHECK(torn > 0);
  CHECK((*j)->AtEnd(pos));
}

// Whether some journal segment under `root` holds `bytes`.
bool JournalContains(const std::filesystem::path& root, const std::string& bytes) {
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root, ec)) {
    if (e.path().extension() != ".log") continue;
    std::ifstream in(e.path(), std::ios::binary);
    const std::string content((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
    if (content.find(bytes) != std::string::npos) return true;
  }
  return false;
}

void WaitForByte(int fd) {
  char c = 0;
  REQUIRE(read(fd, &c, 1) == 1);
}

TEST_CASE("appender: a journal left by a dead process is indexed once, by the next appender" *
          quay::testing::SqliteOnly()) {
  TempDir dir;
  constexpr int kEvents = 3000;
  {
    // Create the events database, so that it can be locked below.
    auto id = OpenIdentity(FastIdentityOptions(dir.path()));
    REQUIRE(id->audit().NewAppender({})->Flush().ok());
  }
  int to_parent[2], to_child[2];
  REQUIRE(pipe(to_parent) == 0);
  REQUIRE(pipe(to_child) == 0);
  // The child indexes half its events, then journals the rest while the
  // parent holds the events database's write lock (so that none of them can
  // be indexed), and dies without any destructor running.
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    auto id =
        IdentityService::Open(quay::testing::WithTestDatabase(FastIdentityOptions(dir.path())));
    if (!id.ok()) _exit(2);
    auto appender = (*id)->audit().NewAppender({});
    for (int i = 0; i < kEvents; ++i) {
      if (i == kEvents / 2) {
        if (!appender->Flush().ok()) _exit(4);
        char c = 'f';
        if (write(to_parent[1], &c, 1) != 1 || read(to_child[0], &c, 1) != 1) _exit(5);
      }
      AuditEvent e = AuditEvent::By(AdminActor(), "pull_repo", "ns/app",
                                    AuditMetadata({{"i", std::to_string(i)}}));
      if (!appender->Append(std::move(e))) _exit(3);
    }
    // Every event is in the journal once the last one is: one writer thread
    // writes them in order, and an event's metadata ends its record. (Not
    // "once the journal stops growing": a starved writer thread can pause
    // longer than any quiet period a test could choose.)
    const std::string last = AuditMetadata({{"i", std::to_string(kEvents - 1)}});
    while (!JournalContains(JournalRoot(dir.path()), last)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    _exit(0);
  }
  WaitForByte(to_parent[0]);
  {
    SQLite::Database lock((std::filesystem::path(dir.path()) / "quay-audit.db").string(),
                          SQLite::OPEN_READWRITE);
    lock.exec("BEGIN EXCLUSIVE");
    char c = 'g';
    REQUIRE(write(to_child[1], &c, 1) == 1);
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    CHECK(lock.execAndGet("SELECT count(*) FROM audit_log").getInt() == kEvents / 2);
    lock.exec("ROLLBACK");
  }
  // Its journal is still there.
  REQUIRE(std::distance(std::filesystem::directory_iterator(JournalRoot(dir.path())),
                        std::filesystem::directory_iterator()) == 1);

  auto id = OpenIdentity(FastIdentityOptions(dir.path()));
  auto appender = id->audit().NewAppender({});
  REQUIRE(appender->Flush().ok());
  auto page = id->audit().Query(All());
  REQUIRE(page.ok());
  std::set<std::string> seen;
  for (const AuditEvent& e : page->events) seen.insert(e.metadata);
  CHECK(page->events.size() == static_cast<size_t>(kEvents));  // none twice
  CHECK(seen.size() == static_cast<size_t>(kEvents));          // none lost
  // The dead process's journal is gone, and with the appender its own.
  appender.reset();
  CHECK(std::filesystem::is_empty(JournalRoot(dir.path())));
}

TEST_CASE("appender: AppendView renders its fields as escaped JSON when indexed") {
  auto id = OpenIdentity(FastIdentityOptions());
  auto appender = id->audit().NewAppender({});
  Principal robot = Principal::User("org+ci");
  robot.kind = Principal::Kind::kRobot;
  const std::pair<std::string_view, std::string_view> fields[] = {{"tag", "v\"1"},
                                                                  {"user-agent", "a\nb"}};
  AuditEventView view;
  view.kind = "pull_repo";
  view.repository = "org/app";
  view.performer = &robot;
  view.ip = "192.0.2.1";
  view.request_id = "req-1";
  view.metadata = fields;
  CHECK(appender->AppendView(view));
  AuditEventView anonymous;
  anonymous.kind = "pull_repo";
  anonymous.repository = "org/public";
  CHECK(appender->AppendView(anonymous));
  AuditEventView no_kind;
  CHECK_FALSE(appender->AppendView(no_kind));
  CHECK(appender->failed() == 1);
  REQUIRE(appender->Flush().ok());

  auto page = id->audit().Query(All());
  REQUIRE(page.ok());
  REQUIRE(page->events.size() == 2);
  const AuditEvent& anon = page->events[0];  // newest first
  CHECK(anon.performer_kind == Principal::Kind::kAnonymous);
  CHECK(anon.performer.empty());
  CHECK(anon.namespace_name == "org");
  CHECK(anon.metadata == "{}");
  const AuditEvent& e = page->events[1];
  CHECK(e.kind == "pull_repo");
  CHECK(e.namespace_name == "org");
  CHECK(e.repository == "org/app");
  CHECK(e.performer_kind == Principal::Kind::kRobot);
  CHECK(e.performer == "org+ci");
  CHECK(e.ip == "192.0.2.1");
  CHECK(e.request_id == "req-1");
  CHECK(e.metadata == R"({"tag":"v\"1","user-agent":"a\nb"})");
}

TEST_CASE("queries read mutations and appended events as one log, paged in time order") {
  auto clock = std::make_shared<ManualClock>();
  Options options = FastIdentityOptions();
  options.clock = clock;
  auto id = OpenIdentity(options);
  auto appender = id->audit().NewAppender({});
  // Alternate: a strict row (main database), an appended one (events
  // database), one second apart, except r3 and r4.
  for (int i = 0; i < 10; ++i) {
    if (i != 4) clock->Advance(std::chrono::seconds(1));
    AuditEvent e = AuditEvent::By(AdminActor(), i % 2 ? "pull_repo" : "create_repo",
                                  "ns/r" + std::to_string(i));
    if (i % 2) {
      REQUIRE(appender->Append(e));
    } else {
      REQUIRE(id->audit().Record(e).ok());
    }
  }
  REQUIRE(appender->Flush().ok());
  std::vector<std::string> got;
  AuditQuery q = All(3);
  for (;;) {
    auto page = id->audit().Query(q);
    REQUIRE(page.ok());
    CHECK(page->events.size() <= 3);
    for (const auto& e : page->events) got.push_back(e.repository);
    if (page->next_page.empty()) break;
    q.page = page->next_page;
  }
  // Newest first by (time, id). r3 (appended) and r4 (strict) share a
  // time: ids of the events database are all above the main database's, so
  // the appended row sorts as the newer one, on every page the same way.
  CHECK(got == std::vector<std::string>{"ns/r9", "ns/r8", "ns/r7", "ns/r6", "ns/r5", "ns/r3",
                                        "ns/r4", "ns/r2", "ns/r1", "ns/r0"});

  auto counts = id->audit().Aggregate(All());
  REQUIRE(counts.ok());
  uint64_t pulls = 0, creates = 0;
  for (const auto& c : *counts) {
    if (c.kind == "pull_repo") pulls += c.count;
    if (c.kind == "create_repo") creates += c.count;
  }
  CHECK(pulls == 5);
  CHECK(creates == 5);
}

TEST_CASE("a broken events database does not stop mutations or their audit rows") {
  TempDir dir;
  auto id = OpenIdentity(FastIdentityOptions(dir.path()));
  auto appender = id->audit().NewAppender({});
  REQUIRE(appender->Flush().ok());  // the events database exists
  quay::testing::TestConnection((std::filesystem::path(dir.path()) / "quay-audit.db").string())
      ->Exec("DROP TABLE audit_log");
  CHECK(appender->Append(AuditEvent::By(AdminActor(), "pull_repo", "ns/app")));
  CHECK_FALSE(appender->Flush().ok());
  // Mutations write their rows in the main database, untouched.
  CHECK(id->CreateUser(AdminActor(), "bob", "", "pw").ok());
}
