// Byte-range headers of the v2 API, parsed without regexes:
//  * Content-Range on upload chunks ("<start>-<end>", inclusive), and
//  * Range on blob downloads ("bytes=a-b", "bytes=a-", "bytes=-n"),
// plus the Range value the registry reports for an upload session.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "quay/status.h"

namespace quayd {

// An inclusive byte range [first, last].
struct ByteRange {
  uint64_t first = 0;
  uint64_t last = 0;
  uint64_t length() const { return last - first + 1; }
};

// Parses an upload chunk's Content-Range: "<start>-<end>", optionally prefixed
// by "bytes=" or "bytes " (what docker and the OCI conformance suite send) and
// optionally followed by "/<total>" or "/*" (ignored). Requires end >= start.
// Error: InvalidArgument(kRange).
quay::Result<ByteRange> ParseUploadContentRange(std::string_view value);

// The Range header value for an upload holding `offset` bytes: "0-<offset-1>".
// An empty session reports "0-0", as the reference distribution registry does.
std::string UploadRangeHeader(uint64_t offset);

// What a blob download serves for a Range request header.
struct RangeRequest {
  enum class Kind : unsigned char {
    kFull,           // no (usable) Range: serve everything with 200
    kPartial,        // serve `range` with 206
    kUnsatisfiable,  // 416 with "Content-Range: bytes */<size>"
  };
  Kind kind = Kind::kFull;
  ByteRange range;
};

// Resolves a Range request header against a blob of `size` bytes. A single
// "bytes=" range is honoured; a multi-range request is served whole (200), as
// RFC 9110 allows a server to ignore Range, which spares multipart/byteranges.
// Syntactically invalid values are ignored too (cpp-httplib already answers
// most of them with 416 before a handler runs).
RangeRequest ResolveRange(std::string_view header, uint64_t size);

// "bytes <first>-<last>/<size>".
std::string ContentRangeHeader(const ByteRange& range, uint64_t size);

// Parses a non-empty run of decimal digits that fits in 63 bits (so it is
// also a valid off_t / ssize_t). No sign, no whitespace.
std::optional<uint64_t> ParseDecimal(std::string_view text);

}  // namespace quayd
