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

  // More threads than CPUs verify at once, at the production cost (64 MiB,
  // ~0.25 s each, so without the gate they would overlap); all must get
  // their answer, and never more than one per CPU may have been hashing.
  auto real = auth::HashPassword("correct horse", PasswordHashCost::kInteractive);
  REQUIRE(real.ok());
  const int cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = std::min(cpus * 3, 12);
  std::vector<int> ok(threads, 0);
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&, i] {
      ok[i] = auth::VerifyPassword(*real, i % 2 == 0 ? "correct horse" : "nope") ? 1 : 0;
    });
  }
  for (auto& t : pool) t.join();
  for (int i = 0; i < threads; ++i) CHECK(ok[i] == (i % 2 == 0 ? 1 : 0));
  CHECK(auth::PeakConcurrentPasswordHashes() >= 1);
  CHECK(auth::PeakConcurrentPasswordHashes() <= cpus);
}
