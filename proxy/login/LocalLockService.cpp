#include "proxy/login/LocalLockService.h"

namespace popgate::login {

namespace {
class HeldLock final : public MailboxLock {
 public:
  explicit HeldLock(std::unique_ptr<InProcessLocks::Lock> lock) : lock_(std::move(lock)) {}

 private:
  std::unique_ptr<InProcessLocks::Lock> lock_;
};
}  // namespace

Pending LocalLockService::acquire(std::string key, Done done) {
  // The lock is tried when the task runs, not now: a cancelled request never held it.
  return executor_.post([this, key = std::move(key), done = std::move(done)] {
    auto lock = locks_.tryLock(key);
    if (!lock) return done(Error{ErrorCode::InUse, "mailbox in use"});
    done(std::unique_ptr<MailboxLock>(std::make_unique<HeldLock>(std::move(lock))));
  });
}

}  // namespace popgate::login
