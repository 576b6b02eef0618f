// One client connection of HttpServer: reads requests (head, then the body
// on the handler's demand), runs them through HttpHandlers and writes the
// responses, until either side closes, a timeout, or the server stops.
//
// Reads go through one buffer per connection; a body is received straight
// into it in pieces of up to its size (256 KiB) and handed to the handler
// without another copy. A response head and a small body leave in one send.
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

#include "host/net/http_parse.h"
#include "host/net/http_server.h"

namespace quayd {

class HttpConnection {
 public:
  // Takes no ownership of `fd` (the server closes it). `stopping` ends the
  // keep-alive loop between requests.
  HttpConnection(int fd, std::string remote_addr, int remote_port, const HttpServerOptions& options,
                 const HttpHandlers& handlers, const std::atomic<bool>& stopping);

  // Serves requests until the connection should close. Never throws.
  void Serve();
  // Answers 503 (Retry-After: 1) without reading a request and ends the
  // connection: the server has no thread for it. Never throws.
  void RefuseBusy();

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

  // One exchange; false when the connection should close.
  bool ServeOne();
  // Ends the connection after a response that left the request body unread.
  void LingeringClose();
  enum class ChunkState : unsigned char { kSize, kData, kDataEnd, kTrailers, kDone };

  // recv() with the idle timeout between requests and the I/O timeout
  // inside one: >0 bytes, 0 at EOF, -1 on error or timeout.
  ssize_t Receive(char* dst, size_t n, Wait wait);
  // Appends received bytes to the buffer (moving unread bytes to its front
  // when it is full); false at EOF, error or timeout.
  bool Fill(Wait wait);
  size_t buffered() const { return end_ - begin_; }
  // Reads the next head into `req`; 0, an HTTP status for a malformed head,
  // or -1 when the connection ended before a request began.
  int ReadHead(httplib::Request& req);
  // One CRLF-terminated line of at most `max` bytes, consumed from the buffer.
  bool ReadLine(std::string& line, size_t max);

  void BeginBody(const httplib::Request& req);
  bool ReadBody(const std::function<bool(const char*, size_t)>& receiver);
  bool ReadChunked(const std::function<bool(const char*, size_t)>& receiver);
  bool BodyComplete() const;
  bool DrainBody();
  bool SendContinue();

  bool SendAll(std::string_view data);
  bool SendTwo(std::string_view first, std::string_view second);
  bool WriteResponse(const httplib::Request& req, httplib::Response& res, bool close);
  bool WriteProvided(httplib::Response& res, std::string head, uint64_t length);
  bool WriteChunked(httplib::Response& res, std::string head);

  const int fd_;
  const std::string remote_addr_;
  const int remote_port_;
  const HttpServerOptions& options_;
  const HttpHandlers& handlers_;
  const std::atomic<bool>& stopping_;

  std::unique_ptr<char[]> buffer_;
  const httplib::ContentReader reader_;  // the handlers' view of ReadBody()
  size_t served_ = 0;                    // requests answered
  bool unread_body_ = false;             // the last request's body was not all read
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
