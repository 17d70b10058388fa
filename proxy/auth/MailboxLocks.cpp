#include "proxy/auth/MailboxLocks.h"

namespace popgate::auth {

std::unique_ptr<MailboxLocks::Lock> MailboxLocks::tryLock(const std::string& key) {
  std::lock_guard guard(mutex_);
  if (!held_.insert(key).second) return nullptr;
  return std::make_unique<Lock>(*this, key);
}

void MailboxLocks::release(const std::string& key) {
  std::lock_guard guard(mutex_);
  held_.erase(key);
}

std::size_t MailboxLocks::size() const {
  std::lock_guard guard(mutex_);
  return held_.size();
}

}  // namespace popgate::auth
