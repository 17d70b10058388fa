// The brute-force record and LOGIN-DELAY, with time passed in by the test.

#include <gtest/gtest.h>

#include "proxy/login/LoginGuard.h"

namespace popgate::login {
namespace {

using namespace std::chrono_literals;
using Clock = LoginGuard::Clock;

LoginGuardSettings settings() {
  LoginGuardSettings s;
  s.window = 600s;
  s.firstDelay = 100ms;
  s.maxDelay = 1600ms;
  s.refuseAfter = 5;
  return s;
}

TEST(LoginGuardTest, DelayDoublesPerFailureUpToTheMaximum) {
  LoginGuard guard(settings());
  Clock::time_point t{};
  std::vector<long> delays;
  for (int i = 0; i < 7; ++i) delays.push_back(guard.failed("10.0.0.1", "alice", t).count());
  EXPECT_EQ(delays, (std::vector<long>{100, 200, 400, 800, 1600, 1600, 1600}));
}

TEST(LoginGuardTest, AnAddressIsRefusedAfterTooManyFailuresUntilTheWindowPasses) {
  LoginGuard guard(settings());
  Clock::time_point t{};
  for (int i = 0; i < 4; ++i) guard.failed("10.0.0.1", "user" + std::to_string(i), t);
  EXPECT_FALSE(guard.admit("10.0.0.1", t));
  guard.failed("10.0.0.1", "other", t);
  auto refused = guard.admit("10.0.0.1", t + 10s);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->code, ErrorCode::Temporary);
  EXPECT_EQ(refused->reply.rfind("-ERR [SYS/TEMP] ", 0), 0u);
  EXPECT_FALSE(guard.admit("10.0.0.2", t + 10s)) << "another address is not refused";
  EXPECT_FALSE(guard.admit("10.0.0.1", t + 10s + 600s)) << "forgotten after the window";
}

TEST(LoginGuardTest, ANameIsSlowedEverywhereButNeverRefused) {
  LoginGuard guard(settings());
  Clock::time_point t{};
  for (int i = 0; i < 10; ++i) guard.failed("10.0.0." + std::to_string(i), "Alice", t);
  // A guesser spread over many addresses: each new failure for this name waits long.
  EXPECT_EQ(guard.failed("10.0.0.99", "alice", t), 1600ms) << "names compare case-insensitively";
  EXPECT_FALSE(guard.admit("10.0.0.50", t)) << "the name's owner can still log in";
}

TEST(LoginGuardTest, SuccessClearsTheNameButNotTheAddress) {
  LoginGuard guard(settings());
  Clock::time_point t{};
  for (int i = 0; i < 3; ++i) guard.failed("10.0.0.1", "alice", t);
  EXPECT_FALSE(guard.succeeded("alice", "key", std::nullopt, t));
  EXPECT_EQ(guard.failed("10.0.0.2", "alice", t), 100ms) << "the name starts again";
  EXPECT_EQ(guard.failed("10.0.0.1", "bob", t), 800ms) << "the address keeps its record";
}

TEST(LoginGuardTest, LoginDelayRefusesASecondLoginWithinTheDelay) {
  LoginGuard guard(settings());
  Clock::time_point t{};
  EXPECT_FALSE(guard.succeeded("alice", "store/alice", 900s, t));
  auto refused = guard.succeeded("alice", "store/alice", 900s, t + 899s);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reply, "-ERR [LOGIN-DELAY] Minimum time between logins not yet passed.");
  EXPECT_FALSE(guard.succeeded("bob", "store/bob", 900s, t + 899s)) << "per mailbox";
  // The refused login did not restart the clock.
  EXPECT_FALSE(guard.succeeded("alice", "store/alice", 900s, t + 900s));
  EXPECT_FALSE(guard.succeeded("alice", "store/alice", std::nullopt, t + 901s))
      << "no delay configured: never refused";
}

TEST(LoginGuardTest, TablesStayBounded) {
  LoginGuardSettings s = settings();
  s.maxTracked = 100;
  LoginGuard guard(s);
  Clock::time_point t{};
  for (int i = 0; i < 10000; ++i) {
    guard.failed("a" + std::to_string(i), "n" + std::to_string(i), t + std::chrono::seconds(i));
  }
  // The newest address is still known (its second failure doubles), the first is forgotten.
  EXPECT_EQ(guard.failed("a9999", "x", t + 10000s), 200ms);
  EXPECT_EQ(guard.failed("a0", "y", t + 10000s), 100ms);
}

TEST(LoginGuardTest, HostOfDropsThePort) {
  EXPECT_EQ(LoginGuard::hostOf("127.0.0.1:4000"), "127.0.0.1");
  EXPECT_EQ(LoginGuard::hostOf("[::1]:4000"), "::1");
  EXPECT_EQ(LoginGuard::hostOf("::1"), "::1");
  EXPECT_EQ(LoginGuard::hostOf("host"), "host");
}

}  // namespace
}  // namespace popgate::login
