#include "proxy/login/RedisLoginThrottle.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <utility>

#include "lib/common/Ascii.h"
#include "lib/common/LogText.h"

namespace popgate::login {

namespace {

using Clock = LoginGuard::Clock;

// KEYS[1] the address's count, KEYS[2] the name's; ARGV[1] the window in ms. Each failure
// restarts its key's window, as LoginGuard forgets a record `window` after its last failure.
constexpr const char* kFailedScript =
    "local a = redis.call('INCR', KEYS[1]) redis.call('PEXPIRE', KEYS[1], ARGV[1]) "
    "local l = redis.call('INCR', KEYS[2]) redis.call('PEXPIRE', KEYS[2], ARGV[1]) "
    "if a > l then return a else return l end";

// A count as GET answers it (a bulk string, or nil when there is none).
std::size_t countOf(const redis::RedisReply& reply) {
  if (reply.kind == redis::RedisReply::Kind::Integer)
    return reply.integer > 0 ? static_cast<std::size_t>(reply.integer) : 0;
  std::size_t count = 0;
  if (reply.kind == redis::RedisReply::Kind::String)
    std::from_chars(reply.text.data(), reply.text.data() + reply.text.size(), count);
  return count;
}

}  // namespace

RedisLoginThrottle::RedisLoginThrottle(std::shared_ptr<redis::RedisClient> client,
                                       std::string keyPrefix, LoginGuard& guard, Executor& executor)
    : client_(std::move(client)),
      prefix_(std::move(keyPrefix)),
      guard_(guard),
      executor_(executor) {}

std::string RedisLoginThrottle::addressKey(const std::string& address) const {
  return prefix_ + "fail:addr:" + address;
}

std::string RedisLoginThrottle::loginKey(const std::string& login) const {
  return prefix_ + "fail:login:" + asciiLower(login);
}

Pending RedisLoginThrottle::admit(std::string address, Verdict done) {
  std::size_t refuseAfter = guard_.settings().refuseAfter;
  if (refuseAfter == 0) return executor_.post([done = std::move(done)] { done(std::nullopt); });
  LoginGuard* guard = &guard_;
  return client_->command(
      {"GET", addressKey(address)},
      [guard, refuseAfter, done = std::move(done)](Result<redis::RedisReply> reply) {
        if (!reply) return done(reply.error());
        if (countOf(reply.value()) < refuseAfter) return done(std::nullopt);
        done(guard->refuseAddress());
      });
}

Pending RedisLoginThrottle::failed(std::string address, std::string login, Delay done) {
  auto window = std::chrono::duration_cast<std::chrono::milliseconds>(guard_.settings().window);
  LoginGuard* guard = &guard_;
  return client_->command(
      {"EVAL", kFailedScript, "2", addressKey(address), loginKey(login),
       std::to_string(window.count())},
      [guard, address, login, done = std::move(done)](Result<redis::RedisReply> reply) {
        if (!reply) {
          spdlog::debug("failed login counted in this process only: {}",
                        logText(reply.error().detail));
          return done(guard->failed(address, login, Clock::now()));
        }
        done(guard->delayAfter(countOf(reply.value())));
      });
}

Pending RedisLoginThrottle::succeeded(std::string login, std::string key,
                                      std::optional<std::chrono::seconds> loginDelay,
                                      Verdict done) {
  // Fire and forget: a count that stays is forgotten after its window anyway.
  static_cast<void>(client_->command({"DEL", loginKey(login)}, [](Result<redis::RedisReply>) {}));
  if (!loginDelay || loginDelay->count() == 0)
    return executor_.post([done = std::move(done)] { done(std::nullopt); });
  auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(*loginDelay);
  return client_->command(
      {"SET", prefix_ + "delay:" + key, "1", "NX", "PX", std::to_string(delay.count())},
      [done = std::move(done)](Result<redis::RedisReply> reply) {
        if (!reply) return done(reply.error());
        if (reply.value().kind != redis::RedisReply::Kind::Status)
          return done(LoginGuard::loginDelayRefusal());
        done(std::nullopt);
      });
}

}  // namespace popgate::login
