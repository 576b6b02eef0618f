#include "host/obs/access_log.h"

#include <fmt/format.h>
#include <httplib.h>

#include <random>

#include "host/net/http_parse.h"
#include "host/net/http_ranges.h"
#include "host/obs/metrics.h"

namespace quayd {
namespace {

bool IsSaneRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void Start(RequestContext& ctx, const httplib::Request& req) {
  ctx.active = true;
  ctx.start = std::chrono::steady_clock::now();
  ctx.route = {};
  ctx.bytes_in = 0;
  const std::string_view client_id = FindHeader(req, "X-Request-Id");
  ctx.id = IsSaneRequestId(client_id) ? std::string(client_id) : NewRequestId();
}

}  // namespace

RequestContext& CurrentRequest() {
  thread_local RequestContext context;
  return context;
}

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{:016x}", rng());
}

void BeginRequest(const httplib::Request& req) { Start(CurrentRequest(), req); }

const std::string& EnsureRequestId(const httplib::Request& req) {
  RequestContext& ctx = CurrentRequest();
  if (!ctx.active) Start(ctx, req);
  return ctx.id;
}

std::string QueryNames(const httplib::Request& req) {
  std::string out;
  std::string_view previous;
  for (const auto& [name, value] : req.params) {
    if (name == previous) continue;  // params is a sorted multimap
    previous = name;
    if (!out.empty()) out += ',';
    out += std::string_view(name).substr(0, 32);
  }
  return out;
}

void LogAccess(quay::Logger& logger, const httplib::Request& req, const httplib::Response& res,
               Metrics* metrics) {
  RequestContext& ctx = CurrentRequest();
  if (!ctx.active) Start(ctx, req);
  const auto elapsed = std::chrono::steady_clock::now() - ctx.start;
  const double millis = std::chrono::duration<double, std::milli>(elapsed).count();

  uint64_t bytes_out = 0;
  if (req.method != "HEAD") {
    bytes_out = res.body.size();
    if (auto declared = ParseDecimal(res.get_header_value("Content-Length"))) bytes_out = *declared;
  }

  if (metrics != nullptr) {
    metrics->ObserveRequest(ctx.route, req.method, res.status,
                            std::chrono::duration<double>(elapsed).count(), ctx.bytes_in,
                            bytes_out);
  }
  const quay::LogLevel level = res.status >= 500 ? quay::LogLevel::kWarn : quay::LogLevel::kInfo;
  logger.Log(level, "http", "request",
             {
                 {"method", req.method.empty() ? std::string("-") : req.method},
                 {"path", req.path.empty() ? std::string("-") : req.path},
                 {"query", QueryNames(req)},
                 {"route", std::string(ctx.route.empty() ? "-" : ctx.route)},
                 {"status", std::to_string(res.status)},
                 {"bytes_in", std::to_string(ctx.bytes_in)},
                 {"bytes_out", std::to_string(bytes_out)},
                 {"duration_ms", fmt::format("{:.3f}", millis)},
                 {"remote", req.remote_addr},
             });
  ctx.active = false;
}

}  // namespace quayd
