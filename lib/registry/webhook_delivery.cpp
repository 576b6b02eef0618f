// Webhook delivery of repository notifications (quay/webhooks.h): the
// queue's rows are in db/delivery_store.*; this file renders the payload,
// POSTs it over plain HTTP/1.1 and schedules the retries.
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
#include <cstring>
#include <mutex>
#include <thread>

#include "db/delivery_store.h"
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
  if (url.starts_with("https://")) {
    return Status::Unsupported(Subject::kNone, "https webhooks are not supported by quayd");
  }
  if (!url.starts_with("http://")) {
    return Status::InvalidArgument(Subject::kNone, "the webhook url must be http://");
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

// One POST; OK for a 2xx answer.
Status Post(const Url& url, const std::string& body, std::chrono::milliseconds timeout) {
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

// The queued event plus what only the host knows (Quay's docker_url and
// homepage).
std::string Render(const db::DeliveryRow& row, const WebhookOptions& options) {
  rapidjson::Document doc;
  doc.Parse(row.payload.c_str());
  if (!doc.IsObject()) return row.payload;
  auto& a = doc.GetAllocator();
  if (!options.server_hostname.empty()) {
    const std::string docker = options.server_hostname + "/" + row.repository;
    const std::string home =
        options.url_scheme + "://" + options.server_hostname + "/repository/" + row.repository;
    doc.AddMember("docker_url", rapidjson::Value(docker.c_str(), a), a);
    doc.AddMember("homepage", rapidjson::Value(home.c_str(), a), a);
  }
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  doc.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string ConfigUrl(const std::string& config_json) {
  rapidjson::Document doc;
  doc.Parse(config_json.c_str());
  if (!doc.IsObject() || !doc.HasMember("url") || !doc["url"].IsString()) return {};
  return doc["url"].GetString();
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
    auto due = store_.Due(Micros(*clock_), kBatch);
    if (!due.ok()) return due.status();
    for (const db::DeliveryRow& row : *due) {
      Status sent = Status::Unsupported(Subject::kNone, "only webhook notifications are delivered");
      if (row.method == "webhook") {
        auto url = ParseUrl(ConfigUrl(row.config_json));
        sent = url.ok() ? Post(*url, Render(row, options_), options_.timeout) : url.status();
      }
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
  std::shared_ptr<db::Database> db_;
  std::shared_ptr<Clock> clock_;
  WebhookOptions options_;
  db::DeliveryStore store_;
  std::mutex run_mutex_;
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
