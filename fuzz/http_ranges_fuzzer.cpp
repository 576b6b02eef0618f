// Range and Content-Range parsing (host/net/http_ranges.h) and the chunk
// size lines of chunked bodies (host/net/http_parse.h). The first byte picks
// the parser, the next eight a blob size; the rest is the header value.
// Checked: every range served lies inside the blob, every upload range has
// first <= last, and what ParseDecimal accepts is all digits below 2^63.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "host/net/http_parse.h"
#include "host/net/http_ranges.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 9) return -1;
  const uint8_t which = data[0];
  uint64_t blob_size = 0;
  std::memcpy(&blob_size, data + 1, sizeof blob_size);
  // Mostly small blobs (where off-by-ones live), sometimes any size.
  if ((which & 0x80) == 0) blob_size %= 4096;
  const std::string_view value(reinterpret_cast<const char*>(data + 9), size - 9);

  switch (which % 4) {
    case 0: {
      const quayd::RangeRequest r = quayd::ResolveRange(value, blob_size);
      if (r.kind == quayd::RangeRequest::Kind::kPartial) {
        if (r.range.first > r.range.last || r.range.last >= blob_size) std::abort();
        (void)quayd::ContentRangeHeader(r.range, blob_size);
      }
      break;
    }
    case 1: {
      quay::Result<quayd::ByteRange> r = quayd::ParseUploadContentRange(value);
      if (r.ok() && r->first > r->last) std::abort();
      if (r.ok()) (void)quayd::UploadRangeHeader(r->last);
      break;
    }
    case 2: {
      const std::optional<uint64_t> n = quayd::ParseDecimal(value);
      if (n && (*n >= (uint64_t{1} << 63) || value.empty() ||
                value.find_first_not_of("0123456789") != std::string_view::npos)) {
        std::abort();
      }
      break;
    }
    case 3: {
      const std::optional<uint64_t> n = quayd::ParseChunkSize(value);
      if (n && *n >= (uint64_t{1} << 63)) std::abort();
      break;
    }
  }
  return 0;
}
