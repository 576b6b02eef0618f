// Delivery of repository notifications (quay/notifications.h) from a
// durable queue in the database.
//
// What is queued (each a row of the queue, one per event and notification):
// - repo_push: by a tagged manifest push, in the push's own transaction.
// - repo_image_expiry: by RunOnce (at most once per expiry_scan_interval of
//   the injected clock), for the live tags of the notification's repository
//   that expire within its event_config "days" days; each tag once per
//   notification (a tag moved since is a new tag), all of one scan in one
//   event ({"tags": [...], "expiring_in": "N days"}, Quay's shape).
// - quota_warning: by the push whose blob takes its namespace past a Warning
//   threshold, in that push's transaction, for the quota_warning
//   notifications of every repository of the namespace; once per crossing:
//   again only after usage has fallen back to or below the threshold.
// - quota_error: by a push refused at the Reject threshold (an upload,
//   commit or mount answered Denied), in its own transaction after the
//   refusal; once until the namespace's usage goes down again.
//   Both carry Quay's namespace payload (namespace, threshold_percent,
//   usage_bytes, limit_bytes, usage_percent, usage_bytes_formatted,
//   limit_bytes_formatted, homepage) plus the repository's name.
// - the test event of RepositoryNotifications::TestNotification.
// So a queued delivery survives a crash or restart, and any process on the
// database may deliver it.
//
// How each method is delivered:
// - webhook: an HTTP POST of the event's JSON to config "url", http:// or
//   https:// (TLS 1.2+, the server's certificate verified against ca_file or
//   the system's trust store, and its name against the host; needs the
//   libcurl the S3 driver uses: without it https:// fails every attempt).
// - slack: a POST to config "url" of Quay's Slack message ({"text",
//   "username", "attachments": [{"fallback", "text", "color",
//   "mrkdwn_in"}]}), http:// or https:// as for a webhook.
// - quay_notification: a user notification (quay/accounts.h) of kind = the
//   event, metadata = the event's JSON, for config "target" ({"kind":
//   "user"|"org"|"team", "name"}); a team's members each get one.
// - email, flowdock, hipchat: not sent (no mail transport here; Flowdock
//   and HipChat no longer exist); their events are never queued.
//
// RunOnce() delivers every due delivery; a failure (no connection, a
// timeout, a TLS failure, a status other than 2xx, an unknown target) counts
// against the notification's number_of_failures and is retried after
// first_retry, doubling up to max_retry, until max_attempts; then it stays in
// the queue, never due again. Times are the injected clock's.
//
// Thread safety: safe to use from many threads; RunOnce calls serialize.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "quay/export.h"
#include "quay/registry.h"
#include "quay/status.h"

namespace quay {

struct WebhookOptions {
  // SERVER_HOSTNAME and PREFERRED_URL_SCHEME: the payload's docker_url
  // ("host/ns/repo") and homepage ("scheme://host/repository/ns/repo");
  // both are left out when the hostname is empty. Default: "", "http".
  std::string server_hostname;
  std::string url_scheme = "http";
  // Attempts before a delivery is given up. Default: 5.
  int max_attempts = 5;
  // Wait after the first failure, doubling per failure up to max_retry.
  // Defaults: 10 s, 1 h.
  std::chrono::seconds first_retry{10};
  std::chrono::seconds max_retry{3600};
  // Connect + send + receive budget of one POST. Default: 10 s.
  std::chrono::milliseconds timeout{10000};
  // A PEM file of the CAs https:// receivers are verified against instead of
  // the system's trust store. Default: "" (the system's).
  std::string ca_file;
  // How often RunOnce looks for tags about to expire (repo_image_expiry), in
  // the injected clock's time; zero: on every RunOnce. Default: 60 s.
  std::chrono::seconds expiry_scan_interval{60};
  // Non-zero: Open() starts one thread calling RunOnce() this often (it
  // waits on the steady clock; destruction stops and joins it). Default: 0
  // (the embedder calls RunOnce).
  std::chrono::milliseconds poll_interval{0};
};

struct DeliveryReport {
  uint64_t delivered = 0;
  uint64_t failed = 0;         // failed attempts that will be retried
  uint64_t given_up = 0;       // failed attempts that were the last
  uint64_t expiry_events = 0;  // repo_image_expiry events queued by this call
};

class QUAY_EXPORT WebhookDelivery {
 public:
  // On `registry`'s database (a Registry from Registry::Open, which must
  // outlive this). InvalidArgument for another Registry implementation.
  static Result<std::unique_ptr<WebhookDelivery>> Open(Registry& registry,
                                                       const WebhookOptions& options);
  virtual ~WebhookDelivery() = default;

  // Queues repo_image_expiry events when a scan is due, then delivers every
  // delivery due now (at most a few hundred per call).
  virtual Result<DeliveryReport> RunOnce() = 0;
  // Deliveries still queued and not given up.
  virtual Result<uint64_t> Pending() = 0;
};

}  // namespace quay
