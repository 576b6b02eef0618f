// An accepted client connection as it moves between the head reader
// (head_reader.h: waiting for a request head, on no thread of its own) and a
// connection thread (http_connection.h: serving requests): its descriptor,
// its peer, the bytes received past the last request, and what the
// connection's timeouts and limits count.
//
// One side owns it at a time; the destructor closes the descriptor and gives
// the peer's slot in the per-address cap back.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

struct ssl_st;

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

  // ---- I/O, plain or TLS ----
  // Makes this a TLS connection (takes ownership of `ssl`): the descriptor
  // becomes non-blocking and Recv/Send wait in poll() for as long as the
  // socket's SO_RCVTIMEO / SO_SNDTIMEO would (`recv_wait`, `send_wait`).
  void StartTls(ssl_st* ssl, std::chrono::milliseconds recv_wait,
                std::chrono::milliseconds send_wait);
  bool tls() const { return ssl_ != nullptr; }
  // TLS: advances the server handshake without blocking: 1 done (also for
  // plain connections), 0 waiting for the client, -1 failed.
  int ContinueHandshake();
  bool handshake_done() const { return ssl_ == nullptr || handshake_done_; }
  // recv(2)'s contract: > 0 bytes, 0 at the end of the stream, -1 with
  // errno (EAGAIN: nothing within the wait, or at once with `dontwait`).
  ssize_t Recv(void* buf, size_t n, bool dontwait);
  // sendmsg(2)'s contract over `iov` (TLS writes the first part only; the
  // caller's loop sends the rest).
  ssize_t Send(const iovec* iov, int count, bool dontwait);
  // TLS: decrypted bytes received and not yet read (epoll cannot see them).
  bool HasBuffered() const;

 private:
  ssl_st* ssl_ = nullptr;
  bool handshake_done_ = false;
  std::chrono::milliseconds recv_wait_{0};
  std::chrono::milliseconds send_wait_{0};

  ConnectionCap* const cap_;
};

}  // namespace quayd
