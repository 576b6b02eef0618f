#include <doctest/doctest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "quay/clock.h"
#include "quay/logger.h"

namespace quay {
namespace {

using std::chrono::seconds;

TEST_CASE("the system clock reads the wall clock") {
  auto clock = Clock::System();
  REQUIRE(clock != nullptr);
  auto before = std::chrono::system_clock::now();
  auto now = clock->Now();
  auto after = std::chrono::system_clock::now();
  CHECK(before <= now);
  CHECK(now <= after);
  CHECK(Clock::System() == clock);  // one shared instance
}

TEST_CASE("a manual clock moves only when told") {
  ManualClock clock;
  CHECK(clock.Now() == Clock::TimePoint(seconds(1'700'000'000)));
  CHECK(clock.Now() == clock.Now());
  clock.Advance(seconds(90));
  CHECK(clock.Now() == Clock::TimePoint(seconds(1'700'000'090)));
  clock.Advance(-seconds(30));
  CHECK(clock.Now() == Clock::TimePoint(seconds(1'700'000'060)));

  ManualClock at_zero{Clock::TimePoint{}};
  CHECK(at_zero.Now().time_since_epoch().count() == 0);
}

TEST_CASE("a manual clock counts every concurrent Advance") {
  ManualClock clock{Clock::TimePoint{}};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&clock] {
      for (int i = 0; i < 10000; ++i) clock.Advance(std::chrono::nanoseconds(1000));
    });
  }
  for (auto& t : threads) t.join();
  CHECK(clock.Now() == Clock::TimePoint(std::chrono::milliseconds(40)));
}

TEST_CASE("the discard logger accepts records and is shared") {
  auto logger = Logger::Discard();
  REQUIRE(logger != nullptr);
  logger->Log(LogLevel::kError, "core", "failed to do a thing", {{"key", "value"}});
  CHECK(Logger::Discard() == logger);
}

}  // namespace
}  // namespace quay

TEST_CASE("AppendJsonString escapes what JSON and log lines need, keeps the rest") {
  auto quoted = [](std::string_view text) {
    std::string out = "x=";
    quay::AppendJsonString(out, text);
    return out;
  };
  CHECK(quoted("") == "x=\"\"");
  CHECK(quoted("plain text/with:colons") == "x=\"plain text/with:colons\"");
  CHECK(quoted("a\"b\\c") == "x=\"a\\\"b\\\\c\"");
  CHECK(quoted("line\nbreak\r\ttab") == "x=\"line\\nbreak\\r\\ttab\"");
  CHECK(quoted(std::string("nul\0bel\x07"
                           "del\x7f",
                           12)) == "x=\"nul\\u0000bel\\u0007del\\u007f\"");
  CHECK(quoted("\"") == "x=\"\\\"\"");         // an escape alone
  CHECK(quoted("tail\n") == "x=\"tail\\n\"");  // an escape last
  CHECK(quoted("caf\xc3\xa9") ==
        "x=\"caf\xc3\xa9"
        "\"");  // UTF-8 as it is
}
