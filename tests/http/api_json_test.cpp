// The REST API's date and string rendering (host/api/json.h).
#include <doctest/doctest.h>

#include <ctime>
#include <random>

#include "host/api/json.h"

namespace {

std::string WithStrftime(int64_t seconds) {
  std::time_t s = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char out[40];
  std::strftime(out, sizeof out, "%a, %d %b %Y %H:%M:%S -0000", &tm);
  return out;
}

quay::Clock::TimePoint At(int64_t seconds) {
  return quay::Clock::TimePoint(std::chrono::seconds(seconds));
}

}  // namespace

TEST_CASE("Rfc2822 renders what strftime renders, for any second from 1970 to 2200") {
  CHECK(quayd::Rfc2822(At(0)) == "Thu, 01 Jan 1970 00:00:00 -0000");
  CHECK(quayd::Rfc2822(At(1796131998)) == "Tue, 01 Dec 2026 13:33:18 -0000");
  CHECK(quayd::Rfc2822(At(951782400)) == "Tue, 29 Feb 2000 00:00:00 -0000");  // leap day
  std::mt19937_64 random(7);
  std::uniform_int_distribution<int64_t> second(0, 7258118400);  // to 2200-01-01
  for (int i = 0; i < 20000; ++i) {
    const int64_t s = second(random);
    REQUIRE_MESSAGE(quayd::Rfc2822(At(s)) == WithStrftime(s), s);
  }
  // Sub-second parts are dropped, as Quay's format has none.
  CHECK(quayd::Rfc2822(At(59) + std::chrono::milliseconds(999)) == WithStrftime(59));
}

TEST_CASE("Json escapes strings the SIMD scan passes over") {
  quayd::Json j;
  const std::string long_plain(100, 'a');
  j.Object().Field("k", long_plain + "\"\\\n" + std::string("\x01", 1) + long_plain).End();
  CHECK(j.str() == "{\"k\":\"" + long_plain + "\\\"\\\\\\n\\u0001" + long_plain + "\"}");
}
