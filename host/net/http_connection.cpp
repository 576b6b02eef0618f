#include "host/net/http_connection.h"

#include <fmt/format.h>
#include <httplib.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>

#include "host/net/http_ranges.h"

namespace quayd {
namespace {

template <typename Message>
bool HeaderIs(const Message& message, const char* name, std::string_view value) {
  const std::string_view v = FindHeader(message, name);
  return v.size() == value.size() && strncasecmp(v.data(), value.data(), value.size()) == 0;
}

// Methods whose requests may carry a body the handler reads.
bool MayCarryBody(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

// Whether the client asked to close after this exchange (HTTP/1.0 closes
// unless it asked to keep the connection).
bool ClientWantsClose(const httplib::Request& req) {
  if (req.version == "HTTP/1.0") return !HeaderIs(req, "Connection", "keep-alive");
  return HeaderIs(req, "Connection", "close");
}

// One read buffer per connection thread rather than per connection: a
// connection waiting for its next request keeps only its pending bytes.
// Not value-initialized (pages a thread never touched cost no memory);
// freed when the thread ends.
char* ThreadBuffer() {
  thread_local std::unique_ptr<char[]> buffer(new char[HttpConnection::kBufferSize]);
  return buffer.get();
}

std::string_view RefusalMessage(int status) {
  switch (status) {
    case 408:
      return "the request head arrived too slowly";
    case 429:
      return "too many connections from this address; retry later";
    case 503:
      return "too many connections; retry later";
    default:
      return "malformed request head";
  }
}

}  // namespace

HttpConnection::HttpConnection(ClientSocket& socket, const HttpServerOptions& options,
                               const HttpHandlers& handlers, const std::atomic<bool>& stopping)
    : socket_(socket),
      fd_(socket.fd),
      options_(options),
      handlers_(handlers),
      stopping_(stopping),
      send_flags_(MSG_NOSIGNAL),
      reader_([this](httplib::ContentReceiver receiver) { return ReadBody(receiver); },
              [](httplib::MultipartContentHeader, httplib::ContentReceiver) { return false; }) {}

bool HttpConnection::Serve() {
  // Nothing may escape a connection thread (std::terminate would take the
  // server down): a throw outside the handler (a response body provider, a
  // log call, an allocation) ends this connection only.
  try {
    buffer_ = ThreadBuffer();
    // What the head reader received: a head, and what came with it.
    end_ = std::min(socket_.pending.size(), kBufferSize);
    std::memcpy(buffer_, socket_.pending.data(), end_);
    begin_ = 0;
    socket_.pending.clear();
    Next next = Next::kServe;
    while (next == Next::kServe) {
      next = stopping_.load(std::memory_order_relaxed) ? Next::kClose : ServeOne();
    }
    if (next == Next::kWaitForHead) {
      socket_.pending.assign(buffer_ + begin_, buffered());
      return true;
    }
    if (unread_body_) LingeringClose();
  } catch (...) {
  }
  return false;
}

void HttpConnection::Refuse(int status) {
  // A TLS client that has not finished its handshake cannot read an answer.
  if (!socket_.handshake_done()) return;
  try {
    httplib::Request req;
    httplib::Response res;
    req.remote_addr = socket_.host;
    req.remote_port = socket_.port;
    handlers_.reject(res, status, RefusalMessage(status));
    if ((status == 429 || status == 503) && !res.has_header("Retry-After")) {
      res.set_header("Retry-After", "1");
    }
    handlers_.decorate(req, res);
    // From the head reader's thread, which must never wait on one client:
    // what does not fit the socket's send buffer is dropped.
    send_flags_ |= MSG_DONTWAIT;
    WriteResponse(req, res, /*close=*/true);
    handlers_.log(req, res);
    ::shutdown(fd_, SHUT_WR);
    // Read what has already arrived, so that the close sends a FIN rather
    // than a reset that could destroy the answer before the client reads
    // it. Nothing later is waited for.
    char sink[4096];
    for (int i = 0; i < 16 && socket_.Recv(sink, sizeof(sink), /*dontwait=*/true) > 0; ++i) {
    }
  } catch (...) {
  }
}

void HttpConnection::LingeringClose() {
  // Closing a socket with unread input makes the kernel send a reset, which
  // can destroy the response before the client has read it: a client still
  // sending a large layer would see "connection reset" instead of the 401
  // or 416 that explains why. So: end our side, then read and drop what the
  // client still sends, for a bounded time and amount, before the close.
  if (::shutdown(fd_, SHUT_WR) != 0) return;
  const auto deadline = std::chrono::steady_clock::now() + kLingerTime;
  uint64_t dropped = 0;
  while (dropped < kLingerBytes) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return;
    const ssize_t got = socket_.Recv(buffer_, kBufferSize, /*dontwait=*/true);
    if (got <= 0) return;  // the client closed too (or an error): done
    dropped += static_cast<uint64_t>(got);
  }
}

HttpConnection::Next HttpConnection::ServeOne() {
  httplib::Request req;
  httplib::Response res;
  req.remote_addr = socket_.host;
  req.remote_port = socket_.port;
  const int head_error = ReadHead(req);
  if (head_error == kClosed) return Next::kClose;
  if (head_error == kNoHeadYet) return Next::kWaitForHead;
  bool close = false;
  if (head_error > 0) {
    handlers_.reject(
        res, head_error,
        head_error == 408 ? "the request head arrived too slowly" : "malformed request head");
    close = true;
  } else {
    BeginBody(req);
    try {
      handlers_.serve(req, res, MayCarryBody(req.method) ? &reader_ : nullptr);
    } catch (const std::exception& e) {
      res = httplib::Response();
      handlers_.reject(res, 500, e.what());
      close = true;
    } catch (...) {
      res = httplib::Response();
      handlers_.reject(res, 500, "unknown exception");
      close = true;
    }
    close = close || !framing_.status.ok() || framing_.close_after || ClientWantsClose(req) ||
            HeaderIs(res, "Connection", "close") ||
            ++socket_.served >= options_.keep_alive_max_requests ||
            stopping_.load(std::memory_order_relaxed);
    if (!close && !BodyComplete()) close = !DrainBody();
  }
  close = close || HeaderIs(res, "Connection", "close");
  handlers_.decorate(req, res);
  bool written = false;
  try {
    written = WriteResponse(req, res, close);
  } catch (...) {
    written = false;  // the head may be out: only closing is safe
  }
  handlers_.log(req, res);
  // Closing while the client may still be sending this request's body.
  unread_body_ = close && head_error == 0 && !BodyComplete() && !body_broken_;
  return written && !close ? Next::kServe : Next::kClose;
}

ssize_t HttpConnection::Receive(char* dst, size_t n, Wait wait) {
  // SO_RCVTIMEO is next_request_wait: between requests that is how long
  // this thread waits. Inside a request the read goes on waiting, in
  // poll() (no periodic wake-ups), until the I/O timeout passes without a
  // byte.
  timed_out_ = false;
  std::optional<std::chrono::steady_clock::time_point> deadline;
  for (;;) {
    const ssize_t got = socket_.Recv(dst, n, /*dontwait=*/false);
    if (got >= 0) return got;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
    if (wait == Wait::kIdle) {
      timed_out_ = true;
      return -1;
    }
    if (stopping_.load(std::memory_order_relaxed)) return -1;
    const auto now = std::chrono::steady_clock::now();
    if (!deadline) deadline = now + options_.io_timeout;
    if (now >= *deadline) return -1;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - now);
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count()) + 1) < 0 && errno != EINTR) return -1;
  }
}

bool HttpConnection::Fill(Wait wait) {
  if (begin_ == end_) {
    begin_ = end_ = 0;
  } else if (end_ == kBufferSize) {
    std::memmove(buffer_, buffer_ + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == kBufferSize) return false;  // a line longer than the buffer
  const ssize_t got = Receive(buffer_ + end_, kBufferSize - end_, wait);
  if (got <= 0) return false;
  end_ += static_cast<size_t>(got);
  return true;
}

int HttpConnection::ReadHead(httplib::Request& req) {
  RequestHeadScan scan;
  // Set once this thread starts waiting for bytes: unless a whole head is
  // here by then, the connection goes back to the head reader with what
  // came of it, so a slow or idle client does not keep the thread.
  std::optional<ClientSocket::Clock::time_point> give_up;
  for (;;) {
    if (!scan.started()) begin_ += LeadingEmptyLines({buffer_ + begin_, buffered()});
    const std::string_view data(buffer_ + begin_, buffered());
    switch (scan.Next(data)) {
      case RequestHeadScan::Result::kComplete:
        begin_ += scan.end();
        socket_.head_started.reset();
        return ParseRequestHead(data.substr(0, scan.end() - 2), req);
      case RequestHeadScan::Result::kRefused:
        return scan.status();
      case RequestHeadScan::Result::kIncomplete:
        break;
    }
    const auto now = ClientSocket::Clock::now();
    if (!data.empty()) {
      // A head must be whole within the I/O timeout of its first byte,
      // wherever it is read.
      if (!socket_.head_started) socket_.head_started = now;
      if (now - *socket_.head_started > options_.io_timeout) return 408;
    }
    if (!give_up) {
      give_up = now + options_.next_request_wait;
      socket_.idle_since = now;  // the last response is out
    } else if (now >= *give_up) {
      return kNoHeadYet;
    }
    if (!Fill(Wait::kIdle)) return timed_out_ ? kNoHeadYet : kClosed;
  }
}

bool HttpConnection::ReadLine(std::string& line, size_t max) {
  for (;;) {
    const std::string_view data(buffer_ + begin_, buffered());
    const size_t eol = data.find("\r\n");
    if (eol != std::string_view::npos) {
      if (eol > max) return false;
      line.assign(data.substr(0, eol));
      begin_ += eol + 2;
      return true;
    }
    if (data.size() > max + 1 || !Fill(Wait::kBusy)) return false;
  }
}

void HttpConnection::BeginBody(const httplib::Request& req) {
  framing_ = ParseBodyFraming(req);
  body_left_ = framing_.status.ok() ? framing_.content_length : 0;
  chunk_state_ = ChunkState::kSize;
  chunk_left_ = 0;
  trailer_bytes_ = 0;
  body_broken_ = false;
  continue_sent_ = false;
  expect_continue_ = req.version == "HTTP/1.1" && HeaderIs(req, "Expect", "100-continue");
}

bool HttpConnection::BodyComplete() const {
  if (!framing_.status.ok()) return false;
  return framing_.chunked ? chunk_state_ == ChunkState::kDone : body_left_ == 0;
}

bool HttpConnection::SendContinue() {
  if (!expect_continue_ || continue_sent_) return true;
  continue_sent_ = true;
  return SendAll("HTTP/1.1 100 Continue\r\n\r\n");
}

bool HttpConnection::ReadBody(const std::function<bool(const char*, size_t)>& receiver) {
  if (!framing_.status.ok() || body_broken_) return false;
  if (BodyComplete()) return true;
  if (!SendContinue()) {
    body_broken_ = true;
    return false;
  }
  if (framing_.chunked) return ReadChunked(receiver);
  while (body_left_ > 0) {
    if (buffered() == 0) {
      // Straight into the buffer's start, never past this body.
      begin_ = end_ = 0;
      const size_t want = static_cast<size_t>(std::min<uint64_t>(body_left_, kBufferSize));
      const ssize_t got = Receive(buffer_, want, Wait::kBusy);
      if (got <= 0) {
        body_broken_ = true;
        return false;
      }
      end_ = static_cast<size_t>(got);
    }
    const size_t take = static_cast<size_t>(std::min<uint64_t>(buffered(), body_left_));
    const char* data = buffer_ + begin_;
    begin_ += take;
    body_left_ -= take;
    if (!receiver(data, take)) return false;
  }
  return true;
}

bool HttpConnection::ReadChunked(const std::function<bool(const char*, size_t)>& receiver) {
  std::string line;
  auto broken = [this] {
    body_broken_ = true;
    return false;
  };
  for (;;) {
    switch (chunk_state_) {
      case ChunkState::kSize: {
        if (!ReadLine(line, 1024)) return broken();
        std::optional<uint64_t> size = ParseChunkSize(line);
        if (!size) return broken();
        chunk_left_ = *size;
        chunk_state_ = *size == 0 ? ChunkState::kTrailers : ChunkState::kData;
        break;
      }
      case ChunkState::kData:
        while (chunk_left_ > 0) {
          if (buffered() == 0) {
            begin_ = end_ = 0;
            const ssize_t got = Receive(buffer_, kBufferSize, Wait::kBusy);
            if (got <= 0) return broken();
            end_ = static_cast<size_t>(got);
          }
          const size_t take = static_cast<size_t>(std::min<uint64_t>(buffered(), chunk_left_));
          const char* data = buffer_ + begin_;
          begin_ += take;
          chunk_left_ -= take;
          if (!receiver(data, take)) return false;
        }
        chunk_state_ = ChunkState::kDataEnd;
        break;
      case ChunkState::kDataEnd:
        if (!ReadLine(line, 0) || !line.empty()) return broken();
        chunk_state_ = ChunkState::kSize;
        break;
      case ChunkState::kTrailers:
        // Trailer fields are read and ignored (nothing here relies on them).
        if (!ReadLine(line, 8192) || !IsFieldText(line)) return broken();
        trailer_bytes_ += line.size() + 2;
        if (trailer_bytes_ > kMaxRequestHead) return broken();
        if (line.empty()) chunk_state_ = ChunkState::kDone;
        break;
      case ChunkState::kDone:
        return true;
    }
  }
}

bool HttpConnection::DrainBody() {
  if (!framing_.status.ok() || body_broken_) return false;
  // The client is waiting for "100 Continue" before sending the body; it
  // may send it anyway or not at all, so only a close is unambiguous.
  if (expect_continue_ && !continue_sent_) return false;
  if (!framing_.chunked && body_left_ > kDrainLimit) return false;
  uint64_t drained = 0;
  const bool ok = ReadBody([&drained](const char*, size_t n) {
    drained += n;
    return drained <= kDrainLimit;  // bounds a chunked body of unknown size
  });
  return ok && BodyComplete();
}

bool HttpConnection::SendAll(std::string_view data) { return SendTwo(data, {}); }

bool HttpConnection::SendTwo(std::string_view first, std::string_view second) {
  iovec parts[2] = {{const_cast<char*>(first.data()), first.size()},
                    {const_cast<char*>(second.data()), second.size()}};
  iovec* next = parts;
  int count = second.empty() ? 1 : 2;
  while (count > 0) {
    const ssize_t sent = socket_.Send(next, count, (send_flags_ & MSG_DONTWAIT) != 0);
    if (sent < 0) {
      if (errno == EINTR) continue;
      return false;  // includes SO_SNDTIMEO expiring (a stalled reader) and EAGAIN in Refuse
    }
    auto left = static_cast<size_t>(sent);
    while (count > 0 && left >= next->iov_len) {
      left -= next->iov_len;
      ++next;
      --count;
    }
    if (count > 0) {
      next->iov_base = static_cast<char*>(next->iov_base) + left;
      next->iov_len -= left;
    }
  }
  return true;
}

bool HttpConnection::WriteResponse(const httplib::Request& req, httplib::Response& res,
                                   bool close) {
  if (res.status <= 0) res.status = 200;
  const bool provided = static_cast<bool>(res.content_provider_);
  const bool chunked = provided && res.content_length_ == 0;
  // The body's length: what is provided or held, else a Content-Length the
  // handler set itself (HEAD answers carry the GET's length and no body).
  uint64_t length = provided ? res.content_length_ : res.body.size();
  if (!provided && res.body.empty() && req.method == "HEAD") {
    const std::string_view declared = FindHeader(res, "Content-Length");
    if (!declared.empty()) length = ParseDecimal(declared).value_or(0);
  }
  res.headers.erase("Content-Length");
  res.headers.erase("Transfer-Encoding");
  if (chunked) {
    res.headers.emplace("Transfer-Encoding", "chunked");
  } else if (res.status != 204 && res.status != 304) {
    res.headers.emplace("Content-Length", std::to_string(length));
  }
  if (close && !HeaderIs(res, "Connection", "close")) {
    res.headers.erase("Connection");
    res.headers.emplace("Connection", "close");
  }

  std::string head;
  head.reserve(512);
  head += "HTTP/1.1 ";
  head += std::to_string(res.status);
  head += ' ';
  head += ReasonPhrase(res.status);
  head += "\r\n";
  for (const auto& [name, value] : res.headers) {
    head += name;
    head += ": ";
    head += value;
    head += "\r\n";
  }
  head += "\r\n";

  const bool head_only = req.method == "HEAD" || res.status == 204 || res.status == 304;
  if (head_only) return SendAll(head);
  if (chunked) return WriteChunked(res, std::move(head));
  if (provided) return WriteProvided(res, std::move(head), length);
  return SendTwo(head, res.body);
}

bool HttpConnection::WriteProvided(httplib::Response& res, std::string head, uint64_t length) {
  // The head leaves with the first piece of the body.
  uint64_t offset = 0;
  httplib::DataSink sink;
  sink.is_writable = [] { return true; };
  sink.done = [] {};
  sink.write = [&](const char* data, size_t n) {
    // More than announced would be read as the next response.
    if (n > length - offset) return false;
    const bool ok = head.empty() ? SendAll({data, n}) : SendTwo(head, {data, n});
    head.clear();
    if (ok) offset += n;
    return ok;
  };
  while (offset < length) {
    // Stopping: Server::Stop already waited for in-flight requests.
    if (stopping_.load(std::memory_order_relaxed)) return false;
    const uint64_t before = offset;
    if (!res.content_provider_(static_cast<size_t>(offset), static_cast<size_t>(length - offset),
                               sink) ||
        offset == before) {
      return false;  // headers may be out: closing tells the client the body is short
    }
  }
  res.content_provider_success_ = true;
  return head.empty() || SendAll(head);
}

bool HttpConnection::WriteChunked(httplib::Response& res, std::string head) {
  if (!SendAll(head)) return false;
  uint64_t offset = 0;
  bool done = false;
  httplib::DataSink sink;
  sink.is_writable = [] { return true; };
  sink.done = [&done] { done = true; };
  sink.write = [&](const char* data, size_t n) {
    if (n == 0) return true;
    const std::string size_line = fmt::format("{:x}\r\n", n);
    std::string piece = size_line;
    piece.append(data, n);
    piece += "\r\n";
    if (!SendAll(piece)) return false;
    offset += n;
    return true;
  };
  while (!done) {
    const uint64_t before = offset;
    if (stopping_.load(std::memory_order_relaxed) ||
        !res.content_provider_(static_cast<size_t>(offset), 0, sink) ||
        (!done && offset == before)) {
      return false;  // failed, stopping, or no progress
    }
  }
  res.content_provider_success_ = true;
  return SendAll("0\r\n\r\n");
}

}  // namespace quayd
