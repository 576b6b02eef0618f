#include "host/cmd/signals.h"

#include <signal.h>

namespace quayd {
namespace {

sigset_t ShutdownSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);  // reload (the callback tells them apart)
  return set;
}

}  // namespace

void IgnoreSigpipe() {
  struct sigaction action {};
  action.sa_handler = SIG_IGN;
  sigemptyset(&action.sa_mask);
  sigaction(SIGPIPE, &action, nullptr);
}

ShutdownSignals::ShutdownSignals(std::function<void(int signo)> on_signal)
    : on_signal_(std::move(on_signal)) {
  sigset_t set = ShutdownSet();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  watcher_ = std::thread([this, set] {
    while (true) {
      int signo = 0;
      if (sigwait(&set, &signo) != 0) continue;
      if (done_.load()) return;
      on_signal_(signo);
    }
  });
}

ShutdownSignals::~ShutdownSignals() {
  done_.store(true);
  // Wakes the watcher; the signal is blocked everywhere, so only sigwait sees it.
  pthread_kill(watcher_.native_handle(), SIGTERM);
  watcher_.join();
}

}  // namespace quayd
