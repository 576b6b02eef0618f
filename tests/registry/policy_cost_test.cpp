// What the tag policies and quotas add to the hot paths, measured (printed,
// not asserted: the machine is shared). docs/architecture.md quotes it.
//  - a manifest GET by tag served from cache, and the expiry check it now
//    makes first (a clock read and an atomic load);
//  - blob commits with the namespace-usage triggers, with a quota and Reject
//    limit in force, and with the triggers dropped (what the push path cost
//    before schema v10).
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <filesystem>

#include "registry_test_support.h"

using namespace quay;
using quay::testing::OpenRegistry;
using quay::testing::PushImage;
using quay::testing::TempDir;

namespace {

double NanosPer(std::chrono::steady_clock::duration d, int n) {
  return std::chrono::duration<double, std::nano>(d).count() / n;
}

// Microseconds per commit of `n` fresh 1 KiB blobs into `repo`.
double CommitMicros(Registry& r, const std::string& repo, int n, const std::string& seed) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    std::string bytes(1024, 'x');
    const std::string tail = seed + std::to_string(i);
    bytes.replace(0, tail.size(), tail);
    auto upload = r.StartUpload(repo);
    REQUIRE(upload.ok());
    REQUIRE((*upload)->Write(bytes.data(), bytes.size()).ok());
    REQUIRE((*upload)->Commit(Digest::Of(bytes)).ok());
  }
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
             .count() /
         n;
}

}  // namespace

TEST_CASE("cost: the expiry check on a cached manifest GET by tag") {
  auto r = OpenRegistry();
  PushImage(*r, "lib/app", "one", "latest");
  REQUIRE(r->GetManifest("lib/app", "latest").ok());
  constexpr int kN = 200000;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kN; ++i) REQUIRE(r->GetManifest("lib/app", "latest").ok());
  const double get_ns = NanosPer(std::chrono::steady_clock::now() - start, kN);

  const auto clock = Clock::System();
  std::atomic<int64_t> due{INT64_MAX};
  int64_t sink = 0;
  start = std::chrono::steady_clock::now();
  for (int i = 0; i < kN; ++i) {
    const int64_t now = clock->Now().time_since_epoch().count();
    if (now >= due.load(std::memory_order_acquire)) ++sink;
  }
  const double check_ns = NanosPer(std::chrono::steady_clock::now() - start, kN);
  CHECK(sink == 0);
  MESSAGE("cached GET by tag: " << get_ns << " ns/call, of which the expiry check ~" << check_ns
                                << " ns");
}

TEST_CASE("cost: namespace usage triggers and the Reject check on blob commits" *
          quay::testing::SqliteOnly()) {
  // Two registries: `with` has the schema v10 triggers and a quota with a
  // Reject limit on acme; `without` has its triggers dropped. Batches
  // alternate so that the machine's load drifts across all three alike;
  // the best batch of each is reported.
  TempDir with_dir;
  TempDir without_dir;
  auto open = [](const std::string& path) {
    Options o;
    o.data_dir = path;
    o.durable = false;  // measure the SQL, not fsync
    o.identity.password_hash_cost = PasswordHashCost::kMinimum;
    return o;
  };
  auto with = OpenRegistry(open(with_dir.path()));
  auto id = IdentityService::Open(open(with_dir.path()), *with);
  REQUIRE(id.ok());
  REQUIRE((*id)->CreateUser({}, "acme", "a@example.com", "pw-pw-pw-pw").ok());
  auto quotas = Quotas::Open(*with);
  REQUIRE(quotas.ok());
  auto q = (*quotas)->Create("acme", 1ull << 40, {});
  REQUIRE(q.ok());
  REQUIRE((*quotas)->AddLimit("acme", q->id, QuotaLimit::Kind::kReject, 100, {}).ok());
  auto without = OpenRegistry(open(without_dir.path()));
  {
    SQLite::Database db((std::filesystem::path(without_dir.path()) / "quay.db").string(),
                        SQLite::OPEN_READWRITE);
    db.exec("DROP TRIGGER repository_blob_usage_i; DROP TRIGGER repository_blob_usage_d");
  }
  CommitMicros(*with, "free/warm", 50, "w");
  CommitMicros(*without, "free/warm", 50, "w");

  constexpr int kN = 200;
  double plain = 1e18, with_quota = 1e18, bare = 1e18;
  for (int round = 0; round < 3; ++round) {
    const std::string r = std::to_string(round);
    plain = std::min(plain, CommitMicros(*with, "free/app", kN, "a" + r));
    with_quota = std::min(with_quota, CommitMicros(*with, "acme/app", kN, "b" + r));
    bare = std::min(bare, CommitMicros(*without, "free/app", kN, "c" + r));
  }
  MESSAGE("blob commit (1 KiB, durable=false, best of 3 x "
          << kN << "): " << plain << " us with the usage triggers, " << with_quota
          << " us with a quota and Reject limit, " << bare << " us without the triggers");
  CHECK((*quotas)->Report("acme")->used_bytes == static_cast<uint64_t>(3 * kN) * 1024);
}
