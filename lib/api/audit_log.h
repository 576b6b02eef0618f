// The AuditLog implementation (quay/audit.h) over db::AuditStore, and its
// asynchronous appender. Internal to lib/api.
#pragma once

#include <memory>

#include "api/service_state.h"
#include "quay/audit.h"

namespace quay::api {

class AuditLogImpl final : public AuditLog {
 public:
  explicit AuditLogImpl(std::shared_ptr<ServiceState> state) : state_(std::move(state)) {}

  Status Record(const AuditEvent& event) override;
  Result<AuditPage> Query(const AuditQuery& query) override;
  Result<std::vector<AuditCount>> Aggregate(const AuditQuery& query) override;
  std::unique_ptr<AuditAppender> NewAppender(const AuditAppenderOptions& options) override;

 private:
  std::shared_ptr<ServiceState> state_;
};

// The journaling appender (audit_appender.cpp).
std::unique_ptr<AuditAppender> NewJournalingAppender(std::shared_ptr<ServiceState> state,
                                                     const AuditAppenderOptions& options);

}  // namespace quay::api
