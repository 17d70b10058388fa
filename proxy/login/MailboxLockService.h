#pragma once
// One POP3 session per upstream mailbox (RFC 1939 §8, RFC 2449 [IN-USE]), as an asynchronous
// service: in this process today (LocalLockService), shared between replicas later (Redis).
// Same contract as every login step: `done` never fires from inside acquire(); destroying the
// returned handle cancels, and a lock won after that is given back, never leaked.

#include <functional>
#include <memory>
#include <string>

#include "lib/common/Pending.h"
#include "lib/common/Result.h"

namespace popgate::login {

// Held while it exists.
class MailboxLock {
 public:
  virtual ~MailboxLock() = default;
};

class MailboxLockService {
 public:
  // Error{InUse} when another session holds the mailbox; Error{Temporary} when the service
  // cannot tell.
  using Done = std::function<void(Result<std::unique_ptr<MailboxLock>>)>;
  virtual ~MailboxLockService() = default;
  [[nodiscard]] virtual Pending acquire(std::string key, Done done) = 0;
};

}  // namespace popgate::login
