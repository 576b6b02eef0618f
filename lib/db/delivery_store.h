// The SQL of the webhook delivery queue (schema v10: notification_delivery).
// Internal to lib/db.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "db/connection.h"
#include "quay/status.h"

namespace quay::db {

struct DeliveryRow {
  int64_t id = 0;
  int64_t notification_id = 0;
  std::string notification_uuid;
  std::string repository;
  std::string method;
  std::string config_json;  // the notification's config ({"url": ...})
  std::string payload;      // the event's JSON object
  int attempts = 0;
};

class DeliveryStore {
 public:
  explicit DeliveryStore(ConnectionPool& pool) : pool_(pool) {}

  // Queues `payload` for the notification `uuid` of `repository`, due now.
  // NotFound(kNone) for an unknown notification.
  Status Enqueue(std::string_view repository, std::string_view uuid, std::string_view payload,
                 int64_t now);
  // Up to `limit` rows due at `now`, oldest due first.
  Result<std::vector<DeliveryRow>> Due(int64_t now, size_t limit);
  // Delivered: the row goes.
  Status Delivered(int64_t id);
  // A failed attempt: attempts + 1, due again at `next_attempt_at`
  // (INT64_MAX: never, out of attempts), and the notification's
  // number_of_failures + 1 (Quay).
  Status Failed(int64_t id, int64_t notification_id, int64_t next_attempt_at,
                std::string_view error);
  // Rows still queued (due or not, given up excluded).
  Result<uint64_t> Pending();

 private:
  ConnectionPool& pool_;
};

}  // namespace quay::db
