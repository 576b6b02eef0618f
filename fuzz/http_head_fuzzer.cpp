// The request-head parser (host/net/http_parse.h) on arbitrary bytes: the
// head as HttpConnection hands it over (up to the blank line), then the body
// framing and header lookups every request goes through. Properties checked
// beyond "no crash, no UB": the parser answers 0 or one of its documented
// statuses, and a parsed request's path holds no NUL or CR/LF.
#include <httplib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "host/net/http_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (input.size() > quayd::kMaxRequestHead) return -1;  // 431 before parsing

  // As the connection does: the line check on the bytes received so far.
  (void)quayd::PlausibleRequestLine(input);
  (void)quayd::IsFieldText(input);

  httplib::Request req;
  const int status = quayd::ParseRequestHead(input, req);
  if (status != 0 && status != 400 && status != 414) std::abort();
  if (status != 0) return 0;
  if (req.method.empty() || req.target.empty() || req.target[0] != '/') std::abort();
  if (req.path.find_first_of(std::string_view("\r\n", 2)) != std::string::npos) std::abort();

  const quayd::BodyFraming framing = quayd::ParseBodyFraming(req);
  if (framing.status.ok() && !framing.chunked && framing.content_length >= (uint64_t{1} << 63)) {
    std::abort();
  }
  (void)quayd::FindHeader(req, "Host");
  (void)quayd::FindHeader(req, "Authorization");
  (void)quayd::PercentDecode(req.target, /*plus_is_space=*/true);
  return 0;
}
