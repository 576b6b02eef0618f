// The SQL of the notification delivery queue (schema v10:
// notification_delivery; v11: tag_notification, quota_notification_state).
// Internal to lib/db.
#pragma once

#include <cstdint>
#include <functional>
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
  std::string event;
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

  // Queues, in one transaction, one repo_image_expiry event per notification
  // of that event (and of a delivered method) whose repository has live tags
  // expiring after `now` and within its event_config "days", naming the
  // tags it has not announced yet, and records them as announced. Returns
  // the events queued.
  Result<uint64_t> QueueImageExpiry(int64_t now);
  // A push into namespace `ns` was refused at its Reject threshold: unless
  // that threshold is already announced (quota_notification_state), queues
  // quota_error for the namespace's quota_error notifications and records
  // it as announced. OK when the namespace has no Reject threshold.
  Status QueueQuotaRefusal(std::string_view ns, int64_t now);
  // quay_notification: a user notification of `kind` with `metadata` for
  // each account `target_kind`/`target_name` names ("user": that user;
  // "org": the organization itself, which its admins see; "team": the
  // members of that team of organization `ns`). NotFound(kNone) for no such
  // target or an empty team.
  Status NotifyUsers(std::string_view ns, std::string_view target_kind,
                     std::string_view target_name, std::string_view kind, std::string_view metadata,
                     int64_t now, const std::function<std::string()>& new_uuid);

 private:
  ConnectionPool& pool_;
};

}  // namespace quay::db
