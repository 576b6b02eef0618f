#include "host/net/connection_pool.h"

#include <algorithm>

namespace quayd {

ConnectionPool::ConnectionPool(size_t max_threads)
    : max_threads_(std::max<size_t>(1, max_threads)) {}

ConnectionPool::~ConnectionPool() { shutdown(); }

void ConnectionPool::enqueue(std::function<void()> fn) {
  std::unique_lock lock(mu_);
  if (shutdown_) return;
  jobs_.push_back(std::move(fn));
  // A new thread only when every existing one is busy: a queued job is
  // taken by an idle thread otherwise.
  if (idle_ < jobs_.size() && threads_.size() < max_threads_) {
    try {
      threads_.emplace_back([this] { Work(); });
    } catch (const std::system_error&) {
      // No thread to be had now: the job waits for a running one.
    }
  }
  lock.unlock();
  wake_.notify_one();
}

void ConnectionPool::shutdown() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    if (shutdown_ && threads_.empty()) return;
    shutdown_ = true;
    threads.swap(threads_);
  }
  wake_.notify_all();
  for (std::thread& t : threads) t.join();
}

size_t ConnectionPool::threads() const {
  std::lock_guard lock(mu_);
  return threads_.size();
}

bool ConnectionPool::Full(size_t max_waiting) const {
  std::lock_guard lock(mu_);
  return threads_.size() >= max_threads_ && jobs_.size() >= idle_ + max_waiting;
}

void ConnectionPool::Work() {
  std::unique_lock lock(mu_);
  for (;;) {
    ++idle_;
    wake_.wait(lock, [&] { return !jobs_.empty() || shutdown_; });
    --idle_;
    if (jobs_.empty()) return;  // shutting down, nothing left to serve
    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();
    lock.lock();
  }
}

}  // namespace quayd
