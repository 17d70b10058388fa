#pragma once
// One POP3 session per mailbox (RFC 1939 §8 asks servers to lock the maildrop; RFC 2449 [IN-USE]),
// within this process. Shared by every worker thread, hence the mutex; it is taken once per
// login. Sessions reach it through LocalLockService, the asynchronous MailboxLockService.

#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>

namespace popgate::login {

class InProcessLocks {
 public:
  class Lock {
   public:
    Lock(InProcessLocks& owner, std::string key) : owner_(owner), key_(std::move(key)) {}
    ~Lock() { owner_.release(key_); }
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

   private:
    InProcessLocks& owner_;
    std::string key_;
  };

  // Null when another session holds the mailbox.
  std::unique_ptr<Lock> tryLock(const std::string& key);
  std::size_t size() const;

 private:
  void release(const std::string& key);

  mutable std::mutex mutex_;
  std::unordered_set<std::string> held_;
};

}  // namespace popgate::login
