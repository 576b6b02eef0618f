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
        " d.attempts, n.event FROM notification_delivery d"
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
      row.event = q->getColumn(8).getString();
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

// The methods whose events are queued (quay/webhooks.h); the same list is in
// the push's queue statement (db/database.cpp) and the v11 triggers.
#define QUAY_DELIVERED_METHODS "('webhook', 'slack', 'quay_notification')"

// The live tags each repo_image_expiry notification has yet to announce:
// expiring after ?1 and within the notification's days.
#define QUAY_EXPIRING_TAGS                                                                  \
  " FROM repository_notification n JOIN repository r ON r.id = n.repository_id"             \
  " JOIN tag t ON t.repository_id = n.repository_id AND t.end_at IS NULL"                   \
  "  AND t.expires_at > ?1"                                                                 \
  "  AND t.expires_at <= ?1 + CAST(json_extract(n.event_config_json, '$.days') AS INTEGER)" \
  "   * 86400000000"                                                                        \
  " WHERE n.event = 'repo_image_expiry' AND n.method IN " QUAY_DELIVERED_METHODS            \
  "  AND CAST(json_extract(n.event_config_json, '$.days') AS INTEGER) > 0"                  \
  "  AND NOT EXISTS (SELECT 1 FROM tag_notification tn WHERE tn.notification_id = n.id"     \
  "   AND tn.tag_id = t.id)"

Result<uint64_t> DeliveryStore::QueueImageExpiry(int64_t now) {
  return WriteOn<uint64_t>(
      pool_,
      [&](Connection& c) -> Result<uint64_t> {
        uint64_t queued = 0;
        {
          auto ins = c.Prepare(
              "INSERT INTO notification_delivery(notification_id, payload, next_attempt_at,"
              " created_at)"
              " SELECT id, json_object('repository', repo,"
              "  'namespace', substr(repo, 1, instr(repo, '/') - 1),"
              "  'name', substr(repo, instr(repo, '/') + 1), 'notification_uuid', uuid,"
              "  'tags', json_group_array(tag), 'expiring_in', days || ' days'), ?1, ?1"
              " FROM (SELECT n.id AS id, n.uuid AS uuid, r.name AS repo, t.name AS tag,"
              "  CAST(json_extract(n.event_config_json, '$.days') AS INTEGER) AS "
              "days" QUAY_EXPIRING_TAGS
              "  ORDER BY n.id, t.name) AS expiring"
              // Every column named: PostgreSQL does not know that id
              // determines the others. (Its json_agg takes the rows in the
              // subquery's order where it aggregates by hash, as here;
              // nothing depends on the tags' order.)
              " GROUP BY id, uuid, repo, days");
          ins->bind(1, now);
          queued = static_cast<uint64_t>(ins->exec());
        }
        if (queued > 0) {
          auto mark = c.Prepare(
              "INSERT OR IGNORE INTO tag_notification(notification_id, tag_id)"
              " SELECT n.id, t.id" QUAY_EXPIRING_TAGS);
          mark->bind(1, now);
          mark->exec();
        }
        return queued;
      },
      CacheEffect::kNone);
}

Status DeliveryStore::QueueQuotaRefusal(std::string_view ns, int64_t now) {
  return WriteStatusOn(
      pool_,
      [&](Connection& c) -> Status {
        int percent = 0;
        {
          auto q = c.Prepare(
              "SELECT l.percent FROM account a JOIN namespace_quota q ON q.namespace_id = a.id"
              " JOIN quota_limit l ON l.quota_id = q.id AND l.kind = 'Reject'"
              " WHERE a.name = ?1 AND NOT EXISTS (SELECT 1 FROM quota_notification_state s"
              "  WHERE s.namespace = ?1 AND s.kind = 'Reject' AND s.percent = l.percent)");
          q->bind(1, Str(ns));
          if (!q->executeStep()) return Status::Ok();  // none, or already announced
          percent = q->getColumn(0).getInt();
        }
        {
          auto ins = c.Prepare(
              "INSERT INTO notification_delivery(notification_id, payload, next_attempt_at,"
              " created_at)"
              " SELECT n.id, json_object('namespace', ?1, 'repository', r.name,"
              "  'name', substr(r.name, instr(r.name, '/') + 1), 'threshold_percent', ?2,"
              "  'usage_bytes', COALESCE(u.bytes, 0), 'limit_bytes', q.limit_bytes,"
              "  'usage_percent', COALESCE(u.bytes, 0) * 100 / q.limit_bytes), ?3, ?3"
              " FROM account a JOIN namespace_quota q ON q.namespace_id = a.id"
              " LEFT JOIN namespace_usage u ON u.namespace = a.name"
              " JOIN repository_notification n ON n.event = 'quota_error'"
              "  AND n.method IN " QUAY_DELIVERED_METHODS
              " JOIN repository r ON r.id = n.repository_id"
              "  AND substr(r.name, 1, instr(r.name, '/') - 1) = a.name"
              " WHERE a.name = ?1");
          ins->bind(1, Str(ns));
          ins->bind(2, percent);
          ins->bind(3, now);
          ins->exec();
        }
        auto mark = c.Prepare(
            "INSERT OR IGNORE INTO quota_notification_state(namespace, kind, percent, notified_at)"
            " VALUES(?, 'Reject', ?, ?)");
        mark->bind(1, Str(ns));
        mark->bind(2, percent);
        mark->bind(3, now);
        mark->exec();
        return Status::Ok();
      },
      CacheEffect::kNone);
}

Status DeliveryStore::NotifyUsers(std::string_view ns, std::string_view target_kind,
                                  std::string_view target_name, std::string_view kind,
                                  std::string_view metadata, int64_t now,
                                  const std::function<std::string()>& new_uuid) {
  return WriteStatusOn(
      pool_,
      [&](Connection& c) -> Status {
        std::vector<int64_t> accounts;
        auto collect = [&](Stmt& q) {
          while (q->executeStep()) accounts.push_back(q->getColumn(0).getInt64());
        };
        if (target_kind == "user") {
          auto q = c.Prepare("SELECT id FROM account WHERE name = ? AND kind = 'user'");
          q->bind(1, Str(target_name));
          collect(q);
        } else if (target_kind == "org") {
          // Quay: only the repository's own organization.
          if (target_name != ns) {
            return Status::NotFound(Subject::kNone, "the target organization is not the namespace");
          }
          auto q = c.Prepare("SELECT id FROM account WHERE name = ? AND kind = 'org'");
          q->bind(1, Str(target_name));
          collect(q);
        } else if (target_kind == "team") {
          auto q = c.Prepare(
              "SELECT m.account_id FROM account o JOIN team t ON t.org_id = o.id"
              " JOIN team_member m ON m.team_id = t.id"
              " WHERE o.name = ? AND t.name = ? ORDER BY m.account_id");
          q->bind(1, Str(ns));
          q->bind(2, Str(target_name));
          collect(q);
        } else {
          return Status::NotFound(Subject::kNone, "the notification has no target");
        }
        if (accounts.empty()) {
          return Status::NotFound(Subject::kNone, "no account for the target " + Str(target_name));
        }
        for (int64_t account : accounts) {
          auto ins = c.Prepare(
              "INSERT INTO user_notification(uuid, account_id, kind, metadata, dismissed,"
              " created_at) VALUES(?, ?, ?, ?, 0, ?)");
          ins->bind(1, new_uuid());
          ins->bind(2, account);
          ins->bind(3, Str(kind));
          ins->bind(4, Str(metadata));
          ins->bind(5, now);
          ins->exec();
        }
        return Status::Ok();
      },
      // The user notification listings are cached reads.
      CacheEffect::kInvalidates);
}

}  // namespace quay::db
