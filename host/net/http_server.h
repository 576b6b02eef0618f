// quayd's HTTP/1.1 server. A connection lives in two places:
// - while it has no complete request head (new, or idle between requests) in
//   the head reader (head_reader.h): one epoll thread, the one running Run(),
//   for all of them, so a slow or idle client costs no thread;
// - once a head is complete, on a thread of the ConnectionPool, where
//   HttpConnection (http_connection.h) serves it with our own parser and
//   writes each response with as few sends as it can, then serves the next
//   requests as long as they follow within next_request_wait, and gives the
//   connection back to the head reader when they do not.
// The handlers keep cpp-httplib's Request/Response/ContentReader types; only
// cpp-httplib's server loop is replaced, because on the registry's hot path
// (small GET/HEAD on keep-alive connections) its byte-wise head reading, a
// poll() before every read and write, and two sends per response cost more
// CPU than the registry's own work.
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
#include <vector>

#include "quay/status.h"

namespace httplib {
struct Request;
struct Response;
class ContentReader;
}  // namespace httplib

namespace quayd {

class ConnectionCap;
class TlsContext;
class ConnectionPool;
class HeadReader;
struct ClientSocket;

struct HttpServerOptions {
  // Default: 127.0.0.1:5000. Port 0 binds an ephemeral port.
  std::string host = "127.0.0.1";
  int port = 5000;
  // Most requests served at once (a thread each, started on demand); as
  // many more complete heads may wait for a thread, and beyond that a
  // request is answered 503 and its connection closed. Connections without
  // a complete head take no thread and are not counted here.
  size_t threads = 1024;
  // A connection thread idle this long ends, so the thread count falls back
  // after a burst. Default: 30 s.
  std::chrono::milliseconds idle_thread_timeout{30000};
  // An idle keep-alive connection closes after this (at least 1 s).
  std::chrono::seconds keep_alive_timeout{5};
  // How long a connection thread waits for the next request on a keep-alive
  // connection before handing the connection back to the head reader. Long
  // enough that a client sending requests back to back never leaves its
  // thread (the hot path stays one blocking recv per request); short enough
  // that idle connections do not hold threads. Default: 100 ms.
  std::chrono::milliseconds next_request_wait{100};
  // Requests per connection before the server closes it.
  size_t keep_alive_max_requests = 10000;
  // A request head not complete this long after its first byte is answered
  // 408; a body or response that stalls this long fails.
  std::chrono::seconds io_timeout{60};
  // Most connections one peer address may hold open (connection_cap.h); a
  // new one over it is answered 429 and closed. 0: unlimited. Default: 256.
  size_t max_connections_per_address = 256;
  // Peer addresses the cap does not apply to (the Server adds the trusted
  // proxies: every client behind one shares its address). Default: none.
  std::vector<std::string> uncapped_addresses;
  // A listening socket to serve instead of binding host:port (ListenOn);
  // the server owns it from Bind(). quayd serve binds before it opens the
  // registry, answers "starting" on it, then hands it to the real server,
  // so that the port never refuses connections in between. Default: -1.
  int listen_fd = -1;
  // TLS on every connection of this listener (tls_context.h); null: plain
  // HTTP. The handshake runs in the head reader, without a thread.
  std::shared_ptr<TlsContext> tls;
};

// A listening TCP socket on host:port (port 0: an ephemeral one), CLOEXEC,
// SO_REUSEADDR; Unavailable when the address cannot be bound.
quay::Result<int> ListenOn(const std::string& host, int port);

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

  // For tests and logs, while running: connection threads alive, and
  // connections waiting for a request head (on no thread).
  size_t threads() const;
  size_t waiting_for_head() const;

 private:
  // Runs a connection whose head is complete on a thread; 503 when none is
  // free and as many requests wait already.
  void Serve(std::shared_ptr<ClientSocket> socket);
  // Answers a request refused before it reached a thread, without blocking.
  void Refuse(ClientSocket& socket, int status);
  void EndBusyConnections();

  const HttpServerOptions options_;
  const HttpHandlers handlers_;
  int listen_fd_ = -1;
  std::atomic<bool> running_{false};
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::set<int> busy_;  // guarded by mu_: sockets on connection threads
  std::unique_ptr<ConnectionCap> cap_;
  std::unique_ptr<ConnectionPool> pool_;
  std::unique_ptr<HeadReader> reader_;
};

}  // namespace quayd
