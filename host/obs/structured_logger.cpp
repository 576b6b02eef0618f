#include "host/obs/structured_logger.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <ctime>

#include "host/obs/access_log.h"

namespace quayd {
namespace {

std::string_view LevelName(quay::LogLevel level) {
  switch (level) {
    case quay::LogLevel::kDebug:
      return "debug";
    case quay::LogLevel::kInfo:
      return "info";
    case quay::LogLevel::kWarn:
      return "warn";
    case quay::LogLevel::kError:
      return "error";
  }
  return "info";
}

std::string Timestamp() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const std::time_t secs = system_clock::to_time_t(now);
  const auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

// logfmt: bare when safe, otherwise double-quoted with escapes. Control bytes
// are escaped so a value (a decoded request path, say) cannot forge a line.
void AppendText(std::string& out, std::string_view value) {
  bool bare = !value.empty();
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || c == '=' || c == '"' || c == '\\' || u == 0x7f) {
      bare = false;
      break;
    }
  }
  if (bare) {
    out += value;
    return;
  }
  // Quoted values use JSON string escapes, which logfmt readers accept.
  quay::AppendJsonString(out, value);
}

}  // namespace

std::optional<quay::LogLevel> ParseLogLevel(std::string_view text) {
  if (text == "debug") return quay::LogLevel::kDebug;
  if (text == "info") return quay::LogLevel::kInfo;
  if (text == "warn" || text == "warning") return quay::LogLevel::kWarn;
  if (text == "error") return quay::LogLevel::kError;
  return std::nullopt;
}

std::optional<LogFormat> ParseLogFormat(std::string_view text) {
  if (text == "text" || text == "logfmt") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  return std::nullopt;
}

StructuredLogger::StructuredLogger(quay::LogLevel min_level, LogFormat format, Sink sink)
    : min_level_(min_level), format_(format), sink_(std::move(sink)) {
  if (!sink_) {
    sink_ = [](std::string_view line) {
      // One write(2) per line keeps lines whole when several processes share stderr.
      size_t done = 0;
      while (done < line.size()) {
        ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
        if (n <= 0) return;
        done += static_cast<size_t>(n);
      }
    };
  }
}

std::string StructuredLogger::Format(quay::LogLevel level, std::string_view component,
                                     std::string_view message,
                                     std::initializer_list<quay::LogField> fields) const {
  const RequestContext& request = CurrentRequest();
  bool add_request_id = request.active;
  for (const quay::LogField& field : fields) {
    if (field.key == "request_id") add_request_id = false;
  }

  std::string line;
  line.reserve(160);
  auto field = [&](std::string_view key, std::string_view value) {
    if (format_ == LogFormat::kJson) {
      if (line.size() > 1) line += ',';
      quay::AppendJsonString(line, key);
      line += ':';
      quay::AppendJsonString(line, value);
    } else {
      if (!line.empty()) line += ' ';
      line += key;
      line += '=';
      AppendText(line, value);
    }
  };

  if (format_ == LogFormat::kJson) line += '{';
  field("ts", Timestamp());
  field("level", LevelName(level));
  field("component", component);
  field("msg", message);
  if (add_request_id) field("request_id", request.id);
  for (const quay::LogField& f : fields) field(f.key, f.value);
  if (format_ == LogFormat::kJson) line += '}';
  line += '\n';
  return line;
}

void StructuredLogger::Log(quay::LogLevel level, std::string_view component,
                           std::string_view message, std::initializer_list<quay::LogField> fields) {
  if (!Enabled(level)) return;
  std::string line = Format(level, component, message, fields);
  std::lock_guard<std::mutex> lock(mu_);
  sink_(line);
}

}  // namespace quayd
