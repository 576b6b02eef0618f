#include "host/net/client_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <optional>
#include <string>

namespace quayd {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The 16-byte IPv6 form of an address; IPv4 as IPv4-mapped (::ffff:a.b.c.d),
// so "10.0.0.1" and "::ffff:10.0.0.1" (a dual-stack socket's peer) compare equal.
std::optional<std::array<unsigned char, 16>> Parse(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string s(text);
  std::array<unsigned char, 16> out{};
  unsigned char v4[4];
  if (inet_pton(AF_INET, s.c_str(), v4) == 1) {
    out[10] = out[11] = 0xff;
    std::copy(v4, v4 + 4, out.begin() + 12);
    return out;
  }
  if (inet_pton(AF_INET6, s.c_str(), out.data()) == 1) return out;
  return std::nullopt;
}

bool Trusted(std::string_view address, const std::vector<std::string>& trusted) {
  const auto parsed = Parse(address);
  if (!parsed) return false;
  return std::any_of(trusted.begin(), trusted.end(),
                     [&](const std::string& t) { return Parse(t) == parsed; });
}

}  // namespace

bool IsIpAddress(std::string_view text) { return Parse(text).has_value(); }

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
