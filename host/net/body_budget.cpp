#include "host/net/body_budget.h"

#include <utility>

namespace quayd {

BodyBudget::Lease& BodyBudget::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    budget_ = std::exchange(other.budget_, nullptr);
    client_ = std::move(other.client_);
    bytes_ = std::exchange(other.bytes_, 0);
    granted_ = std::exchange(other.granted_, false);
  }
  return *this;
}

void BodyBudget::Lease::Release() {
  if (budget_ != nullptr) budget_->Give(client_, bytes_);
  budget_ = nullptr;
  bytes_ = 0;
  granted_ = false;
}

BodyBudget::Lease BodyBudget::Reserve(std::string_view client, uint64_t bytes) {
  Lease lease;
  if (bytes == 0) {
    lease.granted_ = true;
    return lease;
  }
  std::lock_guard lock(mu_);
  auto it = per_client_.find(std::string(client));
  const uint64_t mine = it == per_client_.end() ? 0 : it->second;
  if ((total_limit_ != 0 && (bytes > total_limit_ || total_ > total_limit_ - bytes)) ||
      (per_client_limit_ != 0 && (bytes > per_client_limit_ || mine > per_client_limit_ - bytes))) {
    return lease;
  }
  total_ += bytes;
  if (it == per_client_.end()) {
    per_client_.emplace(std::string(client), bytes);
  } else {
    it->second += bytes;
  }
  lease.budget_ = this;
  lease.client_ = std::string(client);
  lease.bytes_ = bytes;
  lease.granted_ = true;
  return lease;
}

void BodyBudget::Give(const std::string& client, uint64_t bytes) {
  std::lock_guard lock(mu_);
  total_ -= bytes;
  auto it = per_client_.find(client);
  if (it == per_client_.end()) return;
  it->second -= bytes;
  if (it->second == 0) per_client_.erase(it);
}

uint64_t BodyBudget::in_use() const {
  std::lock_guard lock(mu_);
  return total_;
}

uint64_t BodyBudget::in_use(std::string_view client) const {
  std::lock_guard lock(mu_);
  auto it = per_client_.find(std::string(client));
  return it == per_client_.end() ? 0 : it->second;
}

}  // namespace quayd
