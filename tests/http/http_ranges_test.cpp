// Content-Range / Range parsing (host/net/http_ranges.h).
#include "host/net/http_ranges.h"

#include <doctest/doctest.h>

using quayd::ByteRange;
using quayd::ParseUploadContentRange;
using quayd::RangeRequest;
using quayd::ResolveRange;

TEST_CASE("ParseUploadContentRange accepts the forms clients send") {
  for (const char* value : {"0-99", "bytes=0-99", "bytes 0-99", "Bytes 0-99", " 0-99 ",
                            "bytes 0-99/100", "bytes 0-99/*"}) {
    CAPTURE(value);
    auto r = ParseUploadContentRange(value);
    REQUIRE(r.ok());
    CHECK(r->first == 0);
    CHECK(r->last == 99);
    CHECK(r->length() == 100);
  }
  auto single = ParseUploadContentRange("5-5");
  REQUIRE(single.ok());
  CHECK(single->length() == 1);
}

TEST_CASE("ParseUploadContentRange rejects junk without crashing") {
  for (const char* value :
       {"", "-", "5", "-5", "5-", "a-b", "10-5", "0-99/x", "+1-2", "0x1-2", "1--2", "1-2-3",
        "99999999999999999999-99999999999999999999", "9223372036854775808-9223372036854775809",
        "bytes=", "bytes", "0 - 1"}) {
    CAPTURE(value);
    auto r = ParseUploadContentRange(value);
    CHECK_FALSE(r.ok());
    CHECK(r.status().code() == quay::Code::kInvalidArgument);
    CHECK(r.status().subject() == quay::Subject::kRange);
  }
}

TEST_CASE("UploadRangeHeader") {
  CHECK(quayd::UploadRangeHeader(0) == "0-0");
  CHECK(quayd::UploadRangeHeader(1) == "0-0");
  CHECK(quayd::UploadRangeHeader(100) == "0-99");
}

TEST_CASE("ResolveRange") {
  auto partial = [](const char* header, uint64_t size, uint64_t first, uint64_t last) {
    CAPTURE(header);
    RangeRequest r = ResolveRange(header, size);
    REQUIRE(r.kind == RangeRequest::Kind::kPartial);
    CHECK(r.range.first == first);
    CHECK(r.range.last == last);
  };
  partial("bytes=0-9", 100, 0, 9);
  partial("bytes=10-", 100, 10, 99);
  partial("bytes=-10", 100, 90, 99);
  partial("bytes=-1000", 100, 0, 99);     // suffix longer than the blob: all of it
  partial("bytes=90-1000", 100, 90, 99);  // end clamped
  partial("bytes=99-99", 100, 99, 99);

  auto kind = [](const char* header, uint64_t size) { return ResolveRange(header, size).kind; };
  CHECK(kind("bytes=100-", 100) == RangeRequest::Kind::kUnsatisfiable);
  CHECK(kind("bytes=100-200", 100) == RangeRequest::Kind::kUnsatisfiable);
  CHECK(kind("bytes=-0", 100) == RangeRequest::Kind::kUnsatisfiable);
  CHECK(kind("bytes=0-", 0) == RangeRequest::Kind::kUnsatisfiable);
  CHECK(kind("bytes=-5", 0) == RangeRequest::Kind::kUnsatisfiable);
  // Served whole: multi-range, malformed, other units.
  CHECK(kind("bytes=0-1,5-6", 100) == RangeRequest::Kind::kFull);
  CHECK(kind("bytes=5-1", 100) == RangeRequest::Kind::kFull);
  CHECK(kind("items=0-1", 100) == RangeRequest::Kind::kFull);
  CHECK(kind("bytes=x-1", 100) == RangeRequest::Kind::kFull);
  CHECK(kind("", 100) == RangeRequest::Kind::kFull);
  CHECK(kind("bytes=-", 100) == RangeRequest::Kind::kFull);
}

TEST_CASE("ContentRangeHeader and ParseDecimal") {
  CHECK(quayd::ContentRangeHeader(ByteRange{0, 9}, 100) == "bytes 0-9/100");
  CHECK(quayd::ParseDecimal("0") == 0u);
  CHECK(quayd::ParseDecimal("9223372036854775807") == 9223372036854775807ull);
  CHECK_FALSE(quayd::ParseDecimal("9223372036854775808"));
  CHECK_FALSE(quayd::ParseDecimal("-1"));
  CHECK_FALSE(quayd::ParseDecimal(""));
  CHECK_FALSE(quayd::ParseDecimal(" 1"));
  CHECK_FALSE(quayd::ParseDecimal("12345678901234567890"));
}
