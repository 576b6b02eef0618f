#include "host/obs/health.h"

#include <httplib.h>
#include <sys/statvfs.h>

#include <utility>
#include <vector>

namespace quayd {
namespace {

constexpr std::string_view kRoutes[] = {"/healthz",         "/readyz", "/health",
                                        "/health/instance", "/status", "/health/endtoend",
                                        "/health/warning"};

void ReplyJson(httplib::Response& res, int status, std::string body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(std::move(body), "application/json");
}

// {"data":{"services":{...}},"status_code":N} with the HTTP status N.
void ReplyServices(httplib::Response& res,
                   const std::vector<std::pair<std::string_view, bool>>& services, bool healthy) {
  const int status = healthy ? 200 : 503;
  std::string body = R"({"data":{"services":{)";
  bool first = true;
  for (const auto& [name, ok] : services) {
    if (!first) body += ',';
    first = false;
    body += '"';
    body += name;
    body += "\":";
    body += ok ? "true" : "false";
  }
  body += "}},\"status_code\":" + std::to_string(status) + "}";
  ReplyJson(res, status, std::move(body));
}

}  // namespace

Health::Health(HealthProbes probes, std::shared_ptr<quay::Logger> logger)
    : probes_(std::move(probes)), logger_(logger ? std::move(logger) : quay::Logger::Discard()) {}

bool Health::Owns(std::string_view path) {
  for (std::string_view route : kRoutes) {
    if (path == route) return true;
  }
  return false;
}

Health::Snapshot Health::Check() {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  const bool started = ready();
  if (have_last_ && now - last_at_ < probes_.probe_interval && last_.started == started) {
    return last_;
  }
  Snapshot s;
  s.started = started;
  auto judge = [&](const quay::Status& status, std::string_view part) {
    if (!status.ok()) {
      logger_->Log(quay::LogLevel::kWarn, "health", "health probe failed",
                   {{"part", std::string(part)}, {"error", status.ToString()}});
    }
    return status.ok();
  };
  // Before startup ends the parts may not exist yet: nothing is probed.
  if (started) {
    if (probes_.registry) {
      const HealthProbes::Parts parts = probes_.registry();
      s.database = judge(parts.database, "database");
      s.storage = judge(parts.storage, "storage");
    }
    s.service_key = probes_.service_key ? probes_.service_key() : true;
  }
  if (!probes_.data_dir.empty()) {
    struct statvfs fs {};
    if (::statvfs(probes_.data_dir.c_str(), &fs) == 0) {
      s.free_bytes = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
      s.total_bytes = static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize;
      s.disk_space = s.free_bytes >= probes_.min_free_bytes;
      s.disk_space_warning = s.total_bytes > 0 &&
                             static_cast<double>(s.free_bytes) <
                                 probes_.warning_free_fraction * static_cast<double>(s.total_bytes);
    } else {
      s.disk_space = false;
    }
  }
  last_ = s;
  last_at_ = now;
  have_last_ = true;
  return s;
}

void Health::Serve(const httplib::Request& req, httplib::Response& res) {
  if (req.method != "GET" && req.method != "HEAD") {
    res.set_header("Allow", "GET, HEAD");
    ReplyJson(res, 405, R"({"error":"method not allowed"})");
    return;
  }
  const std::string_view path = req.path;
  if (path == "/healthz") {
    // Liveness only: a failing dependency must not get a healthy process
    // restarted by its orchestrator.
    ReplyJson(res, 200, R"({"status":"ok"})");
    return;
  }
  const Snapshot s = Check();
  if (path == "/readyz") {
    const bool ready = s.started && s.database && s.storage && s.disk_space;
    std::string body = std::string(R"({"ready":)") + (ready ? "true" : "false") +
                       R"(,"checks":{"started":)" + (s.started ? "true" : "false") +
                       R"(,"database":)" + (s.database ? "true" : "false") + R"(,"storage":)" +
                       (s.storage ? "true" : "false") + R"(,"disk_space":)" +
                       (s.disk_space ? "true" : "false") + "}}";
    ReplyJson(res, ready ? 200 : 503, std::move(body));
    return;
  }
  const bool auth = s.started && s.database;  // the accounts live in the database
  if (path == "/health" || path == "/health/instance") {
    // Quay's instance verdict leaves storage out (a shared store failing is
    // not this instance's fault); the service still lists it.
    ReplyServices(res,
                  {{"auth", auth},
                   {"database", s.started && s.database},
                   {"disk_space", s.disk_space},
                   {"service_key", s.started && s.service_key},
                   {"storage", s.started && s.storage}},
                  s.started && s.database && s.disk_space && s.service_key);
    return;
  }
  if (path == "/status" || path == "/health/endtoend") {
    ReplyServices(res,
                  {{"auth", auth},
                   {"database", s.started && s.database},
                   {"storage", s.started && s.storage}},
                  s.started && s.database && s.storage);
    return;
  }
  // /health/warning: 200 whatever the disk says (it is a warning).
  ReplyServices(res, {{"disk_space_warning", s.disk_space_warning}}, true);
}

}  // namespace quayd
