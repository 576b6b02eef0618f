// The request-head parser, body framing and chunk-size rules of quayd's own
// HTTP/1.1 loop (host/net/http_parse.h), without a socket.
#include "host/net/http_parse.h"

#include <doctest/doctest.h>
#include <httplib.h>

#include <string>

using quayd::ParseBodyFraming;
using quayd::ParseChunkSize;
using quayd::ParseRequestHead;
using quayd::PercentDecode;

namespace {

int Parse(const std::string& head, httplib::Request& req) { return ParseRequestHead(head, req); }

int Parse(const std::string& head) {
  httplib::Request req;
  return ParseRequestHead(head, req);
}

}  // namespace

TEST_CASE("a well-formed head fills method, target, path, query and headers") {
  httplib::Request req;
  REQUIRE(Parse("GET /v2/a%2Fb/tags/list?n=10&last=x%20y+z&flag HTTP/1.1\r\n"
                "Host: localhost:5000\r\n"
                "Authorization:   Bearer abc  \r\n"
                "accept: one\r\n"
                "Accept: two\r\n",
                req) == 0);
  CHECK(req.method == "GET");
  CHECK(req.version == "HTTP/1.1");
  CHECK(req.target == "/v2/a%2Fb/tags/list?n=10&last=x%20y+z&flag");
  // The path is decoded without turning '+' into a space; the query is.
  CHECK(req.path == "/v2/a/b/tags/list");
  CHECK(req.get_param_value("n") == "10");
  CHECK(req.get_param_value("last") == "x y z");
  CHECK(req.has_param("flag"));
  CHECK(req.get_header_value("Host") == "localhost:5000");
  CHECK(req.get_header_value("authorization") == "Bearer abc");  // names are case-insensitive
  CHECK(req.get_header_value_count("Accept") == 2);
}

TEST_CASE("malformed request lines and headers are 400 or 414") {
  CHECK(Parse("GET\r\n") == 400);
  CHECK(Parse("GET /v2/\r\n") == 400);
  CHECK(Parse("GET  /v2/ HTTP/1.1\r\n") == 400);         // empty target
  CHECK(Parse("GET v2/ HTTP/1.1\r\n") == 400);           // not origin form
  CHECK(Parse("GET http://x/v2/ HTTP/1.1\r\n") == 400);  // absolute form: not a proxy
  CHECK(Parse("G(T /v2/ HTTP/1.1\r\n") == 400);          // not a token
  CHECK(Parse("GET /v2/ HTTP/1.1 extra\r\n") == 400);
  CHECK(Parse("GET /v2/ HTTX/1.1\r\n") == 400);
  CHECK(Parse("GET /v2/ HTTP/2.0\r\n") == 400);  // bad input is 4xx, not 505
  CHECK(Parse("GET /v2/ HTTP/9.9\r\n") == 400);
  CHECK(Parse("GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n") == 414);
  CHECK(Parse("GET /v2/ HTTP/1.1\r\nBad Header\r\n") == 400);
  CHECK(Parse("GET /v2/ HTTP/1.1\r\nName : value\r\n") == 400);  // space before colon
  CHECK(Parse("GET /v2/ HTTP/1.1\r\nA: b\r\n folded\r\n") == 400);
  CHECK(Parse("GET /v2/ HTTP/1.1\r\nA: b\rc\r\n") == 400);  // bare CR
  constexpr char kNulInValue[] = "GET /v2/ HTTP/1.1\r\nA: b\0c\r\n";
  CHECK(Parse(std::string(kNulInValue, sizeof(kNulInValue) - 1)) == 400);
  CHECK(Parse("GET /v2/ HTTP/1.1\r\n: empty name\r\n") == 400);
  CHECK(Parse("GET /v2/ HTTP/1.0\r\n") == 0);
  CHECK(Parse("GET /v2/ HTTP/1.1\r\nX-Empty:\r\n") == 0);
}

TEST_CASE("percent-decoding keeps invalid escapes") {
  CHECK(PercentDecode("a%2fb%2F", false) == "a/b/");
  CHECK(PercentDecode("%zz%4", false) == "%zz%4");
  CHECK(PercentDecode("a+b", false) == "a+b");
  CHECK(PercentDecode("a+b", true) == "a b");
  CHECK(PercentDecode("%", true) == "%");
}

TEST_CASE("body framing: Content-Length, chunked, encodings") {
  auto framing_of = [](const std::string& headers) {
    httplib::Request req;
    REQUIRE(ParseRequestHead("PUT /x HTTP/1.1\r\n" + headers, req) == 0);
    return ParseBodyFraming(req);
  };
  auto none = framing_of("");
  CHECK(none.status.ok());
  CHECK_FALSE(none.chunked);
  CHECK(none.content_length == 0);

  auto sized = framing_of("Content-Length: 42\r\ncontent-length: 42\r\n");
  CHECK(sized.status.ok());
  CHECK(sized.content_length == 42);

  CHECK_FALSE(framing_of("Content-Length: 4\r\nContent-Length: 5\r\n").status.ok());
  CHECK_FALSE(framing_of("Content-Length: -1\r\n").status.ok());
  CHECK_FALSE(framing_of("Content-Length: 1e3\r\n").status.ok());
  CHECK_FALSE(framing_of("Content-Length: 99999999999999999999\r\n").status.ok());
  CHECK_FALSE(framing_of("Transfer-Encoding: gzip\r\n").status.ok());
  CHECK_FALSE(
      framing_of("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n").status.ok());
  CHECK_FALSE(framing_of("Content-Encoding: gzip\r\n").status.ok());
  CHECK(framing_of("Content-Encoding: identity\r\n").status.ok());

  auto chunked = framing_of("Transfer-Encoding: Chunked\r\nContent-Length: 10\r\n");
  CHECK(chunked.status.ok());
  CHECK(chunked.chunked);
  CHECK(chunked.content_length == 0);
  CHECK(chunked.close_after);  // both framings: close after the response
  CHECK_FALSE(framing_of("Transfer-Encoding: chunked\r\n").close_after);
}

TEST_CASE("chunk size lines") {
  CHECK(ParseChunkSize("0") == 0u);
  CHECK(ParseChunkSize("1a") == 26u);
  CHECK(ParseChunkSize("FF;name=value") == 255u);
  CHECK(ParseChunkSize("10 ") == 16u);
  CHECK_FALSE(ParseChunkSize(""));
  CHECK_FALSE(ParseChunkSize("g"));
  CHECK_FALSE(ParseChunkSize("-1"));
  CHECK_FALSE(ParseChunkSize("1000000000000000"));  // 16 hex digits: too big
  CHECK_FALSE(ParseChunkSize(" 10"));               // whitespace before the size
  CHECK_FALSE(ParseChunkSize("10\t"));
  CHECK_FALSE(ParseChunkSize("5;ext=a\nb"));  // a bare LF in an extension
  CHECK_FALSE(ParseChunkSize("5\r"));
}

TEST_CASE("a head that cannot become a request line is refused early") {
  using quayd::PlausibleRequestLine;
  CHECK(PlausibleRequestLine(""));
  CHECK(PlausibleRequestLine("GET /v2/ HT"));
  CHECK(PlausibleRequestLine("GET /v2/ HTTP/1.1\r"));
  CHECK(PlausibleRequestLine("GET /v2/ HTTP/1.1\r\nHost: x\r\nUser-Agent: \x01"));
  // A TLS ClientHello: record type 0x16, version 0x0301.
  CHECK_FALSE(PlausibleRequestLine(std::string("\x16\x03\x01\x02\x00\x01", 6)));
  CHECK_FALSE(PlausibleRequestLine("GET /v2/\n"));
  CHECK(PlausibleRequestLine("GET /caf\xc3\xa9"));  // obs-text: IsFieldText's rule too
  // Only bytes from `from` on are looked at again.
  CHECK(PlausibleRequestLine(std::string("\x01GET /v2/", 9), 1));
  CHECK_FALSE(PlausibleRequestLine(std::string("GET /v2/\x01", 9), 8));
}

// The scan the head reader and the connection threads share: a head found
// across pieces however it is cut, and refused as soon as the bytes show it.
TEST_CASE("request head scan: complete across pieces, refused early") {
  using quayd::RequestHeadScan;
  using Result = RequestHeadScan::Result;
  const std::string head = "GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\nNEXT";
  for (size_t cut = 0; cut < head.size() - 4; ++cut) {
    CAPTURE(cut);
    RequestHeadScan scan;
    const std::string_view data(head);
    CHECK(scan.Next(data.substr(0, cut)) == Result::kIncomplete);
    REQUIRE(scan.Next(data) == Result::kComplete);
    CHECK(scan.end() == head.size() - 4);  // the pipelined bytes are not the head's
  }
  {
    RequestHeadScan scan;  // a TLS ClientHello: refused at its first bytes
    CHECK(scan.Next(std::string_view("\x16\x03\x01\x00", 4)) == Result::kRefused);
    CHECK(scan.status() == 400);
  }
  {
    RequestHeadScan scan;  // no end of request line in sight
    CHECK(scan.Next("GET /" + std::string(quayd::kMaxRequestTarget + 100, 'a')) ==
          Result::kRefused);
    CHECK(scan.status() == 414);
  }
  {
    RequestHeadScan scan;  // headers past the limit
    std::string big = "GET / HTTP/1.1\r\n";
    while (big.size() < quayd::kMaxRequestHead)
      big += "X-Filler: " + std::string(100, 'f') + "\r\n";
    CHECK(scan.Next(big) == Result::kRefused);
    CHECK(scan.status() == 431);
  }
  CHECK(quayd::LeadingEmptyLines("\r\n\r\nGET") == 4);
  CHECK(quayd::LeadingEmptyLines("\r\nX") == 2);
  CHECK(quayd::LeadingEmptyLines("\rGET") == 0);
}
