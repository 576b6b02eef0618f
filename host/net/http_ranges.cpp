#include "host/net/http_ranges.h"

#include <fmt/format.h>

namespace quayd {
namespace {

constexpr uint64_t kMaxDecimal = (uint64_t{1} << 63) - 1;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool ConsumePrefix(std::string_view& s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  s.remove_prefix(prefix.size());
  return true;
}

}  // namespace

std::optional<uint64_t> ParseDecimal(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value > kMaxDecimal) return std::nullopt;
  return value;
}

quay::Result<ByteRange> ParseUploadContentRange(std::string_view value) {
  auto invalid = [&] {
    return quay::Status::InvalidArgument(quay::Subject::kRange,
                                         "Content-Range must be <start>-<end>");
  };
  std::string_view s = Trim(value);
  if (!ConsumePrefix(s, "bytes=")) ConsumePrefix(s, "bytes ");
  s = Trim(s);
  if (size_t slash = s.find('/'); slash != std::string_view::npos) {
    std::string_view total = s.substr(slash + 1);
    if (total != "*" && !ParseDecimal(total)) return invalid();
    s = s.substr(0, slash);
  }
  size_t dash = s.find('-');
  if (dash == std::string_view::npos) return invalid();
  std::optional<uint64_t> first = ParseDecimal(s.substr(0, dash));
  std::optional<uint64_t> last = ParseDecimal(s.substr(dash + 1));
  if (!first || !last || *last < *first) return invalid();
  return ByteRange{*first, *last};
}

std::string UploadRangeHeader(uint64_t offset) {
  return fmt::format("0-{}", offset == 0 ? 0 : offset - 1);
}

RangeRequest ResolveRange(std::string_view header, uint64_t size) {
  RangeRequest full;
  std::string_view s = Trim(header);
  if (s.empty() || !ConsumePrefix(s, "bytes=")) return full;
  if (s.find(',') != std::string_view::npos) return full;  // multi-range: serve whole
  s = Trim(s);
  size_t dash = s.find('-');
  if (dash == std::string_view::npos) return full;
  std::string_view first_text = Trim(s.substr(0, dash));
  std::string_view last_text = Trim(s.substr(dash + 1));

  RangeRequest out;
  out.kind = RangeRequest::Kind::kPartial;
  if (first_text.empty()) {
    // Suffix range: the last n bytes.
    std::optional<uint64_t> n = ParseDecimal(last_text);
    if (!n) return full;
    if (*n == 0 || size == 0) return {RangeRequest::Kind::kUnsatisfiable, {}};
    uint64_t take = *n < size ? *n : size;
    out.range = {size - take, size - 1};
    return out;
  }
  std::optional<uint64_t> first = ParseDecimal(first_text);
  if (!first) return full;
  uint64_t last = size == 0 ? 0 : size - 1;
  if (!last_text.empty()) {
    std::optional<uint64_t> parsed = ParseDecimal(last_text);
    if (!parsed || *parsed < *first) return full;
    if (*parsed < last) last = *parsed;
  }
  if (*first >= size) return {RangeRequest::Kind::kUnsatisfiable, {}};
  out.range = {*first, last};
  return out;
}

std::string ContentRangeHeader(const ByteRange& range, uint64_t size) {
  return fmt::format("bytes {}-{}/{}", range.first, range.last, size);
}

}  // namespace quayd
