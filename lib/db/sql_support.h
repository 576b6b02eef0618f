// Helpers every SQL file in lib/db shares: error mapping, transactions and
// list binding. Internal to lib/db.
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "db/connection.h"
#include "quay/digest.h"
#include "quay/status.h"

namespace quay::db {

// Busy, lock-timeout, connection and I/O failures are transient (Unavailable);
// a full disk is NoSpace; anything else is a bug or corruption (Internal).
Status FromException(const std::exception& e);

inline std::string Str(std::string_view v) { return std::string(v); }

// Digests and tags are grammar-checked before they reach here (only
// [a-z0-9:] and [A-Za-z0-9._-]), so quoting them needs no escaping. Lists go
// to SQLite as one JSON array bound to json_each(): one query per list, never
// one query per item.
std::string JsonArray(const std::vector<Digest>& digests);
std::string JsonArray(const std::vector<int64_t>& ids);

// The id an `INSERT ... RETURNING id` statement made (both dialects have
// RETURNING; PostgreSQL has no last-insert rowid).
inline int64_t InsertedId(Stmt& insert) {
  insert->executeStep();
  return insert->getColumn(0).getInt64();
}

// Commits on Commit(), rolls back otherwise: a failure anywhere in a write
// leaves the database as it was.
class WriteTransaction {
 public:
  explicit WriteTransaction(Connection& c) : c_(c) { c_.BeginWrite(); }
  ~WriteTransaction() {
    if (!done_) {
      try {
        c_.Rollback();
      } catch (...) {
        // The connection reports the failure on its next use.
      }
    }
  }
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;
  void Commit() {
    c_.Commit();
    done_ = true;
  }

 private:
  Connection& c_;
  bool done_ = false;
};

// Several reads that must see one snapshot (a deferred transaction: the
// snapshot starts at the first read). Ends on destruction.
class ReadTransaction {
 public:
  explicit ReadTransaction(Connection& c) : c_(c) { c_.BeginRead(); }
  ~ReadTransaction() {
    try {
      c_.Commit();
    } catch (...) {
      // Nothing was written; the connection reports a failure on its next use.
    }
  }
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;

 private:
  Connection& c_;
};

}  // namespace quay::db
