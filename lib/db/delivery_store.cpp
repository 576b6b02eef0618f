#include "db/delivery_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include "db/sql_support.h"
#include "db/store_support.h"

namespace quay::db {

Status DeliveryStore::Enqueue(std::string_view repository, std::string_view uuid,
                              std::string_view payload, int64_t now) {
  // Queue bookkeeping: nothing a read cache holds changes.
  return WriteStatusOn(
      pool_,
      [&](Connection& c) -> Status {
        auto ins = c.Prepare(
            "INSERT INTO notification_delivery(notification_id, payload, next_attempt_at,"
            " created_at)"
            " SELECT n.id, ?1, ?2, ?2 FROM repository_notification n"
            " JOIN repository r ON r.id = n.repository_id WHERE r.name = ?3 AND n.uuid = ?4");
        ins->bind(1, Str(payload));
        ins->bind(2, now);
        ins->bind(3, Str(repository));
        ins->bind(4, Str(uuid));
        if (ins->exec() == 0) {
          return Status::NotFound(Subject::kNone, "notification " + Str(uuid) + " is unknown");
        }
        return Status::Ok();
      },
      CacheEffect::kNone);
}

Result<std::vector<DeliveryRow>> DeliveryStore::Due(int64_t now, size_t limit) {
  using Out = std::vector<DeliveryRow>;
  return ReadOn<Out>(pool_, [&](Connection& c) -> Result<Out> {
    auto q = c.Prepare(
        "SELECT d.id, d.notification_id, n.uuid, r.name, n.method, n.config_json, d.payload,"
        " d.attempts FROM notification_delivery d"
        " JOIN repository_notification n ON n.id = d.notification_id"
        " JOIN repository r ON r.id = n.repository_id"
        " WHERE d.next_attempt_at <= ? ORDER BY d.next_attempt_at, d.id LIMIT ?");
    q->bind(1, now);
    q->bind(2, static_cast<int64_t>(limit));
    Out out;
    while (q->executeStep()) {
      DeliveryRow row;
      row.id = q->getColumn(0).getInt64();
      row.notification_id = q->getColumn(1).getInt64();
      row.notification_uuid = q->getColumn(2).getString();
      row.repository = q->getColumn(3).getString();
      row.method = q->getColumn(4).getString();
      row.config_json = q->getColumn(5).getString();
      row.payload = q->getColumn(6).getString();
      row.attempts = q->getColumn(7).getInt();
      out.push_back(std::move(row));
    }
    return out;
  });
}

Status DeliveryStore::Delivered(int64_t id) {
  return WriteStatusOn(
      pool_,
      [&](Connection& c) -> Status {
        auto del = c.Prepare("DELETE FROM notification_delivery WHERE id = ?");
        del->bind(1, id);
        del->exec();
        return Status::Ok();
      },
      CacheEffect::kNone);
}

Status DeliveryStore::Failed(int64_t id, int64_t notification_id, int64_t next_attempt_at,
                             std::string_view error) {
  return WriteStatusOn(
      pool_,
      [&](Connection& c) -> Status {
        {
          auto up = c.Prepare(
              "UPDATE notification_delivery SET attempts = attempts + 1, next_attempt_at = ?,"
              " last_error = ? WHERE id = ?");
          up->bind(1, next_attempt_at);
          up->bind(2, Str(error.substr(0, 512)));
          up->bind(3, id);
          up->exec();
        }
        auto count = c.Prepare(
            "UPDATE repository_notification SET number_of_failures = number_of_failures + 1"
            " WHERE id = ?");
        count->bind(1, notification_id);
        count->exec();
        return Status::Ok();
      },
      // number_of_failures is shown by the notification listings.
      CacheEffect::kInvalidates);
}

Result<uint64_t> DeliveryStore::Pending() {
  return ReadOn<uint64_t>(pool_, [&](Connection& c) -> Result<uint64_t> {
    auto q = c.Prepare(
        "SELECT COUNT(*) FROM notification_delivery WHERE next_attempt_at < 9223372036854775807");
    q->executeStep();
    return static_cast<uint64_t>(q->getColumn(0).getInt64());
  });
}

}  // namespace quay::db
