#include "host/cmd/gc.h"

#include <fmt/format.h>

#include "host/obs/metrics.h"

namespace quayd {

std::string FormatGcReport(const quay::GcReport& report, bool dry_run) {
  return fmt::format(
      "dry_run={} manifests_deleted={} tags_expired={} blobs_unlinked={} blobs_deleted={} "
      "bytes_freed={} uploads_expired={}",
      dry_run, report.manifests_deleted, report.tags_expired, report.blobs_unlinked,
      report.blobs_deleted, report.bytes_freed, report.uploads_expired);
}

PeriodicGc::PeriodicGc(quay::Registry& registry, std::chrono::milliseconds interval,
                       quay::Logger& logger, Metrics* metrics)
    : registry_(registry), interval_(interval), logger_(logger), metrics_(metrics) {
  if (interval_.count() > 0) thread_ = std::thread([this] { Loop(); });
}

PeriodicGc::~PeriodicGc() { Stop(); }

void PeriodicGc::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

uint64_t PeriodicGc::runs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return runs_;
}

void PeriodicGc::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    // A steady deadline: spurious wake-ups do not shorten the interval, and a
    // wall-clock jump does not stretch it.
    const auto due = std::chrono::steady_clock::now() + interval_;
    if (wake_.wait_until(lock, due, [this] { return stopping_; })) return;
    lock.unlock();
    CollectOnce();
    lock.lock();
    ++runs_;
  }
}

void PeriodicGc::CollectOnce() {
  const auto started = std::chrono::steady_clock::now();
  quay::Result<quay::GcReport> report = registry_.CollectGarbage(quay::GcOptions{});
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  if (metrics_ != nullptr && report.status().code() != quay::Code::kUnsupported) {
    metrics_->ObserveGc(report.ok(), report.ok() ? report->bytes_freed : 0,
                        std::chrono::duration<double>(elapsed).count());
  }
  if (report.ok()) {
    logger_.Log(quay::LogLevel::kInfo, "gc", "collected garbage",
                {{"manifests_deleted", std::to_string(report->manifests_deleted)},
                 {"tags_expired", std::to_string(report->tags_expired)},
                 {"blobs_unlinked", std::to_string(report->blobs_unlinked)},
                 {"blobs_deleted", std::to_string(report->blobs_deleted)},
                 {"bytes_freed", std::to_string(report->bytes_freed)},
                 {"uploads_expired", std::to_string(report->uploads_expired)},
                 {"duration_ms", std::to_string(elapsed.count())}});
  } else if (report.status().code() == quay::Code::kUnsupported) {
    logger_.Log(quay::LogLevel::kDebug, "gc", "garbage collection is not available",
                {{"error", report.status().ToString()}});
  } else {
    logger_.Log(
        quay::LogLevel::kError, "gc", "failed to collect garbage",
        {{"error", report.status().ToString()}, {"duration_ms", std::to_string(elapsed.count())}});
  }
}

}  // namespace quayd
