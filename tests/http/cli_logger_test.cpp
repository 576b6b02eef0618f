// quayd's command line (host/cmd/cli.h) and its structured logger.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "host/cmd/cli.h"
#include "host/obs/structured_logger.h"

using quayd::Command;
using quayd::ParseCommandLine;

namespace {

quay::Result<Command> Parse(std::vector<std::string_view> args) { return ParseCommandLine(args); }

}  // namespace

TEST_CASE("cli: defaults") {
  auto c = Parse({"serve"});
  REQUIRE(c.ok());
  CHECK(c->kind == Command::Kind::kServe);
  CHECK(c->serve.host == "127.0.0.1");
  CHECK(c->serve.port == 5000);
  CHECK(c->serve.data_dir == "./quay-data");
  CHECK(c->serve.fsync);
  CHECK(c->serve.log_level == quay::LogLevel::kInfo);
}

TEST_CASE("cli: serve flags in both spellings") {
  auto c = Parse({"serve", "--listen", "0.0.0.0:0", "--data-dir=/tmp/x", "--no-fsync",
                  "--log-level", "debug", "--log-format=json", "--threads", "32"});
  REQUIRE(c.ok());
  CHECK(c->serve.host == "0.0.0.0");
  CHECK(c->serve.port == 0);
  CHECK(c->serve.data_dir == "/tmp/x");
  CHECK_FALSE(c->serve.fsync);
  CHECK(c->serve.log_level == quay::LogLevel::kDebug);
  CHECK(c->serve.log_format == quayd::LogFormat::kJson);
  CHECK(c->serve.threads == 32);

  auto v6 = Parse({"serve", "--listen=[::1]:8080"});
  REQUIRE(v6.ok());
  CHECK(v6->serve.host == "::1");
  CHECK(v6->serve.port == 8080);
}

TEST_CASE("cli: serve --gc-interval") {
  CHECK(Parse({"serve"})->serve.gc_interval == std::chrono::seconds(3600));
  CHECK(Parse({"serve", "--gc-interval", "0"})->serve.gc_interval == std::chrono::seconds(0));
  CHECK(Parse({"serve", "--gc-interval=90"})->serve.gc_interval == std::chrono::seconds(90));
  CHECK_FALSE(Parse({"serve", "--gc-interval"}).ok());
  CHECK_FALSE(Parse({"serve", "--gc-interval", "-1"}).ok());
  CHECK_FALSE(Parse({"serve", "--gc-interval", "1h"}).ok());
  CHECK_FALSE(Parse({"serve", "--gc-interval", "999999999999"}).ok());
  CHECK_FALSE(Parse({"serve", "--dry-run"}).ok());
}

TEST_CASE("cli: serve --protection-window and --tag-recovery-window") {
  auto defaults = Parse({"serve"});
  REQUIRE(defaults.ok());
  CHECK(defaults->serve.protection_window == quay::Options{}.gc_protection_window);
  CHECK(defaults->serve.tag_recovery_window == quay::Options{}.tag_recovery_window);
  auto c = Parse({"serve", "--protection-window", "0", "--tag-recovery-window=60"});
  REQUIRE(c.ok());
  CHECK(c->serve.protection_window == std::chrono::seconds(0));
  CHECK(c->serve.tag_recovery_window == std::chrono::seconds(60));
  // The gc command's windows stay untouched by serve's flags, and vice versa.
  CHECK(c->gc.protection_window == quay::Options{}.gc_protection_window);
  auto g = Parse({"gc", "--protection-window", "5"});
  REQUIRE(g.ok());
  CHECK(g->gc.protection_window == std::chrono::seconds(5));
  CHECK(g->serve.protection_window == quay::Options{}.gc_protection_window);
  CHECK_FALSE(Parse({"serve", "--protection-window"}).ok());
  CHECK_FALSE(Parse({"serve", "--tag-recovery-window", "1h"}).ok());
  CHECK_FALSE(Parse({"serve", "--tag-recovery-window", "-1"}).ok());
  CHECK(quayd::Usage().find("--tag-recovery-window") != std::string_view::npos);
}

TEST_CASE("cli: gc") {
  auto c = Parse({"gc"});
  REQUIRE(c.ok());
  CHECK(c->kind == Command::Kind::kGc);
  CHECK(c->gc.data_dir == "./quay-data");
  CHECK_FALSE(c->gc.dry_run);
  CHECK(c->gc.log_level == quay::LogLevel::kWarn);

  c = Parse(
      {"gc", "--data-dir", "/srv/quay", "--dry-run", "--log-level=debug", "--log-format", "json"});
  REQUIRE(c.ok());
  CHECK(c->kind == Command::Kind::kGc);
  CHECK(c->gc.data_dir == "/srv/quay");
  CHECK(c->gc.dry_run);
  CHECK(c->gc.log_level == quay::LogLevel::kDebug);
  CHECK(c->gc.log_format == quayd::LogFormat::kJson);

  CHECK(Parse({"gc", "--help"})->kind == Command::Kind::kHelp);
  CHECK_FALSE(Parse({"gc", "--data-dir"}).ok());
  CHECK_FALSE(Parse({"gc", "--listen", "127.0.0.1:0"}).ok());
  CHECK_FALSE(Parse({"gc", "--gc-interval", "5"}).ok());
  CHECK_FALSE(Parse({"gc", "--no-fsync"}).ok());
  CHECK(quayd::Usage().find("gc") != std::string_view::npos);
  CHECK(quayd::Usage().find("--gc-interval") != std::string_view::npos);
}

TEST_CASE("cli: help, version, misuse") {
  CHECK(Parse({"--help"})->kind == Command::Kind::kHelp);
  CHECK(Parse({"serve", "--help"})->kind == Command::Kind::kHelp);
  CHECK(Parse({"version"})->kind == Command::Kind::kVersion);
  CHECK_FALSE(Parse({}).ok());
  CHECK_FALSE(Parse({"frobnicate"}).ok());
  CHECK_FALSE(Parse({"serve", "--listen"}).ok());
  CHECK_FALSE(Parse({"serve", "--listen", "127.0.0.1"}).ok());
  CHECK_FALSE(Parse({"serve", "--listen", "127.0.0.1:99999"}).ok());
  CHECK_FALSE(Parse({"serve", "--listen", "127.0.0.1:-1"}).ok());
  CHECK_FALSE(Parse({"serve", "--log-level", "loud"}).ok());
  CHECK_FALSE(Parse({"serve", "--threads", "0"}).ok());
  CHECK_FALSE(Parse({"serve", "--bogus"}).ok());
  CHECK_FALSE(quayd::Usage().empty());
}

TEST_CASE("logger: logfmt escapes values so one record stays one line") {
  std::vector<std::string> lines;
  quayd::StructuredLogger logger(quay::LogLevel::kInfo, quayd::LogFormat::kText,
                                 [&](std::string_view line) { lines.emplace_back(line); });
  logger.Log(quay::LogLevel::kDebug, "test", "dropped", {});
  logger.Log(quay::LogLevel::kInfo, "test", "hello world",
             {{"path", "/v2/a b\nforged=1"}, {"plain", "x"}, {"empty", ""}});
  REQUIRE(lines.size() == 1);
  const std::string& line = lines[0];
  CHECK(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);
  CHECK(line.find("level=info") != std::string::npos);
  CHECK(line.find("component=test") != std::string::npos);
  CHECK(line.find("msg=\"hello world\"") != std::string::npos);
  CHECK(line.find("path=\"/v2/a b\\nforged=1\"") != std::string::npos);
  CHECK(line.find("plain=x") != std::string::npos);
  CHECK(line.find("empty=\"\"") != std::string::npos);
  CHECK(line.rfind("ts=", 0) == 0);
}

TEST_CASE("logger: json lines") {
  std::vector<std::string> lines;
  quayd::StructuredLogger logger(quay::LogLevel::kDebug, quayd::LogFormat::kJson,
                                 [&](std::string_view line) { lines.emplace_back(line); });
  logger.Log(quay::LogLevel::kWarn, "db", "slow query", {{"ms", "12"}, {"q", "a\"b"}});
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].front() == '{');
  CHECK(lines[0].find("\"level\":\"warn\"") != std::string::npos);
  CHECK(lines[0].find("\"q\":\"a\\\"b\"") != std::string::npos);
  CHECK(lines[0].find("}\n") == lines[0].size() - 2);
}
