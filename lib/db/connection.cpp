#include "db/connection.h"

namespace quay::db {

Connection::Connection(const std::string& path, bool read_only, bool durable, bool in_memory)
    : db_(path, read_only ? SQLite::OPEN_READONLY : (SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE),
          /*busyTimeoutMs=*/10'000),
      durable_(durable),
      in_memory_(in_memory) {
  if (in_memory) return;
  if (!read_only) {
    // WAL lets readers run beside the single writer; FULL makes every commit
    // durable before it is acknowledged.
    db_.exec("PRAGMA journal_mode=WAL");
    db_.exec(durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  }
  db_.exec("PRAGMA foreign_keys=ON");
}

void Connection::SetSynchronous(Sync mode) {
  if (mode == sync_ || in_memory_ || !durable_) return;
  db_.exec(mode == Sync::kDurable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  sync_ = mode;
}

Stmt Connection::Prepare(const char* sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    it = statements_.emplace(sql, std::make_unique<SQLite::Statement>(db_, sql)).first;
  } else {
    it->second->clearBindings();
  }
  return Stmt(*it->second);
}

ConnectionPool::ConnectionPool(std::string path, bool durable)
    : path_(std::move(path)), durable_(durable), in_memory_(path_ == ":memory:") {
  writer_ = std::make_unique<Connection>(path_, /*read_only=*/false, durable_, in_memory_);
  if (in_memory_) writer_->db().exec("PRAGMA foreign_keys=ON");
}

ConnectionPool::Lease::~Lease() {
  if (pool_ != nullptr && owned_ != nullptr) pool_->Release(std::move(owned_));
}

ConnectionPool::Lease ConnectionPool::AcquireReader() {
  if (in_memory_) return Lease(writer_.get(), LockWriter());
  {
    std::lock_guard lock(readers_mutex_);
    if (!idle_readers_.empty()) {
      auto c = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return Lease(this, std::move(c));
    }
  }
  return Lease(this, std::make_unique<Connection>(path_, /*read_only=*/true, durable_, false));
}

void ConnectionPool::Release(std::unique_ptr<Connection> c) {
  std::lock_guard lock(readers_mutex_);
  idle_readers_.push_back(std::move(c));
}

}  // namespace quay::db
