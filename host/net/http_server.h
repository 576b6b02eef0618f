// quayd's HTTP/1.1 server: a listener that hands each connection to a thread
// of the ConnectionPool, where HttpConnection (http_connection.h) reads
// requests with our own parser and writes each response with as few sends as
// it can. The handlers keep cpp-httplib's Request/Response/ContentReader
// types; only cpp-httplib's server loop is replaced, because on the registry's
// hot path (small GET/HEAD on keep-alive connections) its byte-wise head
// reading, a poll() before every read and write, and two sends per response
// cost more CPU than the registry's own work.
//
// Lifecycle: Bind() (port known), Run() on some thread (blocks), Stop() from
// any thread: the listener closes, idle connections end, connections in the
// middle of a request finish it (Server::Stop drains those first), and Run()
// returns once every connection thread has ended.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "quay/status.h"

namespace httplib {
struct Request;
struct Response;
class ContentReader;
}  // namespace httplib

namespace quayd {

class ConnectionPool;

struct HttpServerOptions {
  // Default: 127.0.0.1:5000. Port 0 binds an ephemeral port.
  std::string host = "127.0.0.1";
  int port = 5000;
  // Most connections served at once (thread per connection, on demand); as
  // many more may wait for a thread, and beyond that a connection is
  // answered 503 and closed.
  size_t threads = 1024;
  // An idle keep-alive connection closes after this (at least 1 s).
  std::chrono::seconds keep_alive_timeout{5};
  // Requests per connection before the server closes it.
  size_t keep_alive_max_requests = 10000;
  // A request that stalls this long mid-head, mid-body or mid-response fails.
  std::chrono::seconds io_timeout{60};
};

struct HttpHandlers {
  // Runs one request and fills the response. `reader` streams the request
  // body for the methods that may carry one (POST, PUT, PATCH, DELETE) and is
  // null for the others; whatever the handler leaves unread is drained (small
  // bodies) or the connection closes after the response.
  std::function<void(const httplib::Request&, httplib::Response&, const httplib::ContentReader*)>
      serve;
  // Fills the response to a request refused before `serve` ran or when it
  // threw: `status` is the HTTP status (400, 414, 431, 500).
  std::function<void(httplib::Response&, int status, std::string_view message)> reject;
  // Last touches on every response, right before it is written.
  std::function<void(const httplib::Request&, httplib::Response&)> decorate;
  // After the response was written (or failed to be).
  std::function<void(const httplib::Request&, const httplib::Response&)> log;
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandlers handlers);
  ~HttpServer();  // closes a listener that never ran
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Unavailable when the address cannot be bound; sets `port` (the bound one).
  quay::Status Bind(int& port);
  // Accepts and serves until Stop(); returns after every connection ended.
  void Run();
  // Idempotent, any thread, also before Run() (which then returns at once).
  void Stop();
  // Between the start of Run() and Stop().
  bool running() const { return running_.load(); }

 private:
  void Accept();
  void EndIdleConnections();

  const HttpServerOptions options_;
  const HttpHandlers handlers_;
  int listen_fd_ = -1;
  int wake_fds_[2] = {-1, -1};  // Stop() writes a byte to wake the accept loop
  std::atomic<bool> running_{false};
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::set<int> connections_;  // guarded by mu_: open connection sockets
  std::unique_ptr<ConnectionPool> pool_;
};

}  // namespace quayd
