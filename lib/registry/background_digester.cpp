#include "registry/background_digester.h"

#include <cstring>

namespace quay::registry {

BackgroundDigester::BackgroundDigester(Digester digester)
    : digester_(std::move(digester)), thread_([this] { Loop(); }) {}

BackgroundDigester::~BackgroundDigester() { Stop(); }

void BackgroundDigester::Update(const char* data, size_t n) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !pending_; });
  chunk_.resize(n);
  std::memcpy(chunk_.data(), data, n);
  pending_ = true;
  cv_.notify_all();
}

Digester BackgroundDigester::Take() {
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !pending_; });
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
    cv_.wait(lock, [&] { return pending_ || stopping_; });
    if (!pending_) return;  // stopping with nothing left
    // The caller waits for pending_ to clear before touching chunk_, so it
    // can be hashed without the lock.
    lock.unlock();
    digester_.Update(chunk_.data(), chunk_.size());
    lock.lock();
    pending_ = false;
    cv_.notify_all();
  }
}

}  // namespace quay::registry
