// quayd's quay::Logger: one structured line per record, logfmt ("text") or
// JSON, to stderr by default. Records logged while a request is being served
// carry its request_id automatically (see access_log.h), so library log lines
// can be tied to the request that caused them.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "quay/logger.h"

namespace quayd {

enum class LogFormat : unsigned char { kText, kJson };

std::optional<quay::LogLevel> ParseLogLevel(std::string_view text);  // debug|info|warn|error
std::optional<LogFormat> ParseLogFormat(std::string_view text);      // text|json

class StructuredLogger final : public quay::Logger {
 public:
  // Receives one complete line (with its trailing '\n'). Called under a lock.
  using Sink = std::function<void(std::string_view line)>;

  // Default sink: stderr, one write per line.
  StructuredLogger(quay::LogLevel min_level, LogFormat format, Sink sink = nullptr);

  void Log(quay::LogLevel level, std::string_view component, std::string_view message,
           std::initializer_list<quay::LogField> fields) override;

  bool Enabled(quay::LogLevel level) const { return level >= min_level_; }

  // One formatted line without the lock or the sink (exposed for tests).
  std::string Format(quay::LogLevel level, std::string_view component, std::string_view message,
                     std::initializer_list<quay::LogField> fields) const;

 private:
  quay::LogLevel min_level_;
  LogFormat format_;
  Sink sink_;
  std::mutex mu_;
};

}  // namespace quayd
