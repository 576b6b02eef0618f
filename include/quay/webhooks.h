// Delivery of repository notifications whose method is "webhook"
// (quay/notifications.h): an HTTP POST of the event's JSON to the
// notification's config "url".
//
// The queue is in the database: a tagged manifest push queues a repo_push
// event for each webhook notification of its repository in the push's own
// transaction, and RepositoryNotifications::TestNotification (the
// test-notification endpoint) queues a test event. So a queued delivery
// survives a crash or restart, and any process on the database may deliver
// it. RunOnce() POSTs every due delivery; a
// failure (no connection, a timeout, a status other than 2xx) counts against
// the notification's number_of_failures and is retried after first_retry,
// doubling up to max_retry, until max_attempts; then it stays in the queue,
// never due again. Times are the injected clock's.
//
// Only http:// URLs are delivered (an https:// one fails every attempt with
// a message saying so): the library has no TLS client.
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
  // Non-zero: Open() starts one thread calling RunOnce() this often (it
  // waits on the steady clock; destruction stops and joins it). Default: 0
  // (the embedder calls RunOnce).
  std::chrono::milliseconds poll_interval{0};
};

struct DeliveryReport {
  uint64_t delivered = 0;
  uint64_t failed = 0;    // failed attempts that will be retried
  uint64_t given_up = 0;  // failed attempts that were the last
};

class QUAY_EXPORT WebhookDelivery {
 public:
  // On `registry`'s database (a Registry from Registry::Open, which must
  // outlive this). InvalidArgument for another Registry implementation.
  static Result<std::unique_ptr<WebhookDelivery>> Open(Registry& registry,
                                                       const WebhookOptions& options);
  virtual ~WebhookDelivery() = default;

  // Delivers every delivery due now (at most a few hundred per call).
  virtual Result<DeliveryReport> RunOnce() = 0;
  // Deliveries still queued and not given up.
  virtual Result<uint64_t> Pending() = 0;
};

}  // namespace quay
