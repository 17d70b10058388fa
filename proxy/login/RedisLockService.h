#pragma once
// MailboxLockService shared by every replica through Redis: one session per mailbox across
// processes and hosts (RFC 1939 §8, RFC 2449 [IN-USE]). A lock is a lease:
//   token = INCR <prefix>fence ":" <this process's random id>  (a fencing token, never reused)
//   SET <prefix>lock:<mailbox> token NX PX lease       -> OK: held; nil: Error{InUse}
// renewed every lease/3 while held with a compare-and-PEXPIRE script (only our own token), and
// released with compare-and-DEL when the session ends. A replica that dies (kill -9, a host
// lost) stops renewing: its leases expire after `lease` and the mailbox is free again.
// Redis unreachable or slow at login: Error{Temporary}, never a guess. A renewal that fails
// while a session runs is logged and the session goes on: deletions are by UID, so a second
// session that got in after the lease lapsed cannot make this one delete the wrong message.

#include <chrono>
#include <memory>
#include <string>

#include "lib/redis/RedisClient.h"
#include "proxy/login/MailboxLockService.h"

namespace popgate::login {

struct RedisLockSettings {
  std::string keyPrefix = "popgate:";
  std::chrono::milliseconds lease{60000};
};

class RedisLockService final : public MailboxLockService {
 public:
  // `instanceId`: random per process (randomInstanceId()), in every token this process writes.
  RedisLockService(uv_loop_t* loop, std::shared_ptr<redis::RedisClient> client,
                   RedisLockSettings settings, std::string instanceId);
  [[nodiscard]] Pending acquire(std::string key, Done done) override;

  static std::string randomInstanceId();

 private:
  uv_loop_t* loop_;
  std::shared_ptr<redis::RedisClient> client_;
  RedisLockSettings settings_;
  std::string instanceId_;
};

}  // namespace popgate::login
