// RedisLockService over RedisClient against a scripted Redis on 127.0.0.1:0 (RESP, the faults a
// real server will not produce on demand): the lease's commands in order, nil -> [IN-USE], an
// error reply, silence or no server -> [SYS/TEMP], renewal, release, and a cancelled SET.

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lib/net/TcpListener.h"
#include "lib/net/TcpStream.h"
#include "proxy/login/RedisLockService.h"
#include "support/LoopRunner.h"

namespace popgate::login {
namespace {

using Command = std::vector<std::string>;
using namespace std::chrono_literals;

// Reads RESP arrays of bulk strings (what hiredis sends), answers each with the script's bytes
// (nullopt: no answer at all).
class ScriptedRedis final : private net::StreamHandler {
 public:
  using Script = std::function<std::optional<std::string>(const Command&)>;
  explicit ScriptedRedis(uv_loop_t* loop, Script script)
      : listener_(loop), script_(std::move(script)) {
    Status status = listener_.listen("127.0.0.1", 0, false, [this](auto stream) {
      client_ = std::move(stream);
      client_->setHandler(this);
      client_->startReading();
    });
    EXPECT_TRUE(status);
  }
  ~ScriptedRedis() override {
    if (client_) client_->setHandler(nullptr);
  }
  int port() const { return listener_.boundPort(); }
  const std::vector<Command>& commands() const { return commands_; }
  bool saw(const std::string& verb, const std::string& arg) const {
    for (const Command& c : commands_)
      if (c[0] == verb && std::find(c.begin(), c.end(), arg) != c.end()) return true;
    return false;
  }

 private:
  void onData(std::string_view bytes) override {
    input_.append(bytes);
    while (auto command = parse()) {
      commands_.push_back(*command);
      if (auto reply = script_(*command)) client_->write(*reply);
    }
  }
  void onDrained() override {}
  void onClosed(Status) override {}

  std::optional<Command> parse() {
    std::size_t at = 0;
    auto line = [&]() -> std::optional<std::string> {
      std::size_t end = input_.find("\r\n", at);
      if (end == std::string::npos) return std::nullopt;
      std::string out = input_.substr(at, end - at);
      at = end + 2;
      return out;
    };
    auto count = line();
    if (!count) return std::nullopt;
    Command command;
    for (int n = std::stoi(count->substr(1)); n > 0; --n) {
      auto length = line();
      if (!length) return std::nullopt;
      std::size_t size = std::stoul(length->substr(1));
      if (input_.size() < at + size + 2) return std::nullopt;
      command.push_back(input_.substr(at, size));
      at += size + 2;
    }
    input_.erase(0, at);
    return command;
  }

  net::TcpListener listener_;
  std::unique_ptr<net::TcpStream> client_;
  Script script_;
  std::string input_;
  std::vector<Command> commands_;
};

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
  void connectTo(int port, std::chrono::milliseconds lease = 60s) {
    redis::RedisSettings settings;
    settings.port = port;
    settings.password = password;
    settings.connectTimeout = 300ms;
    settings.commandTimeout = 300ms;
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
