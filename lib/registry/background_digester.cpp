#include "registry/background_digester.h"

#include <pthread.h>

#include <cstring>

namespace quay::registry {

BackgroundDigester::BackgroundDigester(Digester digester)
    : digester_(std::move(digester)), thread_([this] {
        ::pthread_setname_np(::pthread_self(), "quay-hash");  // for top -H, perf
        Loop();
      }) {}

BackgroundDigester::~BackgroundDigester() { Stop(); }

void BackgroundDigester::Update(const char* data, size_t n) {
  std::vector<char> chunk;
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return queue_.size() < kQueued; });
    if (!spare_.empty()) {
      chunk = std::move(spare_.back());
      spare_.pop_back();
    }
  }
  // The copy outside the lock: the hasher may take the next chunk meanwhile.
  chunk.resize(n);
  std::memcpy(chunk.data(), data, n);
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(chunk));
  }
  cv_.notify_all();
}

Digester BackgroundDigester::Take() {
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return queue_.empty() && !hashing_; });
  }
  Stop();
  return std::move(digester_);
}

void BackgroundDigester::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BackgroundDigester::Loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return !queue_.empty() || stopping_; });
    if (queue_.empty()) return;  // stopping with nothing left
    if (stopping_) {
      // Stopped without Take(): the state is discarded, so is the queue.
      queue_.clear();
      return;
    }
    std::vector<char> chunk = std::move(queue_.front());
    queue_.pop_front();
    hashing_ = true;
    lock.unlock();
    digester_.Update(chunk.data(), chunk.size());
    lock.lock();
    hashing_ = false;
    spare_.push_back(std::move(chunk));
    cv_.notify_all();
  }
}

}  // namespace quay::registry
