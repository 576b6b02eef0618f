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

}  // namespace quay::db
