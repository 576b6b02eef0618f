#include "host/net/request_body.h"

#include <httplib.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

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
  // gathered first so the sink is not called per few bytes, but only up to
  // kDirectPiece, and a large piece after them is not copied: gathering up
  // to a megabyte (as before, issue 15) held a 1 MiB blob whose first piece
  // was small back from the store until its last byte, so none of it was
  // hashed or written while it arrived, and it cost a fresh megabyte per
  // request. The buffer is only allocated when something needs gathering.
  const size_t capacity =
      content_length_ ? static_cast<size_t>(std::min<uint64_t>(*content_length_, kDirectPiece))
                      : kDirectPiece;
  std::unique_ptr<char[]> buffer;
  size_t used = 0;
  bool stopped = false;
  auto deliver = [&](const char* data, size_t n) {
    if (sink(data, n)) return true;
    stopped = true;
    return false;
  };

  bool read_ok = (*reader_)([&](const char* data, size_t n) {
    bytes_read_ += n;
    if (n >= kDirectPiece) {
      // What was gathered goes first, then the piece itself, uncopied.
      if (used > 0 && !deliver(buffer.get(), std::exchange(used, 0))) return false;
      return deliver(data, n);
    }
    if (!buffer) buffer.reset(new char[capacity]);
    while (n > 0) {
      size_t take = std::min(n, capacity - used);
      std::copy_n(data, take, buffer.get() + used);
      used += take;
      data += take;
      n -= take;
      if (used == capacity && !deliver(buffer.get(), std::exchange(used, 0))) return false;
    }
    return true;
  });
  if (stopped) return Outcome::kStopped;
  if (!read_ok) return Outcome::kBroken;
  if (used > 0 && !deliver(buffer.get(), used)) return Outcome::kStopped;
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
