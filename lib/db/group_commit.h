// Group commit: many small durable write transactions from concurrent
// threads share one COMMIT, and so one fsync of the WAL.
//
// Concurrent blob pushes each end with a tiny transaction (blob row, link,
// end of the session). With synchronous=FULL each commit waits for its own
// fsync while holding the single writer, so eight clients queue behind eight
// fsyncs in a row. Here the first caller becomes the leader: it takes every
// item queued so far, runs each in its own SAVEPOINT inside one transaction
// (an item that fails is rolled back alone), commits once, and wakes the
// others; items that arrive meanwhile form the next group. A lone caller
// pays nothing extra: it leads a group of one at once.
//
// An item's Status is returned only after the transaction holding it has
// committed durably (or failed: then every item of the group fails).
//
// Thread safety: Run may be called from many threads. Internal to lib/db.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <vector>

#include "db/connection.h"
#include "quay/status.h"

namespace quay::db {

class GroupCommit {
 public:
  explicit GroupCommit(ConnectionPool& pool) : pool_(pool) {}

  // `item` runs on the writer inside a savepoint; it returns an error to have
  // its own changes rolled back (and may throw for the same effect).
  Status Run(const std::function<Status(Connection&)>& item);

 private:
  struct Pending {
    const std::function<Status(Connection&)>* item;
    Status result;
    bool done = false;
  };

  // Runs `group` as one transaction on the writer and fills in the results.
  void Commit(const std::vector<Pending*>& group);

  ConnectionPool& pool_;
  std::mutex mu_;
  std::condition_variable done_;
  std::vector<Pending*> queue_;  // guarded by mu_
  bool leading_ = false;         // guarded by mu_: a leader is committing
};

}  // namespace quay::db
