// Webhook delivery of repository notifications (quay/webhooks.h) against a
// local receiver that fails its first two requests: a push queues repo_push
// in the database, failures are retried with back-off on the injected
// clock, the queue survives a restart of quayd, and the test-notification
// endpoint delivers.
#include <doctest/doctest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "api_fixture.h"
#include "quay/webhooks.h"

using namespace std::chrono_literals;
using quayd::testing::DigestOf;

namespace {

// An HTTP receiver on 127.0.0.1 answering 500 to its first `failures`
// POSTs to /hook and 200 after.
class Receiver {
 public:
  explicit Receiver(int failures) : failures_(failures) {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      ++requests_;
      if (requests_ <= failures_) {
        res.status = 500;
        return;
      }
      bodies_.push_back(req.body);
      res.status = 200;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 500 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  int requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  std::vector<std::string> bodies() {
    std::lock_guard lock(mu_);
    return bodies_;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  int failures_;
  std::mutex mu_;
  int requests_ = 0;
  std::vector<std::string> bodies_;
};

quayd::testing::ServerOptions Options(const std::string& data_dir,
                                      std::shared_ptr<quay::Clock> clock) {
  quayd::testing::ServerOptions o;
  o.token_auth = true;
  o.data_dir = data_dir;
  o.clock = std::move(clock);
  o.api = quayd::apitest::AllFeatures();
  o.threads = 4;
  return o;
}

void PushImage(quay::Registry& r, const std::string& repo, const std::string& tag) {
  auto push = [&](const std::string& data) {
    auto upload = r.StartUpload(repo);
    REQUIRE(upload.ok());
    REQUIRE((*upload)->Write(data.data(), data.size()).ok());
    REQUIRE((*upload)->Commit(quay::Digest::Of(data)).ok());
  };
  const std::string config = R"({"architecture":"amd64","os":"linux"})";
  const std::string layer = "webhook layer " + tag;
  push(config);
  push(layer);
  const std::string m = quayd::testing::ImageManifest({DigestOf(config), config.size()},
                                                      {{DigestOf(layer), layer.size()}});
  auto put = r.PutManifest(repo, tag, quayd::testing::kOciManifest, m);
  REQUIRE_MESSAGE(put.ok(), put.status().ToString());
}

quay::WebhookOptions Delivery() {
  quay::WebhookOptions o;
  o.server_hostname = "registry.example.com";
  o.first_retry = 10s;
  o.timeout = 5000ms;
  return o;
}

}  // namespace

TEST_CASE("webhook: a push is delivered after two failures, across a restart of quayd") {
  Receiver receiver(2);
  quayd::testing::TempDir dir;
  auto clock = std::make_shared<quay::ManualClock>();
  const quay::Actor alice{quay::Principal::User("alice"), "127.0.0.1", ""};
  std::string uuid;
  {
    quayd::testing::TestServer s(Options(dir.path(), clock));
    REQUIRE(s.identity()
                .CreateUser(alice, "alice", "alice@example.com", quayd::apitest::kPassword)
                .ok());
    REQUIRE(s.identity().CreateRepository(alice, "alice/app", quay::Visibility::kPrivate, "").ok());
    quay::NewRepositoryNotification spec;
    spec.event = "repo_push";
    spec.method = "webhook";
    spec.config_json = "{\"url\":\"" + receiver.Url() + "\"}";
    auto created = s.identity().notifications().CreateNotification(alice, "alice/app", spec);
    REQUIRE_MESSAGE(created.ok(), created.status().ToString());
    uuid = created->uuid;

    auto delivery = quay::WebhookDelivery::Open(s.registry(), Delivery());
    REQUIRE(delivery.ok());
    CHECK((*delivery)->Pending().value() == 0);
    PushImage(s.registry(), "alice/app", "v1");
    CHECK((*delivery)->Pending().value() == 1);

    auto first = (*delivery)->RunOnce();
    REQUIRE_MESSAGE(first.ok(), first.status().ToString());
    CHECK(first->failed == 1);
    CHECK(receiver.requests() == 1);
    // Not due again before the back-off.
    clock->Advance(9s);
    CHECK((*delivery)->RunOnce()->failed == 0);
    CHECK(receiver.requests() == 1);
    clock->Advance(1s);
    CHECK((*delivery)->RunOnce()->failed == 1);
    CHECK(receiver.requests() == 2);
    s.Shutdown();
  }
  // quayd restarts: the queued delivery is still there, due 20 s (doubled)
  // after the second failure.
  quayd::testing::TestServer s(Options(dir.path(), clock));
  auto delivery = quay::WebhookDelivery::Open(s.registry(), Delivery());
  REQUIRE(delivery.ok());
  CHECK((*delivery)->Pending().value() == 1);
  clock->Advance(19s);
  CHECK((*delivery)->RunOnce()->delivered == 0);
  clock->Advance(1s);
  auto third = (*delivery)->RunOnce();
  REQUIRE(third.ok());
  CHECK(third->delivered == 1);
  CHECK((*delivery)->Pending().value() == 0);
  REQUIRE(receiver.bodies().size() == 1);
  rapidjson::Document body;
  body.Parse(receiver.bodies()[0].c_str());
  REQUIRE(body.IsObject());
  CHECK(body["repository"].GetString() == std::string("alice/app"));
  CHECK(body["namespace"].GetString() == std::string("alice"));
  CHECK(body["name"].GetString() == std::string("app"));
  CHECK(body["updated_tags"][0].GetString() == std::string("v1"));
  CHECK(body["docker_url"].GetString() == std::string("registry.example.com/alice/app"));
  CHECK(body["homepage"].GetString() ==
        std::string("http://registry.example.com/repository/alice/app"));
  // Each failed attempt counted against the notification (Quay).
  auto n = s.identity().notifications().GetNotification("alice/app", uuid);
  REQUIRE(n.ok());
  CHECK(n->number_of_failures == 2);

  // The test endpoint queues a delivery the next pass sends.
  const std::string token =
      s.identity().IssueOAuthToken(alice, "alice", "test", quay::ScopeSet::All()).value().secret;
  auto client = s.Client();
  auto res = client->Post("/api/v1/repository/alice/app/notification/" + uuid + "/test",
                          {{"Authorization", "Bearer " + token}}, "", "application/json");
  REQUIRE(res);
  CHECK(res->status / 100 == 2);
  CHECK((*delivery)->RunOnce()->delivered == 1);
  CHECK(receiver.bodies().size() == 2);
}

TEST_CASE("webhook: an unreachable receiver is given up after max_attempts") {
  quayd::testing::TempDir dir;
  auto clock = std::make_shared<quay::ManualClock>();
  const quay::Actor alice{quay::Principal::User("alice"), "127.0.0.1", ""};
  quayd::testing::TestServer s(Options(dir.path(), clock));
  REQUIRE(
      s.identity().CreateUser(alice, "alice", "alice@example.com", quayd::apitest::kPassword).ok());
  REQUIRE(s.identity().CreateRepository(alice, "alice/app", quay::Visibility::kPrivate, "").ok());
  quay::NewRepositoryNotification spec;
  spec.event = "repo_push";
  spec.method = "webhook";
  // A port nothing listens on (the receiver is closed at once).
  std::string url;
  {
    Receiver closed(0);
    url = closed.Url();
  }
  spec.config_json = "{\"url\":\"" + url + "\"}";
  REQUIRE(s.identity().notifications().CreateNotification(alice, "alice/app", spec).ok());
  quay::WebhookOptions o = Delivery();
  o.max_attempts = 2;
  auto delivery = quay::WebhookDelivery::Open(s.registry(), o);
  REQUIRE(delivery.ok());
  PushImage(s.registry(), "alice/app", "v1");
  CHECK((*delivery)->RunOnce()->failed == 1);
  clock->Advance(10s);
  CHECK((*delivery)->RunOnce()->given_up == 1);
  CHECK((*delivery)->Pending().value() == 0);
  clock->Advance(1h);
  CHECK((*delivery)->RunOnce()->given_up == 0);
}
