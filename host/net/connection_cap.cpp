#include "host/net/connection_cap.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

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

// What `address`'s connections are counted under: an IPv4 peer (also one a
// dual-stack listener reports IPv4-mapped) by its address, an IPv6 peer by
// its /64. One subscriber is routinely handed a whole /64 and picks a fresh
// address per connection at will, so a per-/128 count would cap nothing.
std::string CountedAs(const std::string& address) {
  in6_addr v6{};
  if (inet_pton(AF_INET6, address.c_str(), &v6) != 1) return address;
  char out[INET6_ADDRSTRLEN] = {0};
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {
    in_addr v4{};
    std::memcpy(&v4, &v6.s6_addr[12], sizeof(v4));
    return inet_ntop(AF_INET, &v4, out, sizeof(out)) != nullptr ? out : address;
  }
  std::memset(&v6.s6_addr[8], 0, 8);
  if (inet_ntop(AF_INET6, &v6, out, sizeof(out)) == nullptr) return address;
  return std::string(out) + "/64";
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
  size_t& open = open_[CountedAs(address)];
  if (open >= per_address_) return false;
  ++open;
  return true;
}

void ConnectionCap::Remove(const std::string& address) {
  if (per_address_ == 0 || exempt_.contains(address)) return;
  std::lock_guard lock(mu_);
  auto it = open_.find(CountedAs(address));
  if (it == open_.end()) return;
  if (--it->second == 0) open_.erase(it);
}

size_t ConnectionCap::count(const std::string& address) const {
  std::lock_guard lock(mu_);
  auto it = open_.find(CountedAs(address));
  return it == open_.end() ? 0 : it->second;
}

}  // namespace quayd
