// The event loop that holds every connection that has no complete request
// head: new connections from the listener and keep-alive connections between
// requests. One thread (the one running Run) waits on epoll for all of them
// and reads what arrives; a connection is handed to a connection thread only
// once a whole head is buffered. So a client that sends its head a byte at a
// time (slowloris), or idles between requests, costs a descriptor and a few
// hundred bytes here, not a thread: thousands of them leave the threads to
// the clients that are being served.
//
// What the reader enforces while a connection waits:
// - the per-address cap (connection_cap.h): a connection over it is answered
//   429 at once, without reading its request, and closed;
// - the idle timeout: nothing received for keep_alive_timeout after the
//   connection was accepted or its last response was written: closed;
// - the head timeout: a head not complete io_timeout after its first byte:
//   408;
// - the head limits (ScanRequestHead, http_parse.h): 431, 414 or 400 as soon
//   as the received bytes show the head cannot be served.
// Refusals are small responses written without blocking, then the close.
//
// Thread safety: Run() on one thread; Adopt(), Stop() and waiting() on any.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "host/net/client_socket.h"
#include "host/net/http_parse.h"
#include "host/net/http_server.h"
#include "quay/status.h"

namespace quayd {

class ConnectionCap;

class HeadReader {
 public:
  struct Handlers {
    // The socket's pending bytes begin with a complete head: serve it (on
    // a connection thread). Runs on the reader's thread; must not block.
    std::function<void(std::shared_ptr<ClientSocket>)> serve;
    // Answers `status` without blocking (408, 400, 414, 431, 429); the
    // reader closes the connection after it.
    std::function<void(ClientSocket&, int status)> refuse;
  };

  // Reads connections accepted from `listen_fd` (not owned; made
  // non-blocking here). `cap` counts each accepted connection.
  HeadReader(int listen_fd, const HttpServerOptions& options, ConnectionCap& cap,
             Handlers handlers);
  ~HeadReader();
  HeadReader(const HeadReader&) = delete;
  HeadReader& operator=(const HeadReader&) = delete;

  // Unavailable when the epoll instance cannot be made.
  quay::Status Open();
  // Accepts and reads until Stop(); on return every connection it held is
  // closed, and Adopt() closes what it is given.
  void Run();
  // Idempotent; Run() returns soon after.
  void Stop();
  // A connection thread gives a keep-alive connection back between
  // requests (its pending bytes: a partial head, or nothing).
  void Adopt(std::shared_ptr<ClientSocket> socket);

  // Connections waiting for a head (for tests and logs).
  size_t waiting() const;

 private:
  struct Waiting {
    std::shared_ptr<ClientSocket> socket;
    RequestHeadScan scan;
  };

  void AcceptSome();
  void TakeAdopted();
  // Starts watching `socket`; examines what it already holds.
  void Watch(std::shared_ptr<ClientSocket> socket);
  void OnReadable(int fd);
  // Hands the connection on when its head is complete or refused.
  void Examine(std::unordered_map<int, Waiting>::iterator it);
  void Forget(std::unordered_map<int, Waiting>::iterator it);
  // Closes (or answers 408) what waited too long; sets next_deadline_.
  void Sweep(ClientSocket::Clock::time_point now);
  ClientSocket::Clock::time_point DeadlineOf(const ClientSocket& socket) const;
  int WaitMillis(ClientSocket::Clock::time_point now) const;

  const int listen_fd_;
  const HttpServerOptions& options_;
  ConnectionCap& cap_;
  const Handlers handlers_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: Stop() and Adopt() wake the loop

  // Only the loop thread touches these.
  std::unordered_map<int, Waiting> waiting_;
  std::unique_ptr<char[]> scratch_;  // one recv's worth of head bytes
  ClientSocket::Clock::time_point next_deadline_ = ClientSocket::Clock::time_point::max();
  ClientSocket::Clock::time_point last_sweep_{};
  ClientSocket::Clock::time_point listener_paused_until_{};  // out of descriptors
  bool listener_watched_ = false;

  mutable std::mutex mu_;
  std::vector<std::shared_ptr<ClientSocket>> adopted_;  // guarded by mu_
  bool stopping_ = false;                               // guarded by mu_
  bool closed_ = false;                                 // guarded by mu_: Run() has returned
  std::atomic<size_t> waiting_count_{0};                // waiting_.size(), for waiting()
};

}  // namespace quayd
