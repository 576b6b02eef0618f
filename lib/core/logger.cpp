#include "quay/logger.h"

namespace quay {
namespace {

class DiscardLogger final : public Logger {
 public:
  void Log(LogLevel, std::string_view, std::string_view, std::initializer_list<LogField>) override {
  }
};

}  // namespace

std::shared_ptr<Logger> Logger::Discard() {
  // Stateless, so every caller can share one instance.
  static const std::shared_ptr<Logger> logger = std::make_shared<DiscardLogger>();
  return logger;
}

}  // namespace quay
