// Delivery of repository notifications (quay/webhooks.h): the queue's rows
// are in db/delivery_store.*; this file queues the image-expiry events,
// renders each method's body, POSTs it (plain HTTP/1.1 here, https through
// libcurl) or writes the user notifications, and schedules the retries.
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>

#if QUAY_WEBHOOK_CURL
#include <curl/curl.h>
#endif

#include "auth/secrets.h"
#include "core/str_cat.h"
#include "db/delivery_store.h"
#include "quay/audit.h"
#include "quay/webhooks.h"
#include "registry/registry_impl.h"

namespace quay {
namespace {

constexpr size_t kBatch = 256;

int64_t Micros(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::microseconds>(clock.Now().time_since_epoch())
      .count();
}

struct Url {
  std::string host;
  std::string port = "80";
  std::string path = "/";
};

Result<Url> ParseUrl(std::string_view url) {
  if (!url.starts_with("http://")) {
    return Status::InvalidArgument(Subject::kNone, "the webhook url must be http:// or https://");
  }
  url.remove_prefix(7);
  Url out;
  const size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  if (slash != std::string_view::npos) out.path = std::string(url.substr(slash));
  if (authority.empty() || authority.find('@') != std::string_view::npos) {
    return Status::InvalidArgument(Subject::kNone, "the webhook url has no usable host");
  }
  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return Status::InvalidArgument(Subject::kNone, "bad url");
    out.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size() && authority[close + 1] == ':') {
      out.port = std::string(authority.substr(close + 2));
    }
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    out.host = std::string(authority.substr(0, colon));
    out.port = std::string(authority.substr(colon + 1));
  } else {
    out.host = std::string(authority);
  }
  return out;
}

// Waits until `fd` is ready for `events` or the deadline passes.
bool WaitFor(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, INT_MAX)));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

// One POST over plain HTTP; OK for a 2xx answer.
Status PostHttp(const Url& url, const std::string& body, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(url.host.c_str(), url.port.c_str(), &hints, &found); rc != 0) {
    return Status::Unavailable(std::string("cannot resolve the webhook host: ") +
                               ::gai_strerror(rc));
  }
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0 &&
        (errno != EINPROGRESS || !WaitFor(fd, POLLOUT, deadline))) {
      ::close(fd);
      fd = -1;
      continue;
    }
    int error = 0;
    socklen_t len = sizeof error;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) return Status::Unavailable("cannot connect to the webhook host");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};

  const std::string request =
      "POST " + url.path + " HTTP/1.1\r\nHost: " + url.host +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nUser-Agent: quayd\r\nConnection: close\r\n\r\n" + body;
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!WaitFor(fd, POLLOUT, deadline)) return Status::Unavailable("webhook send timed out");
    } else {
      return Status::Unavailable("webhook send failed");
    }
  }
  // The status line is enough: "HTTP/1.1 200 ...".
  std::string head;
  while (head.find("\r\n") == std::string::npos && head.size() < 4096) {
    char buf[1024];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      head.append(buf, static_cast<size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!WaitFor(fd, POLLIN, deadline)) return Status::Unavailable("webhook answer timed out");
    } else {
      break;
    }
  }
  if (head.size() < 12 || !head.starts_with("HTTP/1.")) {
    return Status::Unavailable("the webhook host sent no HTTP answer");
  }
  const std::string code = head.substr(9, 3);
  if (code[0] != '2') return Status::Unavailable("the webhook host answered " + code);
  return Status::Ok();
}

#if QUAY_WEBHOOK_CURL
size_t DiscardBody(char*, size_t size, size_t n, void*) { return size * n; }
#endif

// One POST over https: TLS 1.2 or later, the peer's chain verified against
// `ca_file` (or the system's store) and its name against the URL's host; no
// redirects followed. OK for a 2xx answer.
Status PostHttps(const std::string& url, const std::string& body, std::chrono::milliseconds timeout,
                 const std::string& ca_file) {
#if QUAY_WEBHOOK_CURL
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Status::Internal("cannot start an https request");
  struct Cleanup {
    CURL* curl;
    curl_slist* headers = nullptr;
    ~Cleanup() {
      curl_slist_free_all(headers);
      curl_easy_cleanup(curl);
    }
  } cleanup{curl};
  cleanup.headers = curl_slist_append(cleanup.headers, "Content-Type: application/json");
  cleanup.headers = curl_slist_append(cleanup.headers, "Expect:");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, cleanup.headers);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "quayd");
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, DiscardBody);
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  const CURLcode rc = curl_easy_perform(curl);
  if (rc != CURLE_OK) {
    return Status::Unavailable(std::string("https webhook failed: ") +
                               (error[0] != '\0' ? error : curl_easy_strerror(rc)));
  }
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  if (code / 100 != 2)
    return Status::Unavailable("the webhook host answered " + std::to_string(code));
  return Status::Ok();
#else
  (void)url;
  (void)body;
  (void)timeout;
  (void)ca_file;
  return Status::Unsupported(Subject::kNone, "https webhooks need quayd built with libcurl");
#endif
}

Status Post(const std::string& url, const std::string& body, const WebhookOptions& options) {
  if (url.starts_with("https://")) return PostHttps(url, body, options.timeout, options.ca_file);
  auto parsed = ParseUrl(url);
  if (!parsed.ok()) return parsed.status();
  return PostHttp(*parsed, body, options.timeout);
}

bool IsQuotaEvent(std::string_view event) {
  return event == "quota_warning" || event == "quota_error";
}

// Quay's _format_bytes (data/model/namespacequota.py): "819.20 MB".
std::string QuayFormattedBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"bytes", "KB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes);
  for (size_t i = 0; i < std::size(kUnits); ++i) {
    if (value < 1024.0 || i + 1 == std::size(kUnits)) {
      if (i == 0) return std::to_string(bytes) + " bytes";
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.2f %s", value, kUnits[i]);
      return buf;
    }
    value /= 1024.0;
  }
  return {};
}

const char* StringField(const rapidjson::Value& doc, const char* key) {
  if (!doc.IsObject()) return "";
  auto it = doc.FindMember(key);
  return it != doc.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

int64_t IntField(const rapidjson::Value& doc, const char* key) {
  if (!doc.IsObject()) return 0;
  auto it = doc.FindMember(key);
  return it != doc.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : 0;
}

std::string Text(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

// The queued event plus what only the host knows: Quay's docker_url and
// homepage (the organization's page for a quota event), and the quota
// events' formatted sizes.
std::string Render(const db::DeliveryRow& row, const WebhookOptions& options) {
  rapidjson::Document doc;
  doc.Parse(row.payload.c_str());
  if (!doc.IsObject()) return row.payload;
  auto& a = doc.GetAllocator();
  auto set = [&](const char* key, const std::string& value) {
    doc.RemoveMember(key);
    doc.AddMember(rapidjson::Value(key, a), rapidjson::Value(value.c_str(), a), a);
  };
  const bool quota = IsQuotaEvent(row.event);
  if (quota) {
    set("usage_bytes_formatted", QuayFormattedBytes(IntField(doc, "usage_bytes")));
    set("limit_bytes_formatted", QuayFormattedBytes(IntField(doc, "limit_bytes")));
  }
  if (!options.server_hostname.empty()) {
    if (quota) {
      set("homepage", options.url_scheme + "://" + options.server_hostname + "/organization/" +
                          std::string(NamespaceOf(row.repository)));
    } else {
      set("docker_url", options.server_hostname + "/" + row.repository);
      set("homepage",
          options.url_scheme + "://" + options.server_hostname + "/repository/" + row.repository);
    }
  }
  return Text(doc);
}

// Quay's event levels and summaries (notifications/notificationevent.py).
struct Summary {
  std::string level;
  std::string text;
};

Summary Summarize(std::string_view event, const rapidjson::Value& data) {
  const std::string repo = StringField(data, "repository");
  if (event == "repo_push") return {"primary", "Repository " + repo + " updated"};
  if (event == "repo_image_expiry") return {"info", "Repository " + repo + " image(s) expiring"};
  // core::StrCat, not `"literal" + std::string(...)`: GCC 12 reports a
  // false -Wrestrict on that operator at -O3 (--buildtype=release).
  if (event == "quota_warning") {
    return {"warning",
            core::StrCat(
                {"Namespace ", StringField(data, "namespace"), " storage usage has reached ",
                 std::to_string(IntField(data, "threshold_percent")), "% of its quota limit"})};
  }
  if (event == "quota_error") {
    return {"error", core::StrCat({"Namespace ", StringField(data, "namespace"),
                                   " storage usage has exceeded its quota limit (",
                                   std::to_string(IntField(data, "usage_percent")), "%)"})};
  }
  return {"info", "Repository " + repo + ": " + std::string(event)};
}

// The details line of a Slack message (Quay renders an HTML template per
// event; this is its plain-text gist, with Slack's <url|text> link).
std::string Details(std::string_view event, const rapidjson::Value& data) {
  auto list = [&](const char* key) {
    std::string out;
    if (!data.HasMember(key) || !data[key].IsArray()) return out;
    for (const auto& v : data[key].GetArray()) {
      if (!v.IsString()) continue;
      if (!out.empty()) out += ", ";
      out += v.GetString();
    }
    return out;
  };
  std::string text;
  if (event == "repo_push") {
    text = core::StrCat({"Tags pushed: ", list("updated_tags")});
  } else if (event == "repo_image_expiry") {
    text =
        core::StrCat({"Tags expiring in ", StringField(data, "expiring_in"), ": ", list("tags")});
  } else if (IsQuotaEvent(event)) {
    text = std::string(StringField(data, "usage_bytes_formatted")) + " of " +
           StringField(data, "limit_bytes_formatted") + " used";
  }
  const std::string home = StringField(data, "homepage");
  if (!home.empty()) text += core::StrCat({text.empty() ? "" : " ", "<", home, "|details>"});
  return text;
}

// Quay's SlackMethod body.
std::string SlackBody(std::string_view event, const std::string& rendered) {
  rapidjson::Document data;
  data.Parse(rendered.c_str());
  const Summary summary = Summarize(event, data);
  const std::string color = summary.level == "warning"   ? "warning"
                            : summary.level == "error"   ? "danger"
                            : summary.level == "success" ? "good"
                            : summary.level == "primary" ? "good"
                                                         : "#ffffff";
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("text");
  w.String(summary.text.c_str());
  w.Key("username");
  w.String("quayiobot");
  w.Key("attachments");
  w.StartArray();
  w.StartObject();
  w.Key("fallback");
  w.String(summary.text.c_str());
  w.Key("text");
  w.String(Details(event, data).c_str());
  w.Key("color");
  w.String(color.c_str());
  w.Key("mrkdwn_in");
  w.StartArray();
  w.String("text");
  w.EndArray();
  w.EndObject();
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string ConfigUrl(const std::string& config_json) {
  rapidjson::Document doc;
  doc.Parse(config_json.c_str());
  if (!doc.IsObject() || !doc.HasMember("url") || !doc["url"].IsString()) return {};
  return doc["url"].GetString();
}

// quay_notification's {"target": {"kind": ..., "name": ...}}.
std::pair<std::string, std::string> ConfigTarget(const std::string& config_json) {
  rapidjson::Document doc;
  doc.Parse(config_json.c_str());
  if (!doc.IsObject() || !doc.HasMember("target") || !doc["target"].IsObject()) return {};
  return {StringField(doc["target"], "kind"), StringField(doc["target"], "name")};
}

class WebhookDeliveryImpl final : public WebhookDelivery {
 public:
  WebhookDeliveryImpl(std::shared_ptr<db::Database> db, std::shared_ptr<Clock> clock,
                      const WebhookOptions& options)
      : db_(std::move(db)),
        clock_(std::move(clock)),
        options_(options),
        store_(db_->connections()) {
    if (options_.poll_interval.count() > 0) {
      thread_ = std::thread([this] {
        std::unique_lock lock(stop_mutex_);
        while (!wake_.wait_for(lock, options_.poll_interval, [this] { return stop_; })) {
          lock.unlock();
          (void)RunOnce();
          lock.lock();
        }
      });
    }
  }

  ~WebhookDeliveryImpl() override {
    if (thread_.joinable()) {
      {
        std::lock_guard lock(stop_mutex_);
        stop_ = true;
      }
      wake_.notify_all();
      thread_.join();
    }
  }

  Result<DeliveryReport> RunOnce() override {
    std::lock_guard serialize(run_mutex_);
    DeliveryReport report;
    const int64_t scan_now = Micros(*clock_);
    if (scan_now >= next_expiry_scan_) {
      auto queued = store_.QueueImageExpiry(scan_now);
      if (!queued.ok()) return queued.status();
      report.expiry_events = *queued;
      next_expiry_scan_ = scan_now + std::chrono::duration_cast<std::chrono::microseconds>(
                                         options_.expiry_scan_interval)
                                         .count();
    }
    auto due = store_.Due(Micros(*clock_), kBatch);
    if (!due.ok()) return due.status();
    for (const db::DeliveryRow& row : *due) {
      const Status sent = Deliver(row);
      if (sent.ok()) {
        if (Status s = store_.Delivered(row.id); !s.ok()) return s;
        ++report.delivered;
        continue;
      }
      const int attempts = row.attempts + 1;
      int64_t next = INT64_MAX;
      if (attempts < options_.max_attempts) {
        auto wait = options_.first_retry;
        for (int i = 1; i < attempts && wait < options_.max_retry; ++i) wait *= 2;
        wait = std::min(wait, options_.max_retry);
        next =
            Micros(*clock_) + std::chrono::duration_cast<std::chrono::microseconds>(wait).count();
        ++report.failed;
      } else {
        ++report.given_up;
      }
      if (Status s = store_.Failed(row.id, row.notification_id, next, sent.message()); !s.ok()) {
        return s;
      }
    }
    return report;
  }

  Result<uint64_t> Pending() override { return store_.Pending(); }

 private:
  Status Deliver(const db::DeliveryRow& row) {
    if (row.method == "webhook") {
      return Post(ConfigUrl(row.config_json), Render(row, options_), options_);
    }
    if (row.method == "slack") {
      return Post(ConfigUrl(row.config_json), SlackBody(row.event, Render(row, options_)),
                  options_);
    }
    if (row.method == "quay_notification") {
      const auto [kind, name] = ConfigTarget(row.config_json);
      return store_.NotifyUsers(NamespaceOf(row.repository), kind, name, row.event,
                                Render(row, options_), Micros(*clock_),
                                [] { return auth::NewUuid(); });
    }
    return Status::Unsupported(Subject::kNone, "the " + row.method + " method is not delivered");
  }

  std::shared_ptr<db::Database> db_;
  std::shared_ptr<Clock> clock_;
  WebhookOptions options_;
  db::DeliveryStore store_;
  std::mutex run_mutex_;
  int64_t next_expiry_scan_ = INT64_MIN;  // under run_mutex_
  std::mutex stop_mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<WebhookDelivery>> WebhookDelivery::Open(Registry& registry,
                                                               const WebhookOptions& options) {
  auto* impl = dynamic_cast<registry::RegistryImpl*>(&registry);
  if (impl == nullptr) {
    return Status::InvalidArgument(Subject::kNone, "the registry was not opened by Registry::Open");
  }
  if (options.max_attempts < 1) {
    return Status::InvalidArgument(Subject::kNone, "max_attempts must be at least 1");
  }
  return std::unique_ptr<WebhookDelivery>(
      std::make_unique<WebhookDeliveryImpl>(impl->database(), impl->clock(), options));
}

}  // namespace quay
