// Password hashing: argon2id round trips, and the bound on how many hashes
// run at once (each costs tens of MiB at the configured cost).
#include "auth/password.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <thread>
#include <vector>

using namespace quay;

TEST_CASE("password hashes verify, and run at most one per CPU at a time") {
  auto hash = auth::HashPassword("correct horse", PasswordHashCost::kMinimum);
  REQUIRE(hash.ok());
  CHECK(auth::VerifyPassword(*hash, "correct horse"));
  CHECK_FALSE(auth::VerifyPassword(*hash, "wrong horse"));

  // Many more threads than CPUs verify at once; all must get their answer,
  // and never more than one per CPU may have been hashing together.
  const int cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = cpus * 8;
  std::vector<int> ok(threads, 0);
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&, i] {
      for (int round = 0; round < 4; ++round) {
        ok[i] += auth::VerifyPassword(*hash, i % 2 == 0 ? "correct horse" : "nope") ? 1 : 0;
      }
    });
  }
  for (auto& t : pool) t.join();
  for (int i = 0; i < threads; ++i) CHECK(ok[i] == (i % 2 == 0 ? 4 : 0));
  CHECK(auth::PeakConcurrentPasswordHashes() >= 1);
  CHECK(auth::PeakConcurrentPasswordHashes() <= cpus);
}
