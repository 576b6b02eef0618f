// GlobalMessages: the banner messages a superuser posts for every user of
// the web UI (Quay's Messages, GET/POST /api/v1/messages). Part of
// IdentityService (quay/identity.h): identity.messages().
//
// Quay writes no audit row for them (Appendix B has no kind), and neither
// does this. Who may post or delete (superusers) is the caller's check.
//
// Thread safety: safe to use from many threads.
// Errors: InvalidArgument for an empty content or an unknown media type or
// severity; Unavailable/Internal on database failure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "quay/identity_types.h"

namespace quay {

struct GlobalMessage {
  std::string uuid;
  std::string content;
  std::string media_type;  // "text/plain" or "text/markdown"
  std::string severity;    // "info", "warning" or "error"
  Clock::TimePoint created_at{};
};

class QUAY_EXPORT GlobalMessages {
 public:
  virtual ~GlobalMessages() = default;

  // Every message, oldest first (one query; the table holds a few rows).
  virtual Result<std::vector<GlobalMessage>> ListMessages() = 0;
  // Stores a message and returns it with its new uuid.
  virtual Result<GlobalMessage> CreateMessage(std::string_view severity,
                                              std::string_view media_type,
                                              std::string_view content) = 0;
  // Deleting an unknown uuid is OK (Quay answers 204 either way).
  virtual Status DeleteMessage(std::string_view uuid) = 0;
};

}  // namespace quay
