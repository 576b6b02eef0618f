#include "core/json_text.h"

#include <array>

#include "quay/logger.h"

namespace quay {

namespace {

// Bytes a JSON string may hold as they are: not '"', '\\', control bytes
// or DEL. A table: one load per byte instead of four comparisons.
constexpr auto kPlain = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = c >= 0x20 && c != '"' && c != '\\' && c != 0x7f;
  return t;
}();

}  // namespace

void AppendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  // Runs of characters that need no escape are appended whole: this builds
  // audit metadata and log lines on every request.
  size_t run = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    const auto u = static_cast<unsigned char>(ch);
    if (kPlain[u]) continue;
    out.append(text.data() + run, i - run);
    run = i + 1;
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        // Control bytes (and DEL) escaped: a value cannot forge a log line.
        out += "\\u00";
        out += kHex[u >> 4];
        out += kHex[u & 0xf];
    }
  }
  out.append(text.data() + run, text.size() - run);
  out += '"';
}

namespace core {

std::string JsonObjectText(
    const std::vector<std::pair<std::string_view, std::string_view>>& fields) {
  size_t size = 2;
  for (const auto& [key, value] : fields) size += key.size() + value.size() + 6;
  std::string out;
  out.reserve(size);  // one allocation unless something needs escaping
  out += '{';
  for (const auto& [key, value] : fields) {
    if (out.size() > 1) out += ',';
    AppendJsonString(out, key);
    out += ':';
    AppendJsonString(out, value);
  }
  out += '}';
  return out;
}

}  // namespace core
}  // namespace quay
