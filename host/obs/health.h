// The health routes an orchestrator and Quay's tooling poll:
//   GET /healthz                 alive: the process serves requests (always 200 once
//                                listening, even while starting)
//   GET /readyz                  ready: started, and the database, the blob store and
//                                the data folder's disk space are usable (200, else 503)
//   GET /health, /health/instance   Quay's instance check
//   GET /status, /health/endtoend   Quay's global-services check
//   GET /health/warning          Quay's disk-space warning
// Quay's shape: {"data":{"services":{name:bool}},"status_code":200|503}, the
// HTTP status equal to status_code. Details of a failure (its error text) go
// to the log, never to the anonymous caller.
//
// Probes run at most once per `probe_interval` (a stampede of probes costs
// one check); before MarkReady() every answer but /healthz is 503.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "quay/logger.h"
#include "quay/status.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace quayd {

struct HealthProbes {
  // The database and the blob store, each OK or the error met
  // (Registry::CheckHealth). Null: not probed (reported usable).
  struct Parts {
    quay::Status database;
    quay::Status storage;
  };
  std::function<Parts()> registry;
  // Whether the token signing key is loaded (Quay's service_key).
  std::function<bool()> service_key;
  // The folder whose filesystem holds the data; empty: not checked.
  std::string data_dir;
  // Less than this free there is no room to accept pushes: not ready.
  uint64_t min_free_bytes = 64ull << 20;
  // Less than this fraction free: /health/warning says so.
  double warning_free_fraction = 0.1;
  std::chrono::milliseconds probe_interval{1000};
};

class Health {
 public:
  Health(HealthProbes probes, std::shared_ptr<quay::Logger> logger);

  // Whether `path` is one of the health routes (answered by Serve).
  static bool Owns(std::string_view path);
  // Answers a health route (GET or HEAD; other methods 405).
  void Serve(const httplib::Request& req, httplib::Response& res);

  // Startup is over (migrations ran, keys loaded): readiness may now pass.
  void MarkReady() { ready_.store(true); }
  bool ready() const { return ready_.load(); }

  struct Snapshot {
    bool started = false;
    bool database = true;
    bool storage = true;
    bool service_key = true;
    bool disk_space = true;           // at least min_free_bytes available
    bool disk_space_warning = false;  // under warning_free_fraction available
    uint64_t free_bytes = 0;
    uint64_t total_bytes = 0;
  };
  // The probes' results, at most probe_interval old.
  Snapshot Check();

 private:
  HealthProbes probes_;
  std::shared_ptr<quay::Logger> logger_;
  std::atomic<bool> ready_{false};
  std::mutex mu_;  // guards the cached snapshot; one probe at a time
  Snapshot last_;
  std::chrono::steady_clock::time_point last_at_{};
  bool have_last_ = false;
};

}  // namespace quayd
