// The AuditLog implementation (quay/audit.h) over db::AuditStore, and its
// asynchronous appender. Internal to lib/api.
#pragma once

#include <memory>

#include "api/service_state.h"
#include "db/read_cache.h"
#include "quay/audit.h"

namespace quay::api {

class AuditLogImpl final : public AuditLog {
 public:
  explicit AuditLogImpl(std::shared_ptr<ServiceState> state) : state_(std::move(state)) {}

  Status Record(const AuditEvent& event) override;
  Result<std::shared_ptr<const AuditPage>> SharedQuery(const AuditQuery& query) override;
  Result<std::vector<AuditCount>> Aggregate(const AuditQuery& query) override;
  std::unique_ptr<AuditAppender> NewAppender(const AuditAppenderOptions& options) override;

 private:
  // What a cached page is checked against (audit_log.cpp).
  uint64_t PageGeneration(const db::AuditStore& events) const;

  std::shared_ptr<ServiceState> state_;
  // Query pages by filter, cursor and limit.
  db::ReadCache<std::shared_ptr<const AuditPage>> pages_{4u << 20};
};

// The journaling appender (audit_appender.cpp).
std::unique_ptr<AuditAppender> NewJournalingAppender(std::shared_ptr<ServiceState> state,
                                                     const AuditAppenderOptions& options);

}  // namespace quay::api
