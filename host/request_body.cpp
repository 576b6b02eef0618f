#include "host/request_body.h"

#include <httplib.h>
#include <strings.h>

#include <algorithm>
#include <memory>
#include <string>

#include "host/http_ranges.h"

namespace quayd {
namespace {

bool IsChunked(const httplib::Request& req) {
  return !strcasecmp(req.get_header_value("Transfer-Encoding").c_str(), "chunked");
}

quay::Status CheckFraming(const httplib::Request& req) {
  const size_t lengths = req.get_header_value_count("Content-Length");
  if (lengths > 0) {
    std::string first = req.get_header_value("Content-Length");
    if (!ParseDecimal(first)) {
      return quay::Status::InvalidArgument(quay::Subject::kSize, "invalid Content-Length");
    }
    // Differing duplicates are a request-smuggling vector; reject them.
    for (size_t i = 1; i < lengths; ++i) {
      if (req.get_header_value("Content-Length", i) != first) {
        return quay::Status::InvalidArgument(quay::Subject::kSize,
                                             "conflicting Content-Length headers");
      }
    }
  }
  if (req.has_header("Transfer-Encoding") && !IsChunked(req)) {
    return quay::Status::InvalidArgument(quay::Subject::kNone,
                                         "only chunked Transfer-Encoding is supported");
  }
  if (req.has_header("Content-Encoding")) {
    std::string encoding = req.get_header_value("Content-Encoding");
    if (!encoding.empty() && strcasecmp(encoding.c_str(), "identity") != 0) {
      return quay::Status::InvalidArgument(quay::Subject::kNone,
                                           "Content-Encoding is not supported on requests");
    }
  }
  return quay::Status::Ok();
}

}  // namespace

RequestBody::RequestBody(const httplib::Request& req, const httplib::ContentReader* reader)
    : reader_(reader), chunked_(IsChunked(req)), framing_(CheckFraming(req)) {
  if (!chunked_) content_length_ = ParseDecimal(req.get_header_value("Content-Length"));
}

RequestBody::Outcome RequestBody::Stream(
    const std::function<bool(const char* data, size_t size)>& sink) {
  streamed_ = true;
  if (empty()) {
    complete_ = true;
    return Outcome::kComplete;
  }
  if (reader_ == nullptr || !framing_.ok()) return Outcome::kBroken;

  const size_t capacity =
      content_length_ ? static_cast<size_t>(std::min<uint64_t>(*content_length_, kBufferSize))
                      : kBufferSize;
  std::unique_ptr<char[]> buffer(new char[capacity]);
  size_t used = 0;
  bool stopped = false;

  bool read_ok = (*reader_)([&](const char* data, size_t n) {
    bytes_read_ += n;
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
  if (framing_.ok() && !streamed_ && reader_ != nullptr &&
      content_length_.value_or(0) <= kDrainLimit) {
    uint64_t drained = 0;
    bool ok = (*reader_)([&](const char*, size_t n) {
      drained += n;
      return drained <= kDrainLimit;  // bounds a chunked body of unknown size
    });
    if (ok) return;
  }
  ForceClose(res);
}

void ForceClose(httplib::Response& res) {
  res.set_header("Connection", "close");
  std::string content_type = res.get_header_value("Content-Type");
  if (content_type.empty()) content_type = "text/plain";
  res.headers.erase("Content-Type");
  auto body = std::make_shared<std::string>(std::move(res.body));
  res.body.clear();
  if (!body->empty()) {
    res.set_content_provider(
        body->size(), content_type, [body](size_t offset, size_t length, httplib::DataSink& sink) {
          sink.write(body->data() + offset, length);
          return false;  // everything is written; "failing" ends the connection
        });
  } else {
    if (!res.has_header("Content-Length")) res.set_header("Content-Length", "0");
    res.set_content_provider(content_type, [](size_t, httplib::DataSink&) { return false; });
  }
}

}  // namespace quayd
