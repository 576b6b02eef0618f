// One client connection of quayd's HTTP/1.1 server (host/net/http_connection.h)
// fed arbitrary bytes over a socketpair: pipelined heads, Content-Length and
// chunked bodies (chunk sizes, extensions, trailers), Expect: 100-continue,
// draining and lingering close. The handler streams bodies through
// RequestBody (host/net/request_body.h) the way the upload handlers do:
// whole, stopping after the first piece ("/stop" in the path) or not at all
// ("/skip"), so the connection must drain or close.
// Checked: a body read to its end has exactly its Content-Length, and the
// connection always ends (the input is finite; the peer has shut down).
#include <httplib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "host/net/client_socket.h"
#include "host/net/http_connection.h"
#include "host/net/request_body.h"

namespace {

const quayd::HttpServerOptions& Options() {
  static const quayd::HttpServerOptions options = [] {
    quayd::HttpServerOptions o;
    o.keep_alive_timeout = std::chrono::seconds(1);
    o.io_timeout = std::chrono::seconds(1);
    o.keep_alive_max_requests = 64;
    return o;
  }();
  return options;
}

void Serve(const httplib::Request& req, httplib::Response& res,
           const httplib::ContentReader* reader) {
  quayd::RequestBody body(req, reader);
  res.status = 200;
  if (!body.framing().ok()) {
    res.status = 400;
  } else if (req.path.find("/skip") == std::string::npos) {
    const bool stop_early = req.path.find("/stop") != std::string::npos;
    uint64_t received = 0;
    const auto outcome = body.Stream([&](const char* data, size_t n) {
      if (n == 0 || data == nullptr) std::abort();  // pieces are never empty
      received += n;
      return !stop_early;
    });
    if (outcome == quayd::RequestBody::Outcome::kComplete) {
      if (received != body.bytes_read()) std::abort();
      if (body.content_length() && received != *body.content_length()) std::abort();
    }
    res.body = std::to_string(received);
  }
  body.Finish(res);
}

const quayd::HttpHandlers& Handlers() {
  static const quayd::HttpHandlers handlers{
      Serve,
      [](httplib::Response& res, int status, std::string_view message) {
        res.status = status;
        res.body = std::string(message);
      },
      [](const httplib::Request&, httplib::Response&) {},
      [](const httplib::Request&, const httplib::Response&) {},
  };
  return handlers;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) std::abort();
  // Responses nobody reads must not block the fuzzer: a full send buffer
  // fails the send after a moment, which ends the connection.
  const timeval send_timeout{0, 100 * 1000};
  ::setsockopt(fds[0], SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
  const int buffer = 1 << 20;
  ::setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
  ::setsockopt(fds[0], SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  size_t sent = 0;
  while (sent < size) {
    const ssize_t n = ::send(fds[1], data + sent, size - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // larger than the socket holds: the rest is cut off
    sent += static_cast<size_t>(n);
  }
  ::shutdown(fds[1], SHUT_WR);  // the client has said everything

  std::atomic<bool> stopping{false};
  {
    // The socket owns fds[0]. Serve() returning true means "wait in the head
    // reader for the next request"; the input has all arrived (and ended),
    // so serving again reads the rest or the end. Bounded: each round
    // consumes input or sees its end.
    quayd::ClientSocket socket(fds[0], "127.0.0.1", 4242, nullptr);
    for (int round = 0; round < 64; ++round) {
      if (!quayd::HttpConnection(socket, Options(), Handlers(), stopping).Serve()) break;
    }
  }
  ::close(fds[1]);
  return 0;
}
