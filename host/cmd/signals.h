// Process signals for quayd: SIGPIPE ignored (a client that hangs up must not
// kill the server), SIGINT/SIGTERM delivered to a watcher thread that runs a
// shutdown callback outside signal-handler context.
#pragma once

#include <pthread.h>

#include <atomic>
#include <functional>
#include <thread>

namespace quayd {

// Idempotent. cpp-httplib 0.11.4 writes with send(..., 0) on Linux, so a
// peer's reset would otherwise raise SIGPIPE.
void IgnoreSigpipe();

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (construct it before any
// other thread starts, so every thread inherits the mask) and runs
// `on_signal(signo)` on a watcher thread for each one received. The
// destructor stops the watcher; it does not restore the mask.
class ShutdownSignals {
 public:
  explicit ShutdownSignals(std::function<void(int signo)> on_signal);
  ~ShutdownSignals();
  ShutdownSignals(const ShutdownSignals&) = delete;
  ShutdownSignals& operator=(const ShutdownSignals&) = delete;

 private:
  std::function<void(int)> on_signal_;
  std::atomic<bool> done_{false};
  std::thread watcher_;
};

}  // namespace quayd
