#include "proxy/login/RedisLockService.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <random>

#include "lib/common/LogText.h"
#include "lib/net/Timer.h"

namespace popgate::login {

namespace {

// KEYS[1] the lock, ARGV[1] our token: each touches the key only while it still holds our token
// (a lease that expired may belong to another replica by now).
constexpr const char* kRenewScript =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
constexpr const char* kReleaseScript =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "return redis.call('DEL', KEYS[1]) else return 0 end";

void release(redis::RedisClient& client, const std::string& key, const std::string& token) {
  // Fire and forget: the answer changes nothing here (a lost DEL leaves a lease that expires).
  static_cast<void>(
      client.command({"EVAL", kReleaseScript, "1", key, token}, [](Result<redis::RedisReply>) {}));
}

class LeasedLock final : public MailboxLock {
 public:
  LeasedLock(uv_loop_t* loop, std::shared_ptr<redis::RedisClient> client, std::string key,
             std::string token, std::chrono::milliseconds lease)
      : client_(std::move(client)),
        key_(std::move(key)),
        token_(std::move(token)),
        lease_(lease),
        renewTimer_(loop) {
    scheduleRenewal();
  }

  ~LeasedLock() override { release(*client_, key_, token_); }

 private:
  void scheduleRenewal() {
    renewTimer_.start(lease_ / 3, [this] { renew(); });
  }

  void renew() {
    renewal_ = client_->command(
        {"EVAL", kRenewScript, "1", key_, token_, std::to_string(lease_.count())},
        [this](Result<redis::RedisReply> reply) {
          if (!reply) {
            // Try again at the next period: the lease may still be ours until it expires.
            spdlog::warn("lease {} not renewed: {}", logText(key_), logText(reply.error().detail));
            return scheduleRenewal();
          }
          if (reply.value().integer == 1) return scheduleRenewal();
          // Expired (Redis lost it, or unreachable longer than the lease) and maybe taken over:
          // the session goes on; deletion by UID stays safe.
          spdlog::warn("lease {} lost: another session may hold the mailbox", logText(key_));
        });
  }

  std::shared_ptr<redis::RedisClient> client_;  // shared: the release outlives the session
  std::string key_;
  std::string token_;
  std::chrono::milliseconds lease_;
  net::Timer renewTimer_;
  Pending renewal_;
};

// One acquisition: INCR for the fencing token, then SET NX PX.
class Acquisition final : public Cancelable {
 public:
  Acquisition(uv_loop_t* loop, std::shared_ptr<redis::RedisClient> client, std::string key,
              const RedisLockSettings& settings, const std::string& instanceId,
              MailboxLockService::Done done)
      : loop_(loop),
        client_(std::move(client)),
        key_(settings.keyPrefix + "lock:" + key),
        lease_(settings.lease),
        done_(std::move(done)) {
    step_ = client_->command({"INCR", settings.keyPrefix + "fence"},
                             [this, instanceId](Result<redis::RedisReply> fence) {
                               if (!fence) return done_(fence.error());
                               set(std::to_string(fence.value().integer) + ":" + instanceId);
                             });
  }

  ~Acquisition() override {
    // Cancelled while SET was in flight: it may still win. Redis runs one connection's commands
    // in order, so a release sent now comes after it and gives the lease back.
    if (!settingToken_.empty()) release(*client_, key_, settingToken_);
  }

 private:
  void set(std::string token) {
    settingToken_ = token;
    step_ = client_->command(
        {"SET", key_, token, "NX", "PX", std::to_string(lease_.count())},
        [this, token](Result<redis::RedisReply> reply) {
          settingToken_.clear();
          if (!reply) return done_(reply.error());
          if (reply.value().kind != redis::RedisReply::Kind::Status)
            return done_(Error{ErrorCode::InUse, "mailbox in use (lease held in redis)"});
          // `done_` may destroy this object: take what it needs first.
          auto done = std::move(done_);
          done(std::unique_ptr<MailboxLock>(
              std::make_unique<LeasedLock>(loop_, client_, key_, token, lease_)));
        });
  }

  uv_loop_t* loop_;
  std::shared_ptr<redis::RedisClient> client_;
  std::string key_;
  std::chrono::milliseconds lease_;
  MailboxLockService::Done done_;
  std::string settingToken_;  // while SET is in flight
  Pending step_;
};

}  // namespace

RedisLockService::RedisLockService(uv_loop_t* loop, std::shared_ptr<redis::RedisClient> client,
                                   RedisLockSettings settings, std::string instanceId)
    : loop_(loop),
      client_(std::move(client)),
      settings_(std::move(settings)),
      instanceId_(std::move(instanceId)) {}

Pending RedisLockService::acquire(std::string key, Done done) {
  return std::make_unique<Acquisition>(loop_, client_, std::move(key), settings_, instanceId_,
                                       std::move(done));
}

std::string RedisLockService::randomInstanceId() {
  std::random_device random;
  char text[17];
  std::snprintf(text, sizeof text, "%08x%08x", random(), random());
  return text;
}

}  // namespace popgate::login
