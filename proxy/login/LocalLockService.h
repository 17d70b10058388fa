#pragma once
// MailboxLockService over the process's InProcessLocks, answering on the caller's loop.

#include "lib/common/Executor.h"
#include "proxy/login/InProcessLocks.h"
#include "proxy/login/MailboxLockService.h"

namespace popgate::login {

class LocalLockService final : public MailboxLockService {
 public:
  LocalLockService(InProcessLocks& locks, Executor& executor)
      : locks_(locks), executor_(executor) {}
  [[nodiscard]] Pending acquire(std::string key, Done done) override;

 private:
  InProcessLocks& locks_;
  Executor& executor_;
};

}  // namespace popgate::login
