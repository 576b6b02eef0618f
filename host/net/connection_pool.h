// The threads that serve requests: a thread per connection whose request
// head is complete (HttpServer), started when a request arrives and no
// thread is idle, up to a maximum, and ended after it has been idle for a
// while, so that the thread count falls back after a burst.
//
// cpp-httplib's own ThreadPool starts a fixed number of threads up front and
// a keep-alive client holds its thread for as long as it keeps the
// connection, so the (N+1)-th concurrent client gets no service at all.
// Here a thread is held only while a request is being served (and briefly
// for the next one on the same connection; HttpServerOptions::
// next_request_wait), and growing on demand lets the maximum be high: a
// thread that never ran costs nothing, one that ran costs the stack pages
// it touched until it ends.
//
// Thread safety: enqueue and shutdown may be called from any thread;
// shutdown once, after which enqueue drops the task (the server has stopped
// accepting by then).
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace quayd {

class ConnectionPool final : public httplib::TaskQueue {
 public:
  // At most `max_threads` (>= 1) tasks run at once; more wait in the queue
  // for a thread. A thread with nothing to do for `idle_timeout` ends.
  explicit ConnectionPool(size_t max_threads,
                          std::chrono::milliseconds idle_timeout = std::chrono::seconds(30));
  ~ConnectionPool() override;
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  void enqueue(std::function<void()> fn) override;
  // Lets every queued and running task finish, then joins the threads.
  void shutdown() override;

  // Threads alive now (started and not ended for idleness), for tests and
  // logs.
  size_t threads() const;

  // Every thread is started and busy, and at least `max_waiting` jobs wait
  // for one: the server refuses new requests instead of queueing them
  // without bound (each holds a descriptor until it is served).
  bool Full(size_t max_waiting) const;

 private:
  void Work();
  // Moves the threads that ended for idleness out of threads_, to be joined
  // off the lock (they have left Work(), or are about to return from it).
  void TakeEnded(std::vector<std::thread>& out);  // needs mu_

  const size_t max_threads_;
  const std::chrono::milliseconds idle_timeout_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;  // guarded by mu_
  // guarded by mu_: every thread started and not yet joined; those in
  // `ended_` have left Work() for idleness.
  std::vector<std::thread> threads_;
  std::vector<std::thread::id> ended_;  // guarded by mu_
  size_t live_ = 0;                     // guarded by mu_: threads_.size() - ended_.size()
  size_t idle_ = 0;                     // guarded by mu_: threads waiting for a job
  bool shutdown_ = false;               // guarded by mu_
};

}  // namespace quayd
