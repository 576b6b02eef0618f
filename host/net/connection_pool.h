// The task queue cpp-httplib runs connections on: a thread per connection
// (cpp-httplib's model), started when a connection arrives and no thread is
// idle, up to a maximum, and kept for later connections.
//
// cpp-httplib's own ThreadPool starts a fixed number of threads up front. A
// keep-alive client holds its thread for as long as it keeps the connection,
// so with N threads the (N+1)-th concurrent client gets no service at all
// until another leaves, which behind a connection-pooling proxy looks like a
// hang. Growing on demand lets the maximum be high (a thread that never ran
// costs nothing, one that ran costs the stack pages it touched) without
// paying for it at start.
//
// Thread safety: enqueue and shutdown may be called from any thread;
// shutdown once, after which enqueue drops the connection's task (the
// server has stopped accepting by then).
#pragma once

#include <httplib.h>

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
  // At most `max_threads` (>= 1) connections are served at once; more wait in
  // the queue for a thread.
  explicit ConnectionPool(size_t max_threads);
  ~ConnectionPool() override;
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  void enqueue(std::function<void()> fn) override;
  // Lets every queued and running task finish, then joins the threads.
  void shutdown() override;

  // Threads started so far (they are kept), for tests and logs.
  size_t threads() const;

  // Every thread is started and busy, and at least `max_waiting` jobs wait
  // for one: the server refuses new connections instead of queueing them
  // without bound (each holds a descriptor until it is served).
  bool Full(size_t max_waiting) const;

 private:
  void Work();

  const size_t max_threads_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;  // guarded by mu_
  std::vector<std::thread> threads_;        // guarded by mu_
  size_t idle_ = 0;                         // guarded by mu_: threads waiting for a job
  bool shutdown_ = false;                   // guarded by mu_
};

}  // namespace quayd
