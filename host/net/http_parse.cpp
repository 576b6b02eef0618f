#include "host/net/http_parse.h"

#include <httplib.h>
#include <strings.h>

#include "host/net/http_ranges.h"

namespace quayd {
namespace {

// RFC 9110 tchar: the characters of methods and header names.
bool IsTokenChar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTokenChar(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void ParseQuery(std::string_view query, httplib::Params& params) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    params.emplace(PercentDecode(key, true), PercentDecode(value, true));
  }
}

}  // namespace

bool IsFieldText(std::string_view s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

bool PlausibleRequestLine(std::string_view received, size_t from) {
  // The line ends at the first CRLF; none lies before `from` - 1 (the
  // caller stops asking once the line is complete).
  const size_t eol = received.find("\r\n", from >= 1 ? from - 1 : 0);
  std::string_view line = received.substr(0, eol);
  // A CR at the very end may be the first half of the CRLF.
  if (eol == std::string_view::npos && !line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  // Control characters only: the rule IsFieldText applies to the target
  // once the line is complete.
  for (size_t i = std::min(from, line.size()); i < line.size(); ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

std::string PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      const int hi = HexValue(text[i + 1]);
      const int lo = HexValue(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += (plus_is_space && c == '+') ? ' ' : c;
  }
  return out;
}

int ParseRequestHead(std::string_view head, httplib::Request& req) {
  size_t eol = head.find("\r\n");
  if (eol == std::string_view::npos) return 400;
  std::string_view line = head.substr(0, eol);
  head.remove_prefix(eol + 2);

  // request-line = method SP request-target SP HTTP-version
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return 400;
  const size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return 400;
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(method)) return 400;
  if (target.size() > kMaxRequestTarget) return 414;
  // Origin form only: a registry is not a proxy, and "*" is for OPTIONS.
  if (target.empty() || target.front() != '/' || !IsFieldText(target) ||
      target.find_first_of(" \t") != std::string_view::npos) {
    return 400;
  }
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.') return 400;
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) return 400;

  req.method = std::string(method);
  req.target = std::string(target);
  req.version = std::string(version);
  const size_t question = target.find('?');
  req.path = PercentDecode(target.substr(0, question), false);
  if (question != std::string_view::npos) ParseQuery(target.substr(question + 1), req.params);

  while (!head.empty()) {
    eol = head.find("\r\n");
    if (eol == std::string_view::npos) return 400;
    line = head.substr(0, eol);
    head.remove_prefix(eol + 2);
    // Obsolete line folding continues the previous header; RFC 9112 lets a
    // server reject it, and accepting it invites disagreement with proxies.
    if (line.empty() || line.front() == ' ' || line.front() == '\t') return 400;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return 400;
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = TrimSpace(line.substr(colon + 1));
    if (!IsToken(name) || !IsFieldText(value)) return 400;
    req.headers.emplace(std::string(name), std::string(value));
  }
  return 0;
}

BodyFraming ParseBodyFraming(const httplib::Request& req) {
  BodyFraming framing;
  bool has_length = false;
  bool has_encoding = false;
  std::string_view length;
  for (const auto& [name, value] : req.headers) {
    if (!strcasecmp(name.c_str(), "Content-Length")) {
      if (has_length && value != length) {
        framing.status = quay::Status::InvalidArgument(quay::Subject::kSize,
                                                       "conflicting Content-Length headers");
        return framing;
      }
      has_length = true;
      length = value;
    } else if (!strcasecmp(name.c_str(), "Transfer-Encoding")) {
      if (has_encoding || strcasecmp(value.c_str(), "chunked") != 0) {
        framing.status = quay::Status::InvalidArgument(
            quay::Subject::kNone, "only chunked Transfer-Encoding is supported");
        return framing;
      }
      has_encoding = true;
    } else if (!strcasecmp(name.c_str(), "Content-Encoding")) {
      if (!value.empty() && strcasecmp(value.c_str(), "identity") != 0) {
        framing.status = quay::Status::InvalidArgument(
            quay::Subject::kNone, "Content-Encoding is not supported on requests");
        return framing;
      }
    }
  }
  if (has_length) {
    std::optional<uint64_t> parsed = ParseDecimal(length);
    if (!parsed) {
      framing.status =
          quay::Status::InvalidArgument(quay::Subject::kSize, "invalid Content-Length");
      return framing;
    }
    framing.content_length = *parsed;
  }
  // Both headers: chunked wins (RFC 9112 6.3), and the length is ignored.
  if (has_encoding) {
    framing.chunked = true;
    framing.content_length = 0;
    framing.close_after = has_length;
  }
  return framing;
}

std::optional<uint64_t> ParseChunkSize(std::string_view line) {
  // No control characters anywhere (a bare LF or CR would let a front end
  // that ends lines differently frame the body another way).
  if (!IsFieldText(line) || line.find('\t') != std::string_view::npos) return std::nullopt;
  if (size_t semicolon = line.find(';'); semicolon != std::string_view::npos) {
    line = line.substr(0, semicolon);
  }
  // Whitespace only between the size and its extensions (BWS), never before.
  while (!line.empty() && line.back() == ' ') line.remove_suffix(1);
  if (line.empty() || line.size() > 15) return std::nullopt;  // 16^15 = 2^60
  uint64_t size = 0;
  for (char c : line) {
    const int digit = HexValue(c);
    if (digit < 0) return std::nullopt;
    size = size * 16 + static_cast<uint64_t>(digit);
  }
  return size;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "";
  }
}

namespace {

std::string_view FindIn(const httplib::Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && strncasecmp(key.data(), name.data(), name.size()) == 0) {
      return value;
    }
  }
  return {};
}

}  // namespace

std::string_view FindHeader(const httplib::Request& req, std::string_view name) {
  return FindIn(req.headers, name);
}

std::string_view FindHeader(const httplib::Response& res, std::string_view name) {
  return FindIn(res.headers, name);
}

RequestHeadScan::Result RequestHeadScan::Next(std::string_view data) {
  auto refuse = [this](int status) {
    status_ = status;
    return Result::kRefused;
  };
  // The blank line may straddle the bytes scanned before and the new ones.
  const size_t blank = data.find("\r\n\r\n", scanned_ >= 3 ? scanned_ - 3 : 0);
  if (blank != std::string_view::npos) {
    if (blank + 4 > kMaxRequestHead) return refuse(431);
    end_ = blank + 4;
    return Result::kComplete;
  }
  if (data.size() >= kMaxRequestHead) return refuse(431);
  if (!line_seen_) {
    if (!PlausibleRequestLine(data, scanned_)) return refuse(400);
    line_seen_ = data.find("\r\n", scanned_ >= 1 ? scanned_ - 1 : 0) != std::string_view::npos;
    if (!line_seen_ && data.size() > kMaxRequestTarget + 64) return refuse(414);
  }
  scanned_ = data.size();
  return Result::kIncomplete;
}

size_t LeadingEmptyLines(std::string_view data) {
  size_t n = 0;
  while (data.size() - n >= 2 && data[n] == '\r' && data[n + 1] == '\n') n += 2;
  return n;
}

}  // namespace quayd
