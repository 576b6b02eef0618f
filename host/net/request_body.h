// A request body as a stream: framing checks and reading in large pieces.
// Whatever a handler leaves unread, the connection drains (a small body) or
// closes after the response (HttpConnection); Finish() marks the cases where
// only closing is safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include "quay/status.h"

namespace httplib {
class ContentReader;
struct Request;
struct Response;
}  // namespace httplib

namespace quayd {

class RequestBody {
 public:
  // No piece handed to a sink is bigger (a blob GET reads in pieces of this
  // size too).
  static constexpr size_t kBufferSize = size_t{1} << 20;
  // A piece the connection read at least this big is handed on without
  // copying; smaller ones are gathered up to this size first.
  static constexpr size_t kDirectPiece = size_t{64} << 10;

  // `reader` is null for requests dispatched without one (GET, HEAD, ...).
  // Validates the framing headers (see framing()).
  RequestBody(const httplib::Request& req, const httplib::ContentReader* reader);

  // The framing check, done before anything reads the body: Content-Length
  // must be one decimal value below 2^63, Transfer-Encoding only "chunked",
  // Content-Encoding absent or "identity" (cpp-httplib would otherwise inflate
  // a compressed blob before it is hashed). InvalidArgument(kSize / kNone)
  // otherwise; the connection is then closed after the response.
  const quay::Status& framing() const { return framing_; }

  // The declared Content-Length (nullopt when chunked or absent).
  std::optional<uint64_t> content_length() const { return content_length_; }
  bool chunked() const { return chunked_; }
  // No body at all: neither chunked nor a positive Content-Length. (HTTP/1.1
  // requests without either header have no body.)
  bool empty() const { return !chunked_ && content_length_.value_or(0) == 0; }

  enum class Outcome : unsigned char {
    kComplete,  // every byte was read and accepted by the sink
    kStopped,   // the sink returned false; the rest is unread
    kBroken,    // the client stream failed (truncated body, timeout, reset)
  };
  // Streams the body to `sink` in the pieces the connection reads (at most
  // its buffer, HttpConnection::kBufferSize) or, when they are small,
  // gathered to kDirectPiece bytes. Call at most once. `sink` returns false to stop reading.
  Outcome Stream(const std::function<bool(const char* data, size_t size)>& sink);
  uint64_t bytes_read() const { return bytes_read_; }

  // Called once the response is built: marks the response so the connection
  // closes after it when the body's framing is unusable, it was not allowed
  // (a body on GET), or it was refused unread (413, 429), so that the answer
  // is not held back behind draining it.
  void Finish(httplib::Response& res);

 private:
  const httplib::ContentReader* reader_;
  std::optional<uint64_t> content_length_;
  bool chunked_ = false;
  quay::Status framing_;
  bool streamed_ = false;  // Stream() ran
  bool complete_ = false;  // every byte was consumed
  uint64_t bytes_read_ = 0;
};

// Makes the connection close after sending `res` ("Connection: close").
void ForceClose(httplib::Response& res);

}  // namespace quayd
