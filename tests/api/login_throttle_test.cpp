// The failed-login back-off (quay/login_throttle.h) on a manual clock, and
// Accounts::Login, which runs it for every protocol: the back-off schedule,
// bounded memory, and that floods of made-up names (robot-shaped ones
// included) can neither evict nor dilute a real account's failures.
#include "quay/login_throttle.h"

#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>

#include "identity_test_support.h"
#include "quay/clock.h"

using namespace quay;
using quay::testing::AdminActor;
using quay::testing::FastIdentityOptions;
using quay::testing::OpenIdentity;
using std::chrono::seconds;

namespace {

constexpr LoginName kAccount = LoginName::kAccount;
constexpr LoginName kUnknown = LoginName::kUnknown;

// Made-up names, half of them robot-shaped ("org+name": no password hash).
std::string MadeUp(size_t i) {
  return i % 2 == 0 ? "ghost" + std::to_string(i)
                    : "org" + std::to_string(i % 97) + "+bot" + std::to_string(i);
}

}  // namespace

TEST_CASE("LoginThrottle: back-off after N failures in the window, doubling, per key") {
  auto clock = std::make_shared<ManualClock>();
  LoginThrottleOptions options;
  options.max_failures = 3;
  options.window = seconds(60);
  options.initial_delay = seconds(5);
  options.max_delay = seconds(30);
  auto throttle = LoginThrottle::New(options, clock);

  for (int i = 0; i < 2; ++i) {
    CHECK(throttle->RetryAfter("alice", "10.0.0.1") == seconds(0));
    throttle->RecordFailure("alice", "10.0.0.1", kAccount);
  }
  CHECK(throttle->RetryAfter("alice", "10.0.0.1") == seconds(0));
  throttle->RecordFailure("alice", "10.0.0.1", kAccount);  // third: blocked 5 s
  CHECK(throttle->RetryAfter("alice", "10.0.0.1") == seconds(5));
  CHECK(throttle->RetryAfter("alice", "10.0.0.2") == seconds(0));  // other address
  CHECK(throttle->RetryAfter("bob", "10.0.0.1") == seconds(0));    // other user

  clock->Advance(std::chrono::milliseconds(4500));
  CHECK(throttle->RetryAfter("alice", "10.0.0.1") == seconds(1));  // rounded up
  clock->Advance(std::chrono::milliseconds(500));
  CHECK(throttle->RetryAfter("alice", "10.0.0.1") == seconds(0));
  throttle->RecordFailure("alice", "10.0.0.1", kAccount);
  CHECK(throttle->RetryAfter("alice", "10.0.0.1") == seconds(10));
  clock->Advance(seconds(10));
  throttle->RecordFailure("alice", "10.0.0.1", kAccount);
  CHECK(throttle->RetryAfter("alice", "10.0.0.1") == seconds(20));
  clock->Advance(seconds(20));
  throttle->RecordFailure("alice", "10.0.0.1", kAccount);
  CHECK(throttle->RetryAfter("alice", "10.0.0.1") == seconds(30));  // capped

  // After the window (and the block) pass, failures start over.
  clock->Advance(seconds(120));
  throttle->RecordFailure("alice", "10.0.0.1", kAccount);
  CHECK(throttle->RetryAfter("alice", "10.0.0.1") == seconds(0));

  // A success forgets.
  throttle->RecordFailure("carol", "10.0.0.1", kAccount);
  throttle->RecordFailure("carol", "10.0.0.1", kAccount);
  throttle->RecordSuccess("carol", "10.0.0.1");
  throttle->RecordFailure("carol", "10.0.0.1", kAccount);
  CHECK(throttle->RetryAfter("carol", "10.0.0.1") == seconds(0));

  // Unknown names back off the same way, in their own table.
  for (int i = 0; i < 3; ++i) throttle->RecordFailure("nobody", "10.0.0.1", kUnknown);
  CHECK(throttle->RetryAfter("nobody", "10.0.0.1") == seconds(5));
  CHECK(throttle->size().unknown == 1);
  throttle->RecordSuccess("nobody", "10.0.0.1");
  CHECK(throttle->RetryAfter("nobody", "10.0.0.1") == seconds(0));
  CHECK(throttle->size().unknown == 0);
}

TEST_CASE("LoginThrottle: bounded memory; 0 failures disables") {
  auto clock = std::make_shared<ManualClock>();
  LoginThrottleOptions options;
  options.max_failures = 2;
  options.max_entries = 10;
  options.max_unknown_entries = 16;
  auto throttle = LoginThrottle::New(options, clock);
  for (int i = 0; i < 50; ++i) {
    throttle->RecordFailure("user" + std::to_string(i), "1.2.3.4", kAccount);
    throttle->RecordFailure("ghost" + std::to_string(i), "1.2.3.4", kUnknown);
  }
  CHECK(throttle->size().accounts <= 10);
  CHECK(throttle->size().unknown <= 16);
  clock->Advance(seconds(3600));  // everything idle: swept on the next insert
  throttle->RecordFailure("late", "1.2.3.4", kAccount);
  CHECK(throttle->size().accounts == 1);

  options.max_failures = 0;
  auto off = LoginThrottle::New(options, clock);
  for (int i = 0; i < 10; ++i) off->RecordFailure("x", "y", kAccount);
  CHECK(off->RetryAfter("x", "y") == seconds(0));
}

// Issue 11: failed logins with many distinct made-up names must not fill the
// table so that a real user's failures stop counting. With the default
// bounds, 200,000 made-up names (robot-shaped half of them) before the
// victim's first wrong password and 50,000 more between each of the next
// ones: the 6th is refused, and the tables stay within their bounds.
TEST_CASE("LoginThrottle: a flood of made-up names never saves a victim's record") {
  auto clock = std::make_shared<ManualClock>();
  const LoginThrottleOptions options;  // defaults: 5 failures in 5 minutes
  auto throttle = LoginThrottle::New(options, clock);
  size_t next = 0;
  auto flood = [&](size_t n) {
    for (size_t i = 0; i < n; ++i, ++next) {
      // From the attacker's address and from the victim's own.
      throttle->RecordFailure(MadeUp(next), next % 3 == 0 ? "10.0.0.9" : "203.0.113.7", kUnknown);
    }
  };
  flood(200'000);
  for (int attempt = 1; attempt <= 5; ++attempt) {
    REQUIRE(throttle->RetryAfter("alice", "10.0.0.9") == seconds(0));
    throttle->RecordFailure("alice", "10.0.0.9", kAccount);
    clock->Advance(seconds(1));
    if (attempt < 5) flood(50'000);
  }
  // The 6th wrong password, still within the window: refused.
  CHECK(throttle->RetryAfter("alice", "10.0.0.9") > seconds(0));
  const LoginThrottleSize size = throttle->size();
  CHECK(size.accounts == 1);
  CHECK(size.unknown <= options.max_unknown_entries);
  CHECK(size.unknown > 0);
}

// The same through the library's login: Accounts::Login asks the database
// which table a failed name belongs to, so made-up names (of either shape)
// land in the unknown table however small it is.
TEST_CASE("Accounts::Login: made-up names cannot evict a real account's failures") {
  auto clock = std::make_shared<ManualClock>();
  Options o = FastIdentityOptions();
  o.clock = clock;
  auto identity = OpenIdentity(o);
  QUAY_REQUIRE_OK(identity->CreateUser(AdminActor(), "alice", "a@example.com", "right"));
  QUAY_REQUIRE_OK(identity->CreateOrganization(AdminActor(), "acme", "acme@example.com", "alice"));

  LoginThrottleOptions options;
  options.max_entries = 4;           // small tables: any leak of made-up names into
  options.max_unknown_entries = 32;  // the account table would fill it
  auto throttle = LoginThrottle::New(options, clock);

  auto login = [&](std::string_view user, std::string_view secret, std::string_view address) {
    LoginAttempt attempt;
    attempt.username = user;
    attempt.secret = secret;
    attempt.address = address;
    return identity->Login(attempt, throttle.get());
  };
  size_t next = 0;
  auto flood = [&](size_t n) {
    for (size_t i = 0; i < n; ++i, ++next) {
      LoginResult r = login(next % 4 == 0 ? "acme+bot" + std::to_string(next) : MadeUp(next),
                            "guess", "10.0.0.9");
      REQUIRE_FALSE(r.principal.ok());
      REQUIRE(r.principal.status().code() == Code::kUnauthenticated);
    }
  };

  flood(300);
  for (int attempt = 1; attempt <= 5; ++attempt) {
    LoginResult wrong = login("alice", "wrong", "10.0.0.9");
    REQUIRE_FALSE(wrong.throttled());
    REQUIRE(wrong.principal.status().code() == Code::kUnauthenticated);
    if (attempt < 5) flood(100);
  }
  LoginResult sixth = login("alice", "right", "10.0.0.9");
  CHECK(sixth.throttled());
  CHECK(sixth.retry_after >= seconds(1));
  CHECK_FALSE(sixth.principal.ok());
  CHECK(throttle->size().accounts == 1);
  CHECK(throttle->size().unknown <= 32);

  // Another address is not held back; and once the delay passes, the right
  // password works and forgets the failures.
  CHECK(login("alice", "right", "10.0.0.10").principal.ok());
  clock->Advance(sixth.retry_after);
  CHECK(login("alice", "right", "10.0.0.9").principal.ok());
  CHECK(throttle->size().accounts == 0);
}
