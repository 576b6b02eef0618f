#include "db/advisory_locks.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <thread>

#include "db/connection.h"

namespace quay::db {

AdvisoryLocks::AdvisoryLocks(std::unique_ptr<Connection> conn) : conn_(std::move(conn)) {}

AdvisoryLocks::~AdvisoryLocks() = default;  // closing the session frees what it held

Result<std::unique_ptr<AdvisoryLocks>> AdvisoryLocks::Open(const std::string& uri) {
  try {
    // Autocommit: each call is its own statement; the locks outlive it.
    auto conn = OpenConnection(uri, /*read_only=*/false, /*durable=*/true, /*in_memory=*/false);
    return std::unique_ptr<AdvisoryLocks>(new AdvisoryLocks(std::move(conn)));
  } catch (const std::exception& e) {
    return Status::Unavailable(std::string("cannot open the lock session: ") + e.what());
  }
}

Result<bool> AdvisoryLocks::TryLock(int64_t key) {
  std::lock_guard lock(mu_);
  try {
    auto q = conn_->Prepare("SELECT pg_try_advisory_lock(?)");
    q->bind(1, static_cast<int64_t>(key));
    return q->executeStep() && q->getColumn(0).getInt() != 0;
  } catch (const std::exception& e) {
    return Status::Unavailable(std::string("advisory lock failed: ") + e.what());
  }
}

Status AdvisoryLocks::Lock(int64_t key) {
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    Result<bool> taken = TryLock(key);
    if (!taken.ok()) return taken.status();
    if (*taken) return Status::Ok();
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

void AdvisoryLocks::Unlock(int64_t key) {
  std::lock_guard lock(mu_);
  try {
    auto q = conn_->Prepare("SELECT pg_advisory_unlock(?)");
    q->bind(1, static_cast<int64_t>(key));
    q->executeStep();
  } catch (const std::exception&) {
    // The session is broken, and with it every lock it held is gone.
  }
}

namespace {

std::string KeyArray(const std::vector<int64_t>& keys) {
  std::string out = "{";
  for (const int64_t k : keys) {
    if (out.size() > 1) out += ',';
    out += std::to_string(k);
  }
  out += '}';
  return out;
}

}  // namespace

std::vector<bool> AdvisoryLocks::TryLockEach(const std::vector<int64_t>& keys) {
  std::vector<bool> taken(keys.size(), false);
  if (keys.empty()) return taken;
  std::lock_guard lock(mu_);
  try {
    // One row per key, in order: the function runs once per row.
    constexpr const char* kSql =
        "SELECT pg_try_advisory_lock(k) FROM unnest(CAST(?1 AS bigint[])) WITH ORDINALITY AS"
        " t(k, n) ORDER BY n";
    auto q = conn_->Prepare(kSql, kSql);
    q->bind(1, KeyArray(keys));
    for (size_t i = 0; i < keys.size() && q->executeStep(); ++i) {
      taken[i] = q->getColumn(0).getInt() != 0;
    }
  } catch (const std::exception&) {
    // Whatever the broken session took is gone with it: nothing is held.
    std::fill(taken.begin(), taken.end(), false);
  }
  return taken;
}

void AdvisoryLocks::UnlockEach(const std::vector<int64_t>& keys) {
  if (keys.empty()) return;
  std::lock_guard lock(mu_);
  try {
    constexpr const char* kSql =
        "SELECT count(pg_advisory_unlock(k)) FROM unnest(CAST(?1 AS bigint[])) AS t(k)";
    auto q = conn_->Prepare(kSql, kSql);
    q->bind(1, KeyArray(keys));
    q->executeStep();
  } catch (const std::exception&) {
    // The session is broken, and with it every lock it held is gone.
  }
}

}  // namespace quay::db
