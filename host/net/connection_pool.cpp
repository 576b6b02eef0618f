#include "host/net/connection_pool.h"

#include <algorithm>

namespace quayd {

ConnectionPool::ConnectionPool(size_t max_threads, std::chrono::milliseconds idle_timeout)
    : max_threads_(std::max<size_t>(1, max_threads)),
      idle_timeout_(std::max(idle_timeout, std::chrono::milliseconds(1))) {}

ConnectionPool::~ConnectionPool() { shutdown(); }

void ConnectionPool::enqueue(std::function<void()> fn) {
  std::vector<std::thread> ended;
  std::unique_lock lock(mu_);
  if (shutdown_) return;
  jobs_.push_back(std::move(fn));
  // A new thread only when every live one is busy: a queued job is taken by
  // an idle thread otherwise.
  if (idle_ < jobs_.size() && live_ < max_threads_) {
    try {
      threads_.emplace_back([this] { Work(); });
      ++live_;
    } catch (const std::system_error&) {
      // No thread to be had now: the job waits for a running one.
    }
  }
  TakeEnded(ended);
  lock.unlock();
  wake_.notify_one();
  for (std::thread& t : ended) t.join();
}

void ConnectionPool::shutdown() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    if (shutdown_ && threads_.empty()) return;
    shutdown_ = true;
    threads.swap(threads_);
    ended_.clear();
  }
  wake_.notify_all();
  for (std::thread& t : threads) t.join();
}

void ConnectionPool::TakeEnded(std::vector<std::thread>& out) {
  if (ended_.empty()) return;
  for (auto it = threads_.begin(); it != threads_.end();) {
    if (std::find(ended_.begin(), ended_.end(), it->get_id()) != ended_.end()) {
      out.push_back(std::move(*it));
      it = threads_.erase(it);
    } else {
      ++it;
    }
  }
  ended_.clear();
}

size_t ConnectionPool::threads() const {
  std::lock_guard lock(mu_);
  return live_;
}

bool ConnectionPool::Full(size_t max_waiting) const {
  std::lock_guard lock(mu_);
  return live_ >= max_threads_ && jobs_.size() >= idle_ + max_waiting;
}

void ConnectionPool::Work() {
  std::unique_lock lock(mu_);
  for (;;) {
    ++idle_;
    const bool woken =
        wake_.wait_for(lock, idle_timeout_, [&] { return !jobs_.empty() || shutdown_; });
    --idle_;
    if (!woken) {
      // Idle for idle_timeout_: end. This thread is joined by a later
      // enqueue or by the next thread to end, which joins those before it,
      // so at most one ended thread keeps its stack for long.
      std::vector<std::thread> ended;
      TakeEnded(ended);
      --live_;
      ended_.push_back(std::this_thread::get_id());
      lock.unlock();
      for (std::thread& t : ended) t.join();
      return;
    }
    if (jobs_.empty()) return;  // shutting down, nothing left to serve
    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();
    job = nullptr;  // what the job holds (a socket) goes before the lock is retaken
    lock.lock();
  }
}

}  // namespace quayd
