// Notification events other than repo_push and the methods other than a
// plain-HTTP webhook (quay/webhooks.h): repo_image_expiry from the delivery
// pass as the injected clock advances, quota_warning and quota_error once
// per crossing, Slack messages, quay_notification as user notifications,
// and https webhooks verified against a CA this test makes with openssl.
#include <doctest/doctest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "api_fixture.h"
#include "quay/quotas.h"
#include "quay/webhooks.h"

using namespace std::chrono_literals;
using quayd::testing::DigestOf;

namespace {

// A plain-HTTP receiver on 127.0.0.1 recording the bodies POSTed to /hook.
class Receiver {
 public:
  Receiver() {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      bodies_.push_back(req.body);
      res.status = 200;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 500 && !server_.is_running(); ++i) std::this_thread::sleep_for(2ms);
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  std::vector<std::string> bodies() {
    std::lock_guard lock(mu_);
    return bodies_;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::vector<std::string> bodies_;
};

// A TLS receiver (OpenSSL directly: the tests' httplib has no TLS) that
// answers every request 200 and records its body.
class TlsReceiver {
 public:
  TlsReceiver(const std::string& cert, const std::string& key) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    REQUIRE(ctx_ != nullptr);
    REQUIRE(SSL_CTX_use_certificate_chain_file(ctx_, cert.c_str()) == 1);
    REQUIRE(SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM) == 1);
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    REQUIRE(::listen(fd_, 8) == 0);
    thread_ = std::thread([this] { Serve(); });
  }
  ~TlsReceiver() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
    SSL_CTX_free(ctx_);
  }
  std::string Url() const { return "https://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  std::vector<std::string> bodies() {
    std::lock_guard lock(mu_);
    return bodies_;
  }

 private:
  void Serve() {
    while (!stop_) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, c);
      if (SSL_accept(ssl) == 1) {
        std::string in;
        char buf[4096];
        size_t head_end = std::string::npos;
        size_t length = 0;
        for (;;) {
          const int n = SSL_read(ssl, buf, sizeof buf);
          if (n <= 0) break;
          in.append(buf, static_cast<size_t>(n));
          if (head_end == std::string::npos &&
              (head_end = in.find("\r\n\r\n")) != std::string::npos) {
            const size_t at = in.find("Content-Length: ");
            if (at != std::string::npos && at < head_end) length = std::stoul(in.substr(at + 16));
          }
          if (head_end != std::string::npos && in.size() >= head_end + 4 + length) break;
        }
        if (head_end != std::string::npos) {
          std::lock_guard lock(mu_);
          bodies_.push_back(in.substr(head_end + 4, length));
        }
        const std::string answer =
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        SSL_write(ssl, answer.data(), static_cast<int>(answer.size()));
        SSL_shutdown(ssl);
      }
      SSL_free(ssl);
      ::close(c);
    }
  }

  SSL_CTX* ctx_ = nullptr;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> bodies_;
};

quayd::testing::ServerOptions Options(std::shared_ptr<quay::Clock> clock) {
  quayd::testing::ServerOptions o;
  o.token_auth = true;
  o.clock = std::move(clock);
  o.api = quayd::apitest::AllFeatures();
  return o;
}

quay::Status PushBlob(quay::Registry& r, const std::string& repo, const std::string& data) {
  auto upload = r.StartUpload(repo);
  if (!upload.ok()) return upload.status();
  if (auto s = (*upload)->Write(data.data(), data.size()); !s.ok()) return s;
  auto committed = (*upload)->Commit(quay::Digest::Of(data));
  return committed.ok() ? quay::Status::Ok() : committed.status();
}

void PushImage(quay::Registry& r, const std::string& repo, const std::string& tag,
               const std::string& variant = "") {
  const std::string config = R"({"architecture":"amd64","os":"linux"})";
  const std::string layer = "notification layer " + tag + variant;
  REQUIRE(PushBlob(r, repo, config).ok());
  REQUIRE(PushBlob(r, repo, layer).ok());
  const std::string m = quayd::testing::ImageManifest({DigestOf(config), config.size()},
                                                      {{DigestOf(layer), layer.size()}});
  auto put = r.PutManifest(repo, tag, quayd::testing::kOciManifest, m);
  REQUIRE_MESSAGE(put.ok(), put.status().ToString());
}

quay::WebhookOptions Delivery() {
  quay::WebhookOptions o;
  o.server_hostname = "registry.example.com";
  o.timeout = 5000ms;
  return o;
}

const quay::Actor kAlice{quay::Principal::User("alice"), "127.0.0.1", ""};

// alice and her private repository alice/app.
void World(quayd::testing::TestServer& s) {
  REQUIRE(s.identity()
              .CreateUser(kAlice, "alice", "alice@example.com", quayd::apitest::kPassword)
              .ok());
  REQUIRE(s.identity().CreateRepository(kAlice, "alice/app", quay::Visibility::kPrivate, "").ok());
}

std::string Notify(quayd::testing::TestServer& s, const std::string& event,
                   const std::string& method, const std::string& config,
                   const std::string& event_config = "{}") {
  quay::NewRepositoryNotification spec;
  spec.event = event;
  spec.method = method;
  spec.config_json = config;
  spec.event_config_json = event_config;
  auto created = s.identity().notifications().CreateNotification(kAlice, "alice/app", spec);
  REQUIRE_MESSAGE(created.ok(), created.status().ToString());
  return created->uuid;
}

rapidjson::Document Json(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  REQUIRE_MESSAGE(d.IsObject(), text);
  return d;
}

std::vector<std::string> Strings(const rapidjson::Value& array) {
  std::vector<std::string> out;
  for (const auto& v : array.GetArray()) out.emplace_back(v.GetString());
  return out;
}

std::string Sh(const std::string& command) {
  const int rc = std::system((command + " >/dev/null 2>&1").c_str());
  REQUIRE_MESSAGE(rc == 0, command);
  return command;
}

}  // namespace

TEST_CASE("repo_image_expiry: tags expiring within the notification's days, each once") {
  Receiver receiver;
  auto clock = std::make_shared<quay::ManualClock>();
  quayd::testing::TestServer s(Options(clock));
  World(s);
  PushImage(s.registry(), "alice/app", "v1");
  PushImage(s.registry(), "alice/app", "v2");
  PushImage(s.registry(), "alice/app", "v3");  // never expires
  REQUIRE(s.registry().SetTagExpiration("alice/app", "v1", clock->Now() + 72h, kAlice).ok());
  REQUIRE(s.registry().SetTagExpiration("alice/app", "v2", clock->Now() + 240h, kAlice).ok());
  const std::string uuid = Notify(s, "repo_image_expiry", "webhook",
                                  "{\"url\":\"" + receiver.Url() + "\"}", "{\"days\":5}");

  quay::WebhookOptions o = Delivery();
  o.expiry_scan_interval = 1h;
  auto delivery = quay::WebhookDelivery::Open(s.registry(), o);
  REQUIRE(delivery.ok());
  auto first = (*delivery)->RunOnce();
  REQUIRE_MESSAGE(first.ok(), first.status().ToString());
  CHECK(first->expiry_events == 1);
  CHECK(first->delivered == 1);
  REQUIRE(receiver.bodies().size() == 1);
  {
    auto body = Json(receiver.bodies()[0]);
    CHECK(body["repository"].GetString() == std::string("alice/app"));
    CHECK(body["namespace"].GetString() == std::string("alice"));
    CHECK(body["name"].GetString() == std::string("app"));
    CHECK(body["notification_uuid"].GetString() == uuid);
    CHECK(Strings(body["tags"]) == std::vector<std::string>{"v1"});
    CHECK(body["expiring_in"].GetString() == std::string("5 days"));
    CHECK(body["docker_url"].GetString() == std::string("registry.example.com/alice/app"));
  }
  // The same tags are not announced again, however often the scan runs.
  clock->Advance(2h);
  CHECK((*delivery)->RunOnce()->expiry_events == 0);
  // Six days on, v1 has expired and v2 is within five days of its end.
  clock->Advance(144h);
  auto later = (*delivery)->RunOnce();
  REQUIRE(later.ok());
  CHECK(later->expiry_events == 1);
  REQUIRE(receiver.bodies().size() == 2);
  CHECK(Strings(Json(receiver.bodies()[1])["tags"]) == std::vector<std::string>{"v2"});
  // The scan waits expiry_scan_interval of the injected clock.
  REQUIRE(s.registry().SetTagExpiration("alice/app", "v3", clock->Now() + 2h, kAlice).ok());
  CHECK((*delivery)->RunOnce()->expiry_events == 0);
  clock->Advance(30min);
  CHECK((*delivery)->RunOnce()->expiry_events == 0);
  clock->Advance(30min);
  CHECK((*delivery)->RunOnce()->expiry_events == 1);
  REQUIRE(receiver.bodies().size() == 3);
  CHECK(Strings(Json(receiver.bodies()[2])["tags"]) == std::vector<std::string>{"v3"});
}

TEST_CASE("repo_image_expiry over /api/v1: notification and expiration set by HTTP") {
  Receiver receiver;
  auto clock = std::make_shared<quay::ManualClock>();
  quayd::testing::TestServer s(Options(clock));
  World(s);
  PushImage(s.registry(), "alice/app", "v1");
  const std::string token =
      s.identity().IssueOAuthToken(kAlice, "alice", "test", quay::ScopeSet::All()).value().secret;
  const httplib::Headers auth{{"Authorization", "Bearer " + token}};
  auto client = s.Client();
  auto created =
      client->Post("/api/v1/repository/alice/app/notification/", auth,
                   "{\"event\":\"repo_image_expiry\",\"method\":\"webhook\","
                   "\"config\":{\"url\":\"" +
                       receiver.Url() + "\"},\"eventConfig\":{\"days\":3},\"title\":\"soon\"}",
                   "application/json");
  REQUIRE(created);
  REQUIRE_MESSAGE(created->status == 201, created->body);
  const auto in_days = [&](int days) {
    return std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(clock->Now().time_since_epoch()).count() +
        days * 86400);
  };
  auto changed = client->Put("/api/v1/repository/alice/app/tag/v1", auth,
                             "{\"expiration\":" + in_days(5) + "}", "application/json");
  REQUIRE(changed);
  REQUIRE_MESSAGE(changed->status / 100 == 2, changed->body);

  quay::WebhookOptions o = Delivery();
  o.expiry_scan_interval = 1h;
  auto delivery = quay::WebhookDelivery::Open(s.registry(), o);
  REQUIRE(delivery.ok());
  CHECK((*delivery)->RunOnce()->expiry_events == 0);  // five days out, three asked
  clock->Advance(48h);
  auto report = (*delivery)->RunOnce();
  REQUIRE(report.ok());
  CHECK(report->expiry_events == 1);
  CHECK(report->delivered == 1);
  REQUIRE(receiver.bodies().size() == 1);
  auto body = Json(receiver.bodies()[0]);
  CHECK(Strings(body["tags"]) == std::vector<std::string>{"v1"});
  CHECK(body["expiring_in"].GetString() == std::string("3 days"));
}

TEST_CASE("repo_image_expiry: a tag is announced to each notification, moved tags again") {
  Receiver receiver;
  auto clock = std::make_shared<quay::ManualClock>();
  quayd::testing::TestServer s(Options(clock));
  World(s);
  PushImage(s.registry(), "alice/app", "v1");
  REQUIRE(s.registry().SetTagExpiration("alice/app", "v1", clock->Now() + 24h, kAlice).ok());
  const std::string url = "{\"url\":\"" + receiver.Url() + "\"}";
  Notify(s, "repo_image_expiry", "webhook", url, "{\"days\":2}");
  Notify(s, "repo_image_expiry", "webhook", url, "{\"days\":7}");
  Notify(s, "repo_image_expiry", "webhook", url, "{}");  // no days: never (Quay)
  quay::WebhookOptions o = Delivery();
  o.expiry_scan_interval = 0s;
  auto delivery = quay::WebhookDelivery::Open(s.registry(), o);
  REQUIRE(delivery.ok());
  CHECK((*delivery)->RunOnce()->expiry_events == 2);
  CHECK((*delivery)->RunOnce()->expiry_events == 0);
  // Moved to another image, v1 is a new tag (Quay: a new tag row) with no
  // expiration.
  PushImage(s.registry(), "alice/app", "v1", " again");
  CHECK((*delivery)->RunOnce()->expiry_events == 0);
  REQUIRE(s.registry().SetTagExpiration("alice/app", "v1", clock->Now() + 24h, kAlice).ok());
  CHECK((*delivery)->RunOnce()->expiry_events == 2);
  CHECK(receiver.bodies().size() == 4);
}

TEST_CASE("quota_warning and quota_error: once per crossing, not per push") {
  Receiver receiver;
  auto clock = std::make_shared<quay::ManualClock>();
  quayd::testing::TestServer s(Options(clock));
  World(s);
  auto quotas = quay::Quotas::Open(s.registry());
  REQUIRE(quotas.ok());
  auto quota = (*quotas)->Create("alice", 1000, kAlice);
  REQUIRE(quota.ok());
  REQUIRE(
      (*quotas)->AddLimit("alice", quota->id, quay::QuotaLimit::Kind::kWarning, 50, kAlice).ok());
  REQUIRE(
      (*quotas)->AddLimit("alice", quota->id, quay::QuotaLimit::Kind::kReject, 100, kAlice).ok());
  const std::string url = "{\"url\":\"" + receiver.Url() + "\"}";
  Notify(s, "quota_warning", "webhook", url);
  Notify(s, "quota_error", "webhook", url);
  auto delivery = quay::WebhookDelivery::Open(s.registry(), Delivery());
  REQUIRE(delivery.ok());

  REQUIRE(PushBlob(s.registry(), "alice/app", std::string(300, 'a')).ok());
  CHECK((*delivery)->Pending().value() == 0);
  // 600 of 1000 bytes: past the 50% Warning threshold.
  REQUIRE(PushBlob(s.registry(), "alice/app", std::string(300, 'b')).ok());
  CHECK((*delivery)->Pending().value() == 1);
  REQUIRE(PushBlob(s.registry(), "alice/app", std::string(100, 'c')).ok());
  CHECK((*delivery)->Pending().value() == 1);
  CHECK((*delivery)->RunOnce()->delivered == 1);
  REQUIRE(receiver.bodies().size() == 1);
  {
    auto body = Json(receiver.bodies()[0]);
    CHECK(body["namespace"].GetString() == std::string("alice"));
    CHECK(body["repository"].GetString() == std::string("alice/app"));
    CHECK(body["threshold_percent"].GetInt() == 50);
    CHECK(body["usage_bytes"].GetInt() == 600);
    CHECK(body["limit_bytes"].GetInt() == 1000);
    CHECK(body["usage_percent"].GetInt() == 60);
    CHECK(body["usage_bytes_formatted"].GetString() == std::string("600 bytes"));
    CHECK(body["limit_bytes_formatted"].GetString() == std::string("1000 bytes"));
    CHECK(body["homepage"].GetString() ==
          std::string("http://registry.example.com/organization/alice"));
    CHECK_FALSE(body.HasMember("docker_url"));
  }

  // 700 + 400 would pass the Reject threshold: refused, quota_error once.
  CHECK(PushBlob(s.registry(), "alice/app", std::string(400, 'd')).code() == quay::Code::kDenied);
  CHECK((*delivery)->Pending().value() == 1);
  CHECK(PushBlob(s.registry(), "alice/app", std::string(500, 'e')).code() == quay::Code::kDenied);
  CHECK((*delivery)->Pending().value() == 1);
  CHECK((*delivery)->RunOnce()->delivered == 1);
  REQUIRE(receiver.bodies().size() == 2);
  {
    auto body = Json(receiver.bodies()[1]);
    CHECK(body["threshold_percent"].GetInt() == 100);
    CHECK(body["usage_bytes"].GetInt() == 700);
    CHECK(body["usage_percent"].GetInt() == 70);
  }

  // Back under the Warning threshold: both are cleared, and crossing again
  // announces again.
  REQUIRE(s.registry().DeleteBlob("alice/app", quay::Digest::Of(std::string(300, 'a'))).ok());
  REQUIRE(s.registry().DeleteBlob("alice/app", quay::Digest::Of(std::string(300, 'b'))).ok());
  CHECK((*delivery)->Pending().value() == 0);
  REQUIRE(PushBlob(s.registry(), "alice/app", std::string(450, 'f')).ok());
  CHECK((*delivery)->Pending().value() == 1);
  CHECK(PushBlob(s.registry(), "alice/app", std::string(600, 'g')).code() == quay::Code::kDenied);
  CHECK((*delivery)->Pending().value() == 2);
  CHECK((*delivery)->RunOnce()->delivered == 2);
}

TEST_CASE("quota_error: an upload refused before any byte (already over Reject) notifies once") {
  Receiver receiver;
  auto clock = std::make_shared<quay::ManualClock>();
  quayd::testing::TestServer s(Options(clock));
  World(s);
  auto quotas = quay::Quotas::Open(s.registry());
  REQUIRE(quotas.ok());
  auto quota = (*quotas)->Create("alice", 1000, kAlice);
  REQUIRE(quota.ok());
  REQUIRE(
      (*quotas)->AddLimit("alice", quota->id, quay::QuotaLimit::Kind::kReject, 100, kAlice).ok());
  Notify(s, "quota_error", "webhook", "{\"url\":\"" + receiver.Url() + "\"}");
  auto delivery = quay::WebhookDelivery::Open(s.registry(), Delivery());
  REQUIRE(delivery.ok());
  REQUIRE(PushBlob(s.registry(), "alice/app", std::string(700, 'a')).ok());
  // The limit shrinks under the usage: the next upload is refused at start.
  REQUIRE((*quotas)->Change("alice", quota->id, 600, kAlice).ok());
  CHECK(s.registry().StartUpload("alice/app").status().code() == quay::Code::kDenied);
  CHECK(s.registry().StartUpload("alice/app").status().code() == quay::Code::kDenied);
  CHECK((*delivery)->Pending().value() == 1);
  CHECK((*delivery)->RunOnce()->delivered == 1);
  REQUIRE(receiver.bodies().size() == 1);
  auto body = Json(receiver.bodies()[0]);
  CHECK(body["usage_bytes"].GetInt() == 700);
  CHECK(body["limit_bytes"].GetInt() == 600);
  CHECK(body["usage_percent"].GetInt() == 116);
  // Deleting the quota forgets what was announced.
  REQUIRE((*quotas)->Delete("alice", quota->id, kAlice).ok());
  auto again = (*quotas)->Create("alice", 600, kAlice);
  REQUIRE(again.ok());
  REQUIRE(
      (*quotas)->AddLimit("alice", again->id, quay::QuotaLimit::Kind::kReject, 100, kAlice).ok());
  CHECK(s.registry().StartUpload("alice/app").status().code() == quay::Code::kDenied);
  CHECK((*delivery)->Pending().value() == 1);
}

TEST_CASE("slack: a push is posted as Quay's Slack message") {
  Receiver receiver;
  auto clock = std::make_shared<quay::ManualClock>();
  quayd::testing::TestServer s(Options(clock));
  World(s);
  Notify(s, "repo_push", "slack", "{\"url\":\"" + receiver.Url() + "\"}");
  auto delivery = quay::WebhookDelivery::Open(s.registry(), Delivery());
  REQUIRE(delivery.ok());
  PushImage(s.registry(), "alice/app", "v1");
  CHECK((*delivery)->RunOnce()->delivered == 1);
  REQUIRE(receiver.bodies().size() == 1);
  auto body = Json(receiver.bodies()[0]);
  CHECK(body["text"].GetString() == std::string("Repository alice/app updated"));
  CHECK(body["username"].GetString() == std::string("quayiobot"));
  REQUIRE(body["attachments"].IsArray());
  const auto& a = body["attachments"][0];
  CHECK(a["fallback"].GetString() == std::string("Repository alice/app updated"));
  CHECK(a["color"].GetString() == std::string("good"));
  CHECK(std::string(a["text"].GetString()).find("v1") != std::string::npos);
  CHECK(Strings(a["mrkdwn_in"]) == std::vector<std::string>{"text"});
}

TEST_CASE("quay_notification: an event becomes a notification of the target user") {
  auto clock = std::make_shared<quay::ManualClock>();
  quayd::testing::TestServer s(Options(clock));
  World(s);
  Notify(s, "repo_push", "quay_notification", R"({"target":{"kind":"user","name":"alice"}})");
  Notify(s, "repo_push", "quay_notification", R"({"target":{"kind":"user","name":"nobody"}})");
  auto delivery = quay::WebhookDelivery::Open(s.registry(), Delivery());
  REQUIRE(delivery.ok());
  PushImage(s.registry(), "alice/app", "v1");
  auto report = (*delivery)->RunOnce();
  REQUIRE(report.ok());
  CHECK(report->delivered == 1);
  CHECK(report->failed == 1);  // the unknown user
  auto page = s.identity().ListUserNotifications("alice", 10, "");
  REQUIRE(page.ok());
  REQUIRE(page->notifications.size() == 1);
  CHECK(page->notifications[0].kind == "repo_push");
  auto metadata = Json(page->notifications[0].metadata_json);
  CHECK(metadata["repository"].GetString() == std::string("alice/app"));
  CHECK(Strings(metadata["updated_tags"]) == std::vector<std::string>{"v1"});
}

// https goes through the libcurl the S3 driver uses: without it, skipped.
TEST_CASE("quay_notification: a team's members each get one; an org target is the org's") {
  auto clock = std::make_shared<quay::ManualClock>();
  quayd::testing::TestServer s(Options(clock));
  World(s);
  for (const char* user : {"bob", "carol"}) {
    REQUIRE(
        s.identity()
            .CreateUser(kAlice, user, std::string(user) + "@example.com", quayd::apitest::kPassword)
            .ok());
  }
  auto& orgs = s.identity().organizations();
  REQUIRE(orgs.CreateOrganization(kAlice, "acme", "acme@example.com", "alice").ok());
  REQUIRE(orgs.CreateTeam(kAlice, "acme", "ci", quay::TeamRole::kMember, "").ok());
  REQUIRE(orgs.AddTeamMember(kAlice, "acme", "ci", "bob").ok());
  REQUIRE(orgs.AddTeamMember(kAlice, "acme", "ci", "carol").ok());
  REQUIRE(s.identity().CreateRepository(kAlice, "acme/app", quay::Visibility::kPrivate, "").ok());
  for (const char* config : {R"({"target":{"kind":"team","name":"ci"}})",
                             R"({"target":{"kind":"org","name":"acme"}})"}) {
    quay::NewRepositoryNotification spec;
    spec.event = "repo_push";
    spec.method = "quay_notification";
    spec.config_json = config;
    REQUIRE(s.identity().notifications().CreateNotification(kAlice, "acme/app", spec).ok());
  }
  auto delivery = quay::WebhookDelivery::Open(s.registry(), Delivery());
  REQUIRE(delivery.ok());
  PushImage(s.registry(), "acme/app", "v1");
  CHECK((*delivery)->RunOnce()->delivered == 2);
  auto count = [&](const char* user) {
    auto page = s.identity().ListUserNotifications(user, 10, "");
    REQUIRE(page.ok());
    return page->notifications.size();
  };
  CHECK(count("bob") == 1);    // the team's
  CHECK(count("carol") == 1);  // the team's
  CHECK(count("alice") == 1);  // the org's, which its admins see
  auto alice = s.identity().ListUserNotifications("alice", 10, "");
  CHECK(alice->notifications[0].organization == "acme");
}

TEST_CASE("https webhook: verified against the configured CA, refused without it" *
          doctest::skip(QUAY_WEBHOOK_CURL == 0)) {
  quayd::testing::TempDir dir;
  const std::string d = dir.path();
  Sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + d +
     "/ca.key -out " + d + "/ca.crt -days 2 -subj '/CN=libquay webhook test CA'" +
     " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign");
  Sh("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + d +
     "/server.key -out " + d + "/server.csr -subj /CN=localhost");
  {
    std::ofstream ext(d + "/server.ext");
    ext << "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n";
  }
  Sh("openssl x509 -req -in " + d + "/server.csr -CA " + d + "/ca.crt -CAkey " + d +
     "/ca.key -CAcreateserial -out " + d + "/server.crt -days 2 -extfile " + d + "/server.ext");
  TlsReceiver receiver(d + "/server.crt", d + "/server.key");

  auto clock = std::make_shared<quay::ManualClock>();
  quayd::testing::TestServer s(Options(clock));
  World(s);
  Notify(s, "repo_push", "webhook", "{\"url\":\"" + receiver.Url() + "\"}");
  // The system's trust store does not know the test CA: the attempt fails.
  {
    auto untrusting = quay::WebhookDelivery::Open(s.registry(), Delivery());
    REQUIRE(untrusting.ok());
    PushImage(s.registry(), "alice/app", "v1");
    auto report = (*untrusting)->RunOnce();
    REQUIRE(report.ok());
    CHECK(report->failed == 1);
    CHECK(receiver.bodies().empty());
  }
  quay::WebhookOptions o = Delivery();
  o.ca_file = d + "/ca.crt";
  auto delivery = quay::WebhookDelivery::Open(s.registry(), o);
  REQUIRE(delivery.ok());
  clock->Advance(1min);
  auto report = (*delivery)->RunOnce();
  REQUIRE(report.ok());
  CHECK(report->delivered == 1);
  REQUIRE(receiver.bodies().size() == 1);
  CHECK(Strings(Json(receiver.bodies()[0])["updated_tags"]) == std::vector<std::string>{"v1"});
}

TEST_CASE("test notification: a quota event's sample is delivered") {
  Receiver receiver;
  auto clock = std::make_shared<quay::ManualClock>();
  quayd::testing::TestServer s(Options(clock));
  World(s);
  const std::string uuid =
      Notify(s, "quota_warning", "webhook", "{\"url\":\"" + receiver.Url() + "\"}");
  auto delivery = quay::WebhookDelivery::Open(s.registry(), Delivery());
  REQUIRE(delivery.ok());
  REQUIRE(s.identity().notifications().TestNotification("alice/app", uuid).ok());
  CHECK((*delivery)->RunOnce()->delivered == 1);
  REQUIRE(receiver.bodies().size() == 1);
  auto body = Json(receiver.bodies()[0]);
  CHECK(body["threshold_percent"].GetInt() == 80);
  CHECK(body["usage_bytes_formatted"].GetString() == std::string("819.20 MB"));
  CHECK(body["limit_bytes_formatted"].GetString() == std::string("1.00 GB"));
}
