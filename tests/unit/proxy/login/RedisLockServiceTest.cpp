// RedisLockService over RedisClient against a scripted Redis on 127.0.0.1:0 (RESP, the faults a
// real server will not produce on demand): the lease's commands in order, nil -> [IN-USE], an
// error reply, silence or no server -> [SYS/TEMP], renewal, release, and a cancelled SET.

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "proxy/login/RedisLockService.h"
#include "support/LoopRunner.h"
#include "support/ScriptedRedis.h"

namespace popgate::login {
namespace {

using test::ScriptedRedis;
using Command = ScriptedRedis::Command;
using namespace std::chrono_literals;

std::optional<std::string> grantingScript(const Command& c) {
  if (c[0] == "INCR") return ":7\r\n";
  if (c[0] == "SET") return "+OK\r\n";
  if (c[0] == "EVAL") return ":1\r\n";
  return "+PONG\r\n";
}

// The granting script, except that `verb` gets `reply` (nullopt: no answer).
ScriptedRedis::Script answering(std::string verb, std::optional<std::string> reply) {
  return [verb, reply](const Command& c) { return c[0] == verb ? reply : grantingScript(c); };
}

struct Fixture {
  imap::test::LoopRunner runner;
  std::optional<ScriptedRedis> redis;
  std::optional<RedisLockService> service;
  std::string password;

  void start(ScriptedRedis::Script script, std::chrono::milliseconds lease = 60s) {
    redis.emplace(runner.loop(), std::move(script));
    connectTo(redis->port(), lease);
  }
  std::chrono::milliseconds connectTimeout = 300ms;
  std::chrono::milliseconds commandTimeout = 300ms;

  void connectTo(int port, std::chrono::milliseconds lease = 60s) {
    redis::RedisSettings settings;
    settings.port = port;
    settings.password = password;
    settings.connectTimeout = connectTimeout;
    settings.commandTimeout = commandTimeout;
    service.emplace(runner.loop(),
                    std::make_shared<redis::RedisClient>(runner.loop(), std::move(settings)),
                    RedisLockSettings{"pg:", lease}, "inst");
  }
  // Refused: the error's code (the test fails if the lock was granted).
  std::optional<ErrorCode> refusal(const std::string& key) {
    auto lock = acquire(key);
    if (!lock || *lock) return std::nullopt;
    return lock->error().code;
  }
  std::optional<Result<std::unique_ptr<MailboxLock>>> acquire(const std::string& key) {
    std::optional<Result<std::unique_ptr<MailboxLock>>> out;
    Pending pending = service->acquire(key, [&](auto result) { out = std::move(result); });
    EXPECT_TRUE(runner.runUntil([&] { return out.has_value(); }));
    return out;
  }
};

TEST(RedisLockServiceTest, LeaseIsAFencedSetNxAndIsReleasedWithItsToken) {
  Fixture f;
  f.start(grantingScript);
  auto lock = f.acquire("alice");
  ASSERT_TRUE(lock && *lock) << (lock && !*lock ? lock->error().detail : "");
  EXPECT_TRUE(f.redis->saw("INCR", "pg:fence"));
  EXPECT_EQ(f.redis->commands().back(),
            (Command{"SET", "pg:lock:alice", "7:inst", "NX", "PX", "60000"}));
  lock->value().reset();
  ASSERT_TRUE(f.runner.runUntil([&] { return f.redis->commands().back()[0] == "EVAL"; }));
  const Command& release = f.redis->commands().back();
  EXPECT_NE(release[1].find("DEL"), std::string::npos);
  EXPECT_EQ((Command{release.begin() + 2, release.end()}),
            (Command{"1", "pg:lock:alice", "7:inst"}));
  f.service.reset();
}

TEST(RedisLockServiceTest, HeldElsewhereIsInUse) {
  Fixture f;
  f.start(answering("SET", "$-1\r\n"));
  EXPECT_EQ(f.refusal("alice"), ErrorCode::InUse);
  f.service.reset();
}

TEST(RedisLockServiceTest, AnErrorReplySilenceOrNoServerIsTemporary) {
  Fixture f;
  f.start(answering("INCR", "-LOADING Redis is loading\r\n"));
  EXPECT_EQ(f.refusal("alice"), ErrorCode::Temporary);
  f.start(answering("SET", std::nullopt));  // a Redis that stops answering
  EXPECT_EQ(f.refusal("alice"), ErrorCode::Temporary);

  int closedPort = f.redis->port();
  f.service.reset();
  f.redis.reset();
  f.connectTo(closedPort);
  EXPECT_EQ(f.refusal("alice"), ErrorCode::Temporary);
  f.service.reset();
}

TEST(RedisLockServiceTest, ARefusedConnectFailsAtOnceNotAtTheConnectTimeout) {
  Fixture f;
  f.start(grantingScript);
  int closedPort = f.redis->port();
  f.service.reset();
  f.redis.reset();
  // Far beyond runUntil's own bound (30 s): only noticing the refusal itself answers in time.
  f.connectTimeout = 3600s;
  f.commandTimeout = 3600s;
  f.connectTo(closedPort);
  EXPECT_EQ(f.refusal("alice"), ErrorCode::Temporary);
  f.service.reset();
}

TEST(RedisLockServiceTest, AuthComesFirstAndARefusedOneIsTemporary) {
  Fixture f;
  f.password = "pw";
  f.start(grantingScript);
  ASSERT_TRUE(f.acquire("alice").value());
  EXPECT_EQ(f.redis->commands().front(), (Command{"AUTH", "pw"}));
  f.start(answering("AUTH", "-WRONGPASS invalid username-password pair\r\n"));
  EXPECT_EQ(f.refusal("alice"), ErrorCode::Temporary);
  EXPECT_FALSE(f.redis->saw("SET", "pg:lock:alice"));
  f.service.reset();
}

TEST(RedisLockServiceTest, RenewsItsOwnTokenWhileHeld) {
  Fixture f;
  f.start(grantingScript, 300ms);
  auto lock = f.acquire("alice");
  ASSERT_TRUE(lock && *lock);
  ASSERT_TRUE(f.runner.runUntil([&] { return f.redis->saw("EVAL", "300"); }));
  const Command& renew = f.redis->commands().back();
  EXPECT_NE(renew[1].find("PEXPIRE"), std::string::npos);
  EXPECT_EQ((Command{renew.begin() + 2, renew.end()}),
            (Command{"1", "pg:lock:alice", "7:inst", "300"}));
  lock->value().reset();
  f.service.reset();
}

TEST(RedisLockServiceTest, ACancelledAcquisitionGivesBackWhatItsSetMayHaveWon) {
  Fixture f;
  f.start(grantingScript);
  bool answered = false;
  Pending pending = f.service->acquire("alice", [&](auto) { answered = true; });
  ASSERT_TRUE(f.runner.runUntil([&] { return f.redis->saw("SET", "pg:lock:alice"); }));
  pending.reset();  // the SET is on its way
  ASSERT_TRUE(f.runner.runUntil([&] { return f.redis->commands().back()[0] == "EVAL"; }));
  EXPECT_EQ(f.redis->commands().back()[3], "pg:lock:alice");
  EXPECT_EQ(f.redis->commands().back()[4], "7:inst");
  EXPECT_FALSE(answered);
  f.service.reset();
}

}  // namespace
}  // namespace popgate::login
