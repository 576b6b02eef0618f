#include "db/group_commit.h"

#include <exception>

#include "db/sql_support.h"

namespace quay::db {

Status GroupCommit::Run(const std::function<Status(Connection&)>& item) {
  Pending me{&item, Status::Ok()};
  std::unique_lock lock(mu_);
  queue_.push_back(&me);
  while (!me.done) {
    if (leading_) {
      done_.wait(lock);
      continue;
    }
    // Lead: everything queued so far (our own item included) is one group.
    leading_ = true;
    std::vector<Pending*> group;
    group.swap(queue_);
    lock.unlock();
    Commit(group);
    lock.lock();
    for (Pending* p : group) p->done = true;
    leading_ = false;
    done_.notify_all();
  }
  return me.result;
}

void GroupCommit::Commit(const std::vector<Pending*>& group) {
  Status overall = Status::Ok();
  try {
    auto writer = pool_.LockWriter();
    Connection& c = pool_.writer();
    c.SetSynchronous(Connection::Sync::kDurable);
    WriteTransaction tx(c);
    for (Pending* p : group) {
      c.Exec("SAVEPOINT item");
      try {
        p->result = (*p->item)(c);
      } catch (const std::exception& e) {
        p->result = FromException(e);
      } catch (...) {
        p->result = Status::Internal("non-standard exception in a grouped write");
      }
      // A failed item leaves nothing behind; the others are unaffected.
      if (!p->result.ok()) c.Exec("ROLLBACK TO item");
      c.Exec("RELEASE item");
    }
    tx.Commit();
  } catch (const std::exception& e) {
    overall = FromException(e);
  } catch (...) {
    // Whatever was thrown, the leader must finish: followers wait on it.
    overall = Status::Internal("group commit failed with a non-standard exception");
  }
  // Readers must not keep serving what the group changed from cache.
  pool_.InvalidateCaches();
  if (!overall.ok()) {
    for (Pending* p : group) p->result = overall;
  }
}

}  // namespace quay::db
