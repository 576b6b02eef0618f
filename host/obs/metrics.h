// quayd's metrics in Prometheus' text exposition format (version 0.0.4),
// served at GET /metrics (on the main listener, or on its own one with the
// metrics_listen key).
//
// Label values are bounded by construction: a route label is a route
// table's id ("blob.get", Quay's nickname "listRepoTags") or one of "health",
// "metrics", "ui", "other"; a method is one of the HTTP methods quayd serves
// or "other"; a status is a three-digit code. No repository, user or path
// ever becomes a label.
//
// The request path costs one uncontended mutex and two hash lookups;
// everything else (uploads open, storage used, audit backlog, database wait)
// is read by collectors when Prometheus scrapes.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace quayd {

// Appends samples in the text format; collectors use it at scrape time.
class MetricsWriter {
 public:
  explicit MetricsWriter(std::string& out) : out_(out) {}
  // "# HELP" and "# TYPE" lines of a family; `type`: counter, gauge, histogram.
  void Family(std::string_view name, std::string_view type, std::string_view help);
  // One sample: name{labels} value. `labels` are (name, value) pairs.
  void Sample(std::string_view name,
              std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
              double value);
  void Sample(std::string_view name, double value) { Sample(name, {}, value); }

 private:
  std::string& out_;
};

class Metrics {
 public:
  // Latency histogram bounds, in seconds.
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1,    2.5};

  // One request answered: `route` as above (empty: "other").
  void ObserveRequest(std::string_view route, std::string_view method, int status, double seconds,
                      uint64_t bytes_in, uint64_t bytes_out);
  // One garbage collection finished.
  void ObserveGc(bool ok, uint64_t bytes_freed, double seconds);

  // A function that writes more families at scrape time (gauges read from
  // the registry and the server). Added before serving starts.
  void AddCollector(std::function<void(MetricsWriter&)> collector);

  // The whole exposition.
  std::string Render();

 private:
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> counts{};  // per bucket, not cumulative
    uint64_t count = 0;
    double sum = 0;
  };
  using RequestKey = std::tuple<std::string, std::string, int>;  // route, method, status

  std::mutex mu_;
  std::map<RequestKey, uint64_t> requests_;
  std::unordered_map<std::string, Histogram> latency_;  // by route
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;
  uint64_t gc_runs_ok_ = 0;
  uint64_t gc_runs_failed_ = 0;
  uint64_t gc_bytes_freed_ = 0;
  double gc_seconds_ = 0;
  std::vector<std::function<void(MetricsWriter&)>> collectors_;
};

bool IsMetricsPath(std::string_view path);
// GET/HEAD /metrics: the exposition, Content-Type text/plain; version=0.0.4
// (405 for other methods).
void ServeMetrics(Metrics& metrics, const httplib::Request& req, httplib::Response& res);

}  // namespace quayd
