#include "host/net/connection_cap.h"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace quayd {
namespace {

// The spellings getnameinfo(NI_NUMERICHOST) gives a peer at `text`: its
// canonical form, and for IPv4 also the IPv4-mapped IPv6 form a dual-stack
// listener reports.
std::vector<std::string> PeerSpellings(const std::string& text) {
  char out[INET6_ADDRSTRLEN] = {0};
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1 &&
      inet_ntop(AF_INET, &v4, out, sizeof(out)) != nullptr) {
    return {out, std::string("::ffff:") + out};
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1 &&
      inet_ntop(AF_INET6, &v6, out, sizeof(out)) != nullptr) {
    return {out};
  }
  return {text};
}

}  // namespace

ConnectionCap::ConnectionCap(size_t per_address, const std::vector<std::string>& exempt)
    : per_address_(per_address) {
  for (const std::string& address : exempt) {
    for (std::string& spelling : PeerSpellings(address)) exempt_.insert(std::move(spelling));
  }
}

bool ConnectionCap::TryAdd(const std::string& address) {
  // Neither unlimited nor exempt peers are counted (Remove skips them too).
  if (per_address_ == 0 || exempt_.contains(address)) return true;
  std::lock_guard lock(mu_);
  size_t& open = open_[address];
  if (open >= per_address_) return false;
  ++open;
  return true;
}

void ConnectionCap::Remove(const std::string& address) {
  if (per_address_ == 0 || exempt_.contains(address)) return;
  std::lock_guard lock(mu_);
  auto it = open_.find(address);
  if (it == open_.end()) return;
  if (--it->second == 0) open_.erase(it);
}

size_t ConnectionCap::count(const std::string& address) const {
  std::lock_guard lock(mu_);
  auto it = open_.find(address);
  return it == open_.end() ? 0 : it->second;
}

}  // namespace quayd
