// Repository notifications (Quay's RepositoryNotification): what event on a
// repository is sent by which method. Part of IdentityService
// (quay/identity.h): identity.notifications(). Notifications are stored,
// listed and counted here, and deleted with their repository; those of
// method "webhook", "slack" and "quay_notification" are delivered by
// quay::WebhookDelivery (quay/webhooks.h, which says which events are
// queued and when) from a queue in the database.
//
// Events (Quay's ExternalNotificationEvent): repo_push, build_queued,
// build_start, build_success, build_failure, build_cancelled,
// vulnerability_found, repo_mirror_sync_started, repo_mirror_sync_success,
// repo_mirror_sync_failed, repo_image_expiry, quota_warning, quota_error.
// Methods: quay_notification, email, webhook, slack, flowdock, hipchat.
// Anything else: InvalidArgument.
//
// Thread safety: safe to use from many threads.
// Errors: InvalidArgument (unknown event or method, config not a JSON
// object); NotFound (kRepository) for an unknown repository, NotFound (kNone)
// for an unknown notification (also one of another repository);
// Unavailable/Internal on database failure. Mutations write their audit row
// (event, method, namespace, notification_id, repo) in the same transaction.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "quay/identity_types.h"

namespace quay {

struct RepositoryNotification {
  std::string uuid;
  std::string repository;  // "ns/repo"
  std::string event;
  std::string method;
  std::string config_json = "{}";        // a JSON object
  std::string event_config_json = "{}";  // a JSON object
  std::string title;
  int number_of_failures = 0;
  Clock::TimePoint created_at{};
};

struct NewRepositoryNotification {
  std::string event;
  std::string method;
  std::string config_json = "{}";
  std::string event_config_json = "{}";
  std::string title;
};

QUAY_EXPORT bool IsNotificationEvent(std::string_view event);
QUAY_EXPORT bool IsNotificationMethod(std::string_view method);

class QUAY_EXPORT RepositoryNotifications {
 public:
  virtual ~RepositoryNotifications() = default;

  // (add_repo_notification)
  virtual Result<RepositoryNotification> CreateNotification(
      const Actor& actor, std::string_view repository, const NewRepositoryNotification& spec) = 0;
  // The repository's notifications, oldest first.
  virtual Result<std::vector<RepositoryNotification>> ListNotifications(
      std::string_view repository) = 0;
  virtual Result<RepositoryNotification> GetNotification(std::string_view repository,
                                                         std::string_view uuid) = 0;
  // (delete_repo_notification)
  virtual Status DeleteNotification(const Actor& actor, std::string_view repository,
                                    std::string_view uuid) = 0;
  // (reset_repo_notification) number_of_failures back to 0.
  virtual Status ResetNotificationFailures(const Actor& actor, std::string_view repository,
                                           std::string_view uuid) = 0;
  // POST .../notification/{uuid}/test: checks the notification exists and,
  // for a delivered method (webhook, slack, quay_notification), queues a
  // test delivery (Quay's sample payload of the notification's event);
  // writes no audit row (Quay neither). Other methods: OK, nothing queued.
  virtual Status TestNotification(std::string_view repository, std::string_view uuid) = 0;
};

}  // namespace quay
