#include "host/net/request_body.h"

#include <httplib.h>

#include <algorithm>
#include <memory>
#include <string>

#include "host/net/http_parse.h"

namespace quayd {

RequestBody::RequestBody(const httplib::Request& req, const httplib::ContentReader* reader)
    : reader_(reader) {
  BodyFraming framing = ParseBodyFraming(req);
  framing_ = std::move(framing.status);
  chunked_ = framing.chunked;
  if (framing_.ok() && !chunked_ && !FindHeader(req, "Content-Length").empty()) {
    content_length_ = framing.content_length;
  }
}

RequestBody::Outcome RequestBody::Stream(
    const std::function<bool(const char* data, size_t size)>& sink) {
  streamed_ = true;
  if (empty()) {
    complete_ = true;
    return Outcome::kComplete;
  }
  if (reader_ == nullptr || !framing_.ok()) return Outcome::kBroken;

  // Large pieces (the connection reads up to 256 KiB at a time) go to the
  // sink as they are; small ones (a trickling client, small chunks) are
  // gathered first so the sink is not called per few bytes. The buffer is
  // only allocated when something needs gathering.
  const size_t capacity =
      content_length_ ? static_cast<size_t>(std::min<uint64_t>(*content_length_, kBufferSize))
                      : kBufferSize;
  std::unique_ptr<char[]> buffer;
  size_t used = 0;
  bool stopped = false;

  bool read_ok = (*reader_)([&](const char* data, size_t n) {
    bytes_read_ += n;
    if (used == 0 && n >= kDirectPiece) {
      if (sink(data, n)) return true;
      stopped = true;
      return false;
    }
    if (!buffer) buffer.reset(new char[capacity]);
    while (n > 0) {
      size_t take = std::min(n, capacity - used);
      std::copy_n(data, take, buffer.get() + used);
      used += take;
      data += take;
      n -= take;
      if (used == capacity) {
        if (!sink(buffer.get(), used)) {
          stopped = true;
          return false;
        }
        used = 0;
      }
    }
    return true;
  });
  if (stopped) return Outcome::kStopped;
  if (!read_ok) return Outcome::kBroken;
  if (used > 0 && !sink(buffer.get(), used)) return Outcome::kStopped;
  complete_ = true;
  return Outcome::kComplete;
}

void RequestBody::Finish(httplib::Response& res) {
  if (complete_ || (empty() && framing_.ok())) return;
  // Unusable framing leaves the body's end unknown; a body on a method that
  // takes none is refused. A body refused for its size (413) or for the
  // memory budget (429) is not read at all: draining it first would hold the
  // answer back until the client had sent it. Otherwise the connection
  // drains what is unread.
  if (!framing_.ok() || reader_ == nullptr || res.status == 413 || res.status == 429) {
    ForceClose(res);
  }
}

void ForceClose(httplib::Response& res) {
  res.headers.erase("Connection");
  res.set_header("Connection", "close");
}

}  // namespace quayd
