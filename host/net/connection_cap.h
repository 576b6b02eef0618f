// How many connections one peer address may hold open at once
// (HttpServerOptions::max_connections_per_address).
//
// The head reader (head_reader.h) makes a client that sends its heads slowly
// cheap, but a connection whose head is complete holds a thread while its
// body arrives, however slowly; and every connection holds a descriptor. The
// cap bounds what one address can take of either, so one misbehaving client
// cannot starve the others. It counts TCP peers: behind a reverse proxy every
// client shares the proxy's address, so the operator's trusted proxies are
// exempt (the Server passes them). IPv6 peers are counted per /64, the block
// one subscriber is given; IPv4 peers per address.
//
// Thread-safe: connections are counted on the head reader's thread and
// released on whichever thread closes them.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace quayd {

class ConnectionCap {
 public:
  // `per_address` 0: unlimited. `exempt`: numeric IPv4/IPv6 addresses never
  // capped (any textual form; compared after normalizing).
  ConnectionCap(size_t per_address, const std::vector<std::string>& exempt);
  ConnectionCap(const ConnectionCap&) = delete;
  ConnectionCap& operator=(const ConnectionCap&) = delete;

  // Counts one more connection from `address` (as getnameinfo spells it);
  // false, counting nothing, when the address already holds its cap.
  bool TryAdd(const std::string& address);
  // Gives back what a successful TryAdd(address) took.
  void Remove(const std::string& address);
  // Connections counted for `address`'s block (its /64 for IPv6), for tests
  // and logs.
  size_t count(const std::string& address) const;

 private:
  const size_t per_address_;
  std::unordered_set<std::string> exempt_;  // normalized
  mutable std::mutex mu_;
  // Guarded by mu_; keyed by CountedAs(address); only blocks with some open.
  std::unordered_map<std::string, size_t> open_;
};

}  // namespace quayd
