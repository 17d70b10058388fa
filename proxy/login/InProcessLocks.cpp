#include "proxy/login/InProcessLocks.h"

namespace popgate::login {

std::unique_ptr<InProcessLocks::Lock> InProcessLocks::tryLock(const std::string& key) {
  std::lock_guard guard(mutex_);
  if (!held_.insert(key).second) return nullptr;
  return std::make_unique<Lock>(*this, key);
}

void InProcessLocks::release(const std::string& key) {
  std::lock_guard guard(mutex_);
  held_.erase(key);
}

std::size_t InProcessLocks::size() const {
  std::lock_guard guard(mutex_);
  return held_.size();
}

}  // namespace popgate::login
