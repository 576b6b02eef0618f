// The connection task queue: threads start only when every one is busy, up
// to the maximum; beyond it tasks wait; shutdown finishes what was queued.
#include "host/net/connection_pool.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

using quayd::ConnectionPool;

namespace {

// A gate the tasks block on until the test opens it.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  void Wait() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return open; });
  }
  void Open() {
    {
      std::lock_guard lock(mu);
      open = true;
    }
    cv.notify_all();
  }
};

bool WaitFor(const std::function<bool()>& condition) {
  for (int i = 0; i < 500; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

}  // namespace

TEST_CASE("connection pool: grows on demand, caps at the maximum, drains on shutdown") {
  ConnectionPool pool(8);
  CHECK(pool.threads() == 0);  // nothing started up front

  // Sequential short tasks reuse one thread.
  std::atomic<int> done{0};
  for (int i = 0; i < 5; ++i) {
    pool.enqueue([&] { ++done; });
    REQUIRE(WaitFor([&] { return done.load() == i + 1; }));
  }
  CHECK(pool.threads() == 1);

  // Twelve blocking tasks: eight run (eight threads), four wait.
  Gate gate;
  std::atomic<int> running{0};
  for (int i = 0; i < 12; ++i) {
    pool.enqueue([&] {
      ++running;
      gate.Wait();
      ++done;
    });
  }
  REQUIRE(WaitFor([&] { return running.load() == 8; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(running.load() == 8);
  CHECK(pool.threads() == 8);

  gate.Open();
  pool.shutdown();  // waits for all twelve
  CHECK(done.load() == 5 + 12);
  CHECK(running.load() == 12);
}

// Issue 11: a burst starts threads; once it is over they end, so the count
// falls back instead of staying at the burst's peak.
TEST_CASE("connection pool: threads idle for the idle timeout end") {
  ConnectionPool pool(8, std::chrono::milliseconds(100));
  Gate gate;
  std::atomic<int> running{0};
  std::atomic<int> done{0};
  for (int i = 0; i < 8; ++i) {
    pool.enqueue([&] {
      ++running;
      gate.Wait();
      ++done;
    });
  }
  REQUIRE(WaitFor([&] { return running.load() == 8; }));
  CHECK(pool.threads() == 8);
  gate.Open();
  REQUIRE(WaitFor([&] { return done.load() == 8; }));
  CHECK(WaitFor([&] { return pool.threads() == 0; }));

  // The pool still serves after its threads ended, starting a new one.
  pool.enqueue([&] { ++done; });
  REQUIRE(WaitFor([&] { return done.load() == 9; }));
  CHECK(pool.threads() <= 1);
  pool.shutdown();
}
