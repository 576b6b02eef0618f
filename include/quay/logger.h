// The library's only way to say anything: structured records through an
// injected Logger. The host picks the sink. The library never logs secrets.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "quay/export.h"

namespace quay {

enum class LogLevel : unsigned char { kDebug, kInfo, kWarn, kError };

struct LogField {
  std::string_view key;
  std::string value;
};

// Implementations must be thread-safe.
class QUAY_EXPORT Logger {
 public:
  virtual ~Logger() = default;
  // `message` is a static lower-case phrase ("failed to commit blob").
  virtual void Log(LogLevel level, std::string_view component, std::string_view message,
                   std::initializer_list<LogField> fields) = 0;

  // A logger that drops everything (the default).
  static std::shared_ptr<Logger> Discard();
};

// Appends `text` as a JSON string literal (quotes included; quote,
// backslash and control bytes escaped), for hosts that write JSON log lines.
QUAY_EXPORT void AppendJsonString(std::string& out, std::string_view text);

}  // namespace quay
