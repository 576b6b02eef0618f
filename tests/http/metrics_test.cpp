// The Prometheus exposition (host/obs/metrics.h): counters by bounded
// labels, cumulative histogram buckets, collectors, escaping.
#include "host/obs/metrics.h"

#include <doctest/doctest.h>

#include <string>

using quayd::Metrics;
using quayd::MetricsWriter;

namespace {

bool Has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("metrics: requests by route, method and status; latency per route") {
  Metrics m;
  m.ObserveRequest("blob.get", "GET", 200, 0.0004, 0, 1000);
  m.ObserveRequest("blob.get", "GET", 200, 0.02, 0, 24);
  m.ObserveRequest("blob.get", "GET", 404, 3.0, 0, 0);
  m.ObserveRequest("", "BREW", 400, 0.001, 10, 5);  // unrouted, odd method
  const std::string text = m.Render();
  INFO(text);
  CHECK(Has(text, "# TYPE quayd_http_requests_total counter"));
  CHECK(Has(text, R"(quayd_http_requests_total{route="blob.get",method="GET",status="200"} 2)"));
  CHECK(Has(text, R"(quayd_http_requests_total{route="blob.get",method="GET",status="404"} 1)"));
  CHECK(Has(text, R"(quayd_http_requests_total{route="other",method="other",status="400"} 1)"));
  // Cumulative buckets: 0.0004 in le=0.0005, 0.02 by le=0.025, 3.0 only in +Inf.
  CHECK(Has(text, R"(quayd_http_request_duration_seconds_bucket{route="blob.get",le="0.0005"} 1)"));
  CHECK(Has(text, R"(quayd_http_request_duration_seconds_bucket{route="blob.get",le="0.01"} 1)"));
  CHECK(Has(text, R"(quayd_http_request_duration_seconds_bucket{route="blob.get",le="0.025"} 2)"));
  CHECK(Has(text, R"(quayd_http_request_duration_seconds_bucket{route="blob.get",le="2.5"} 2)"));
  CHECK(Has(text, R"(quayd_http_request_duration_seconds_bucket{route="blob.get",le="+Inf"} 3)"));
  CHECK(Has(text, R"(quayd_http_request_duration_seconds_count{route="blob.get"} 3)"));
  CHECK(Has(text, "quayd_http_request_bytes_total 10"));
  CHECK(Has(text, "quayd_http_response_bytes_total 1029"));
}

TEST_CASE("metrics: GC runs, bytes freed, and collectors at scrape time") {
  Metrics m;
  m.ObserveGc(true, 4096, 0.5);
  m.ObserveGc(false, 0, 0.25);
  int scrapes = 0;
  m.AddCollector([&](MetricsWriter& w) {
    ++scrapes;
    w.Family("quayd_test_gauge", "gauge", "A test gauge.");
    w.Sample("quayd_test_gauge", {{"kind", "a\"b\\c\nd"}}, 1.5);
  });
  const std::string text = m.Render();
  INFO(text);
  CHECK(scrapes == 1);
  CHECK(Has(text, R"(quayd_gc_runs_total{result="ok"} 1)"));
  CHECK(Has(text, R"(quayd_gc_runs_total{result="error"} 1)"));
  CHECK(Has(text, "quayd_gc_freed_bytes_total 4096"));
  CHECK(Has(text, "quayd_gc_duration_seconds_total 0.75"));
  CHECK(Has(text, "# TYPE quayd_test_gauge gauge"));
  CHECK(Has(text, R"(quayd_test_gauge{kind="a\"b\\c\nd"} 1.5)"));
  m.Render();
  CHECK(scrapes == 2);
}
