// RedisLoginThrottle over RedisClient against a scripted Redis (tests/integration/test_redis_state
// runs the same rules against a real redis-server and two replicas): the commands and keys it
// sends, how it reads their answers, and what it does when Redis is away.

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>

#include "lib/net/LoopExecutor.h"
#include "proxy/login/RedisLoginThrottle.h"
#include "support/LoopRunner.h"
#include "support/ScriptedRedis.h"

namespace popgate::login {
namespace {

using test::ScriptedRedis;
using Command = ScriptedRedis::Command;
using namespace std::chrono_literals;

struct Fixture {
  imap::test::LoopRunner runner;
  net::LoopExecutor executor{runner.loop()};
  LoginGuard guard{[] {
    LoginGuardSettings s;
    s.firstDelay = 100ms;
    s.refuseAfter = 3;
    s.window = 60s;
    return s;
  }()};
  std::optional<ScriptedRedis> redis;
  std::optional<RedisLoginThrottle> throttle;

  explicit Fixture(ScriptedRedis::Script script) { start(std::move(script)); }
  ~Fixture() { throttle.reset(); }

  void start(ScriptedRedis::Script script) {
    redis.emplace(runner.loop(), std::move(script));
    redis::RedisSettings settings;
    settings.port = redis->port();
    settings.connectTimeout = 300ms;
    settings.commandTimeout = 300ms;
    throttle.emplace(std::make_shared<redis::RedisClient>(runner.loop(), std::move(settings)),
                     "pg:", guard, executor);
  }
  std::optional<Error> admit(const std::string& address) {
    std::optional<std::optional<Error>> out;
    Pending p = throttle->admit(address, [&](std::optional<Error> e) { out = std::move(e); });
    EXPECT_TRUE(runner.runUntil([&] { return out.has_value(); }));
    return out.value_or(std::nullopt);
  }
  std::chrono::milliseconds failed(const std::string& address, const std::string& login) {
    std::optional<std::chrono::milliseconds> out;
    Pending p = throttle->failed(address, login, [&](std::chrono::milliseconds d) { out = d; });
    EXPECT_TRUE(runner.runUntil([&] { return out.has_value(); }));
    return out.value_or(0ms);
  }
  std::optional<Error> succeeded(const std::string& login, std::optional<std::chrono::seconds> d) {
    std::optional<std::optional<Error>> out;
    Pending p = throttle->succeeded(login, "alice@imap", d,
                                    [&](std::optional<Error> e) { out = std::move(e); });
    EXPECT_TRUE(runner.runUntil([&] { return out.has_value(); }));
    return out.value_or(std::nullopt);
  }
};

// GET answers `count` failures for every address; EVAL answers `failures`; SET answers `set`.
ScriptedRedis::Script counts(std::string get, std::string eval, std::string set = "+OK\r\n") {
  return [=](const Command& c) -> std::optional<std::string> {
    if (c[0] == "GET") return get;
    if (c[0] == "EVAL") return eval;
    if (c[0] == "SET") return set;
    if (c[0] == "DEL") return ":1\r\n";
    return "+PONG\r\n";
  };
}

TEST(RedisLoginThrottleTest, AnAddressIsRefusedOnceItsSharedCountReachesTheLimit) {
  Fixture f(counts("$1\r\n2\r\n", ":1\r\n"));
  EXPECT_FALSE(f.admit("10.0.0.1"));
  EXPECT_EQ(f.redis->commands().back(), (Command{"GET", "pg:fail:addr:10.0.0.1"}));
  f.start(counts("$1\r\n3\r\n", ":1\r\n"));
  auto refused = f.admit("10.0.0.1");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reply.rfind("-ERR [SYS/TEMP]", 0), 0u);
  EXPECT_EQ(f.guard.refusedCount(), 1u);
  f.start(counts("$-1\r\n", ":1\r\n"));
  EXPECT_FALSE(f.admit("10.0.0.1")) << "no record: admitted";
}

TEST(RedisLoginThrottleTest, AFailureCountsForAddressAndLowercasedNameInOneScript) {
  Fixture f(counts("$-1\r\n", ":3\r\n"));
  EXPECT_EQ(f.failed("10.0.0.1", "Alice"), 400ms) << "third failure: 100, 200, 400";
  const Command& eval = f.redis->commands().back();
  ASSERT_EQ(eval.size(), 6u);
  EXPECT_EQ((Command{eval.begin() + 2, eval.end()}),
            (Command{"2", "pg:fail:addr:10.0.0.1", "pg:fail:login:alice", "60000"}));
  EXPECT_EQ(f.guard.delayedCount(), 1u);
}

TEST(RedisLoginThrottleTest, WithRedisAwayAdmissionIsTemporaryAndFailuresAreStillSlowed) {
  Fixture f(counts("-LOADING Redis is loading\r\n", "-LOADING Redis is loading\r\n",
                   "-LOADING Redis is loading\r\n"));
  auto refused = f.admit("10.0.0.1");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->code, ErrorCode::Temporary);
  EXPECT_EQ(f.failed("10.0.0.1", "alice"), 100ms) << "this process's own count";
  EXPECT_EQ(f.failed("10.0.0.1", "alice"), 200ms);
  auto delayed = f.succeeded("alice", 900s);
  ASSERT_TRUE(delayed);
  EXPECT_EQ(delayed->code, ErrorCode::Temporary) << "LOGIN-DELAY is never guessed";
}

TEST(RedisLoginThrottleTest, LoginDelayIsASetNxWithExpiry) {
  Fixture f(counts("$-1\r\n", ":1\r\n"));
  EXPECT_FALSE(f.succeeded("Alice", 900s));
  EXPECT_TRUE(f.redis->saw("DEL", "pg:fail:login:alice"));
  EXPECT_EQ(f.redis->commands().back(),
            (Command{"SET", "pg:delay:alice@imap", "1", "NX", "PX", "900000"}));
  f.start(counts("$-1\r\n", ":1\r\n", "$-1\r\n"));
  auto refused = f.succeeded("alice", 900s);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reply, "-ERR [LOGIN-DELAY] Minimum time between logins not yet passed.");
  auto sets = [&] {
    return std::count_if(f.redis->commands().begin(), f.redis->commands().end(),
                         [](const Command& c) { return c[0] == "SET"; });
  };
  auto before = sets();
  EXPECT_FALSE(f.succeeded("alice", std::nullopt));
  EXPECT_EQ(sets(), before) << "no delay configured: no SET";
}

TEST(RedisLoginThrottleTest, NoRefusalLimitAsksNothing) {
  Fixture f(counts("$2\r\n99\r\n", ":1\r\n"));
  LoginGuardSettings s = f.guard.settings();
  s.refuseAfter = 0;
  f.guard.setSettings(s);
  EXPECT_FALSE(f.admit("10.0.0.1"));
  EXPECT_FALSE(f.redis->saw("GET", "pg:fail:addr:10.0.0.1"));
}

}  // namespace
}  // namespace popgate::login
