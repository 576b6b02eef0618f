// HTTP/1.1 message syntax for quayd's own connection loop (http_server.h):
// the request head, the body framing headers and chunked-coding size lines.
//
// Pure functions over bytes already received, so every rule is unit-tested
// without a socket. The parsed request is a cpp-httplib Request because the
// handlers are written against it; only the parsing is ours (cpp-httplib
// 0.11 reads a head one byte per virtual call and compares header names with
// tolower() per character, a third of the CPU of a manifest GET).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "quay/status.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace quayd {

// The largest request head (request line and headers) read; more is 431.
inline constexpr size_t kMaxRequestHead = size_t{64} << 10;
// The longest request target; more is 414.
inline constexpr size_t kMaxRequestTarget = 8192;

// Fills method, target, version, path (percent-decoded), params and headers
// of `req` from `head`: the request line and header lines, each ending in
// CRLF, without the blank line. Returns 0, or the HTTP status that answers a
// malformed head: 400 (syntax, or not HTTP/1.x), 414 (target too long).
// Strict where leniency lets two parsers disagree (whitespace before a
// header's colon, obsolete line folding, bare CR, control characters).
int ParseRequestHead(std::string_view head, httplib::Request& req);

// Visible characters, SP, HTAB and obs-text (no other control characters):
// what a field value, a trailer line and a request target may hold.
bool IsFieldText(std::string_view text);

// Whether `received`, the start of a head without its blank line yet, can
// still become a request line: no control characters up to the first CRLF
// (a CR may end it, waiting for its LF). Bytes before `from` were checked by
// an earlier call (the head grows as it arrives; each byte is looked at once).
bool PlausibleRequestLine(std::string_view received, size_t from = 0);

// Where a request head ends, in bytes as they arrive. One scan per head:
// each Next() gets the bytes of the last call plus what arrived since (the
// start of the head at data[0]), and looks at each byte about once. Both the
// head reader (head_reader.h) and a connection thread scan with it, so a head
// is refused for the same reasons wherever it is read.
class RequestHeadScan {
 public:
  enum class Result : unsigned char { kIncomplete, kComplete, kRefused };

  // kComplete: the head and its blank line are data[0, end()). kRefused:
  // status() answers it: 431 (more than kMaxRequestHead), 414 (a request
  // line longer than any target we accept) or 400 (bytes that cannot become
  // a request line, e.g. a TLS ClientHello: refused at once, not at a
  // timeout, because such clients retry in plain HTTP on a quick error).
  Result Next(std::string_view data);
  size_t end() const { return end_; }
  int status() const { return status_; }
  // Whether any byte was scanned (empty lines before a head are dropped
  // only until then: LeadingEmptyLines).
  bool started() const { return scanned_ > 0; }

 private:
  size_t scanned_ = 0;      // bytes searched for the blank line
  bool line_seen_ = false;  // the request line is complete (and was checked)
  size_t end_ = 0;
  int status_ = 0;
};

// The length of the empty lines (CRLF pairs) at the front of `data`: RFC
// 9112 2.2 says to ignore them before a request line.
size_t LeadingEmptyLines(std::string_view data);

// %XX-decoding; invalid escapes stay as they are. `plus_is_space` for query
// components (application/x-www-form-urlencoded), not for paths.
std::string PercentDecode(std::string_view text, bool plus_is_space);

// How the request body is delimited.
struct BodyFraming {
  quay::Status status;  // InvalidArgument(kSize / kNone) for unusable framing
  bool chunked = false;
  uint64_t content_length = 0;  // when !chunked; 0 without the header
  // Both Transfer-Encoding and Content-Length: the body is read as chunked
  // and the connection closes after the response (RFC 9112 6.1), since an
  // intermediary may have framed it the other way (request smuggling).
  bool close_after = false;
};

// Content-Length must be one decimal value below 2^63 (identical duplicates
// allowed; differing ones are a request-smuggling vector), Transfer-Encoding
// only "chunked", Content-Encoding absent or "identity" (a compressed blob
// would otherwise be hashed compressed).
BodyFraming ParseBodyFraming(const httplib::Request& req);

// The size of a chunk from its size line ("1a2f", "1a2f;name=value"),
// without the CRLF; nullopt for anything else or a size of 2^63 or more.
std::optional<uint64_t> ParseChunkSize(std::string_view line);

// The reason phrase of a status code ("Not Found"), "" for unknown ones.
std::string_view ReasonPhrase(int status);

// The value of the first header named `name` (any case), or empty. A scan
// comparing lengths first: the headers' multimap compares through tolower()
// per character, which made one lookup cost about as much as a pull's audit
// record.
std::string_view FindHeader(const httplib::Request& req, std::string_view name);
std::string_view FindHeader(const httplib::Response& res, std::string_view name);

}  // namespace quayd
