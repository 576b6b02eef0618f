#include "host/client_address.h"

#include <arpa/inet.h>

#include <algorithm>

namespace quayd {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool Trusted(std::string_view address, const std::vector<std::string>& trusted) {
  return std::find(trusted.begin(), trusted.end(), address) != trusted.end();
}

}  // namespace

bool IsIpAddress(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return false;
  const std::string s(text);
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

std::string ClientAddress(std::string_view peer, const std::vector<std::string>& forwarded,
                          const std::vector<std::string>& trusted) {
  if (forwarded.empty() || !Trusted(peer, trusted)) return std::string(peer);
  // All entries, nearest hop last: several headers count as one list.
  std::vector<std::string_view> hops;
  for (const std::string& header : forwarded) {
    std::string_view rest = header;
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      hops.push_back(Trim(rest.substr(0, comma)));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  std::string_view client = peer;
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    if (!IsIpAddress(*it)) break;  // garbage: trust nothing further left
    client = *it;
    if (!Trusted(*it, trusted)) break;
  }
  return std::string(client);
}

}  // namespace quayd
