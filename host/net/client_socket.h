// An accepted client connection as it moves between the head reader
// (head_reader.h: waiting for a request head, on no thread of its own) and a
// connection thread (http_connection.h: serving requests): its descriptor,
// its peer, the bytes received past the last request, and what the
// connection's timeouts and limits count.
//
// One side owns it at a time; the destructor closes the descriptor and gives
// the peer's slot in the per-address cap back.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace quayd {

class ConnectionCap;

struct ClientSocket {
  using Clock = std::chrono::steady_clock;

  // Takes ownership of `fd`. `cap`: the cap that counted this connection
  // (null when it was not counted); Remove(host) is called on it at the end.
  ClientSocket(int fd, std::string host, int port, ConnectionCap* cap);
  ~ClientSocket();
  ClientSocket(const ClientSocket&) = delete;
  ClientSocket& operator=(const ClientSocket&) = delete;

  const int fd;
  const std::string host;  // the peer's numeric address
  const int port;
  // Received and not yet served: the start of the next request (at most a
  // head's worth, kMaxRequestHead, plus what arrived with it).
  std::string pending;
  size_t served = 0;  // requests answered (HttpServerOptions::keep_alive_max_requests)
  // When the pending head's first byte arrived: the head must be complete
  // within the I/O timeout of it. Unset while no head has begun.
  std::optional<Clock::time_point> head_started;
  // Accepted, or its last response written: with nothing received the
  // connection closes keep_alive_timeout after this.
  Clock::time_point idle_since = Clock::now();

 private:
  ConnectionCap* const cap_;
};

}  // namespace quayd
