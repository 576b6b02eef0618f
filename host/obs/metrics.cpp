#include "host/obs/metrics.h"

#include <fmt/format.h>
#include <httplib.h>

#include <cmath>

namespace quayd {
namespace {

constexpr std::string_view kMethods[] = {"GET",   "HEAD",   "POST",   "PUT",
                                         "PATCH", "DELETE", "OPTIONS"};

// The method as a bounded label value.
std::string_view MethodLabel(std::string_view method) {
  for (std::string_view m : kMethods) {
    if (m == method) return m;
  }
  return "other";
}

// Escapes a label value (backslash, double quote, newline), as the format wants.
void AppendLabelValue(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void AppendValue(std::string& out, double value) {
  if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else if (value == std::floor(value) && std::fabs(value) < 1e15) {
    out += fmt::format("{}", static_cast<int64_t>(value));
  } else {
    out += fmt::format("{}", value);
  }
}

}  // namespace

void MetricsWriter::Family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void MetricsWriter::Sample(
    std::string_view name,
    std::initializer_list<std::pair<std::string_view, std::string_view>> labels, double value) {
  out_ += name;
  if (labels.size() > 0) {
    out_ += '{';
    bool first = true;
    for (const auto& [label, text] : labels) {
      if (!first) out_ += ',';
      first = false;
      out_ += label;
      out_ += "=\"";
      AppendLabelValue(out_, text);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
  AppendValue(out_, value);
  out_ += '\n';
}

void Metrics::ObserveRequest(std::string_view route, std::string_view method, int status,
                             double seconds, uint64_t bytes_in, uint64_t bytes_out) {
  if (route.empty()) route = "other";
  if (status < 100 || status > 599) status = 0;
  size_t bucket = 0;
  while (bucket < kBuckets.size() && seconds > kBuckets[bucket]) ++bucket;
  std::lock_guard lock(mu_);
  ++requests_[RequestKey(std::string(route), std::string(MethodLabel(method)), status)];
  Histogram& h = latency_[std::string(route)];
  if (bucket < kBuckets.size()) ++h.counts[bucket];
  ++h.count;
  h.sum += seconds;
  bytes_in_ += bytes_in;
  bytes_out_ += bytes_out;
}

void Metrics::ObserveGc(bool ok, uint64_t bytes_freed, double seconds) {
  std::lock_guard lock(mu_);
  ++(ok ? gc_runs_ok_ : gc_runs_failed_);
  gc_bytes_freed_ += bytes_freed;
  gc_seconds_ += seconds;
}

void Metrics::AddCollector(std::function<void(MetricsWriter&)> collector) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::string Metrics::Render() {
  std::string out;
  MetricsWriter w(out);
  std::vector<std::function<void(MetricsWriter&)>> collectors;
  {
    std::lock_guard lock(mu_);
    w.Family("quayd_http_requests_total", "counter",
             "HTTP requests answered, by route, method and status.");
    for (const auto& [key, count] : requests_) {
      const auto& [route, method, status] = key;
      const std::string code = std::to_string(status);
      w.Sample("quayd_http_requests_total",
               {{"route", route}, {"method", method}, {"status", code}},
               static_cast<double>(count));
    }
    w.Family("quayd_http_request_duration_seconds", "histogram",
             "Time from a request's start to its response written, by route.");
    std::map<std::string_view, const Histogram*> by_route;  // sorted output
    for (const auto& [route, h] : latency_) by_route.emplace(route, &h);
    for (const auto& [route, h] : by_route) {
      uint64_t cumulative = 0;
      for (size_t i = 0; i < kBuckets.size(); ++i) {
        cumulative += h->counts[i];
        const std::string le = fmt::format("{}", kBuckets[i]);
        w.Sample("quayd_http_request_duration_seconds_bucket", {{"route", route}, {"le", le}},
                 static_cast<double>(cumulative));
      }
      w.Sample("quayd_http_request_duration_seconds_bucket", {{"route", route}, {"le", "+Inf"}},
               static_cast<double>(h->count));
      w.Sample("quayd_http_request_duration_seconds_sum", {{"route", route}}, h->sum);
      w.Sample("quayd_http_request_duration_seconds_count", {{"route", route}},
               static_cast<double>(h->count));
    }
    w.Family("quayd_http_request_bytes_total", "counter", "Request body bytes received.");
    w.Sample("quayd_http_request_bytes_total", static_cast<double>(bytes_in_));
    w.Family("quayd_http_response_bytes_total", "counter", "Response body bytes sent.");
    w.Sample("quayd_http_response_bytes_total", static_cast<double>(bytes_out_));
    w.Family("quayd_gc_runs_total", "counter", "Garbage collections finished, by result.");
    w.Sample("quayd_gc_runs_total", {{"result", "ok"}}, static_cast<double>(gc_runs_ok_));
    w.Sample("quayd_gc_runs_total", {{"result", "error"}}, static_cast<double>(gc_runs_failed_));
    w.Family("quayd_gc_freed_bytes_total", "counter", "Blob bytes garbage collection removed.");
    w.Sample("quayd_gc_freed_bytes_total", static_cast<double>(gc_bytes_freed_));
    w.Family("quayd_gc_duration_seconds_total", "counter", "Time spent collecting garbage.");
    w.Sample("quayd_gc_duration_seconds_total", gc_seconds_);
    collectors = collectors_;
  }
  // Outside the lock: collectors may query the database.
  for (const auto& collect : collectors) collect(w);
  return out;
}

bool IsMetricsPath(std::string_view path) { return path == "/metrics"; }

void ServeMetrics(Metrics& metrics, const httplib::Request& req, httplib::Response& res) {
  if (req.method != "GET" && req.method != "HEAD") {
    res.status = 405;
    res.set_header("Allow", "GET, HEAD");
    res.set_content("method not allowed\n", "text/plain");
    return;
  }
  res.status = 200;
  res.set_header("Cache-Control", "no-store");
  res.set_content(metrics.Render(), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace quayd
