// One client connection of HttpServer on a connection thread: serves the
// request whose head the head reader buffered (head_reader.h), and the ones
// that follow on the connection within next_request_wait (head, then the
// body on the handler's demand), running them through HttpHandlers and
// writing the responses. It ends when either side closes, on a timeout or
// when the server stops; or, when no next request comes soon, it hands the
// connection back to the head reader so an idle client holds no thread.
//
// Reads go through one buffer per thread; a body is received straight into
// it in pieces of up to its size (256 KiB) and handed to the handler without
// another copy. A response head and a small body leave in one send.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "host/net/client_socket.h"
#include "host/net/http_parse.h"
#include "host/net/http_server.h"

namespace quayd {

class HttpConnection {
 public:
  // `socket` stays the caller's (its pending bytes are taken, and given back
  // when the connection waits for its next head). `stopping` ends the
  // keep-alive loop between requests.
  HttpConnection(ClientSocket& socket, const HttpServerOptions& options,
                 const HttpHandlers& handlers, const std::atomic<bool>& stopping);

  // Serves requests, starting with the one at the front of the socket's
  // pending bytes. True when the connection should wait in the head reader
  // for its next request (the socket's pending bytes hold what has arrived
  // of it); false when it should close. Never throws.
  bool Serve();
  // Answers `status` (400, 408, 414, 431 for a refused head; 429 over the
  // per-address cap; 503 with no thread free) without reading a request and
  // without blocking, then ends our side of the connection. Never throws.
  void Refuse(int status);

  static constexpr size_t kBufferSize = size_t{256} << 10;
  // An unread body up to this size is read and discarded after the handler
  // so the connection stays open; a bigger one closes the connection.
  static constexpr uint64_t kDrainLimit = uint64_t{8} << 20;
  // Closing with a body unread: how long and how much is read and dropped
  // after the response so the client sees the response, not a reset.
  static constexpr std::chrono::seconds kLingerTime{2};
  static constexpr uint64_t kLingerBytes = uint64_t{64} << 20;

 private:
  enum class Wait : unsigned char { kIdle, kBusy };
  enum class Next : unsigned char { kServe, kClose, kWaitForHead };
  // ReadHead's results besides 0 and an HTTP status.
  static constexpr int kClosed = -1;     // the connection ended before a request began
  static constexpr int kNoHeadYet = -2;  // nothing complete within next_request_wait

  // One exchange.
  Next ServeOne();
  // Ends the connection after a response that left the request body unread.
  void LingeringClose();
  enum class ChunkState : unsigned char { kSize, kData, kDataEnd, kTrailers, kDone };

  // recv() waiting up to next_request_wait between requests (kIdle; then
  // timed_out_ is set) and up to the I/O timeout without progress inside
  // one: >0 bytes, 0 at EOF, -1 on error or timeout.
  ssize_t Receive(char* dst, size_t n, Wait wait);
  // Appends received bytes to the buffer (moving unread bytes to its front
  // when it is full); false at EOF, error or timeout.
  bool Fill(Wait wait);
  size_t buffered() const { return end_ - begin_; }
  // Reads the next head into `req`: 0, an HTTP status for a malformed or
  // late head, kClosed or kNoHeadYet.
  int ReadHead(httplib::Request& req);
  // One CRLF-terminated line of at most `max` bytes, consumed from the buffer.
  bool ReadLine(std::string& line, size_t max);

  void BeginBody(const httplib::Request& req);
  bool ReadBody(const std::function<bool(const char*, size_t)>& receiver);
  bool ReadChunked(const std::function<bool(const char*, size_t)>& receiver);
  bool BodyComplete() const;
  bool DrainBody();
  bool SendContinue();

  // Sends with `send_flags_` (Refuse adds MSG_DONTWAIT).
  bool SendAll(std::string_view data);
  bool SendTwo(std::string_view first, std::string_view second);
  bool WriteResponse(const httplib::Request& req, httplib::Response& res, bool close);
  bool WriteProvided(httplib::Response& res, std::string head, uint64_t length);
  bool WriteChunked(httplib::Response& res, std::string head);

  ClientSocket& socket_;
  const int fd_;
  const HttpServerOptions& options_;
  const HttpHandlers& handlers_;
  const std::atomic<bool>& stopping_;
  int send_flags_;

  char* buffer_ = nullptr;               // the thread's (Serve)
  const httplib::ContentReader reader_;  // the handlers' view of ReadBody()
  bool unread_body_ = false;             // the last request's body was not all read
  bool timed_out_ = false;               // the last kIdle Receive waited in vain
  size_t begin_ = 0;                     // unread bytes are [begin_, end_)
  size_t end_ = 0;

  // The current request's body.
  BodyFraming framing_;
  uint64_t body_left_ = 0;  // Content-Length bodies: bytes not read yet
  ChunkState chunk_state_ = ChunkState::kSize;
  uint64_t chunk_left_ = 0;
  size_t trailer_bytes_ = 0;
  bool body_broken_ = false;  // the client stream failed mid-body
  bool expect_continue_ = false;
  bool continue_sent_ = false;
};

}  // namespace quayd
