#pragma once
// One POP3 session per mailbox (RFC 1939 §8 asks servers to lock the maildrop; RFC 2449 [IN-USE]).
// Shared by every worker thread of the process, hence the mutex; it is taken once per login.

#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>

namespace popgate::auth {

class MailboxLocks {
 public:
  class Lock {
   public:
    Lock(MailboxLocks& owner, std::string key) : owner_(owner), key_(std::move(key)) {}
    ~Lock() { owner_.release(key_); }
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

   private:
    MailboxLocks& owner_;
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

}  // namespace popgate::auth
