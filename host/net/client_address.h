// The client's address for audit rows and the login back-off: the TCP peer,
// or — when the peer is a proxy the operator trusts (--trusted-proxy,
// TRUSTED_PROXIES) — the address that proxy reports in X-Forwarded-For.
//
// Quay honours X-Forwarded-For unconditionally (get_request_ip); here only
// trusted peers may set it, because the address keys the failed-login
// back-off and a client that could choose its own would escape it, and
// would put any address it liked into the audit log.
//
// X-Forwarded-For lists the addresses each proxy saw, the nearest last. The
// client is the rightmost entry that is not itself a trusted proxy (entries
// left of it were written by the client and prove nothing). Entries that are
// not IP addresses end the walk, and the last trusted hop's address is used.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace quayd {

// `peer`: the TCP peer address. `forwarded`: every X-Forwarded-For header
// value, in order (empty when none). `trusted`: IPv4/IPv6 addresses.
std::string ClientAddress(std::string_view peer, const std::vector<std::string>& forwarded,
                          const std::vector<std::string>& trusted);

// True for a textual IPv4 or IPv6 address (no port, no brackets).
bool IsIpAddress(std::string_view text);

}  // namespace quayd
