#pragma once
// The accounts a poll or bulk run logs in as, handed out in turn: a session takes the user
// that has been free the longest, so no two sessions of one run share a mailbox (popgate,
// like most POP3 servers, allows one session per mailbox: RFC 1939 §8).

#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace loadgen {

struct Account {
  std::string name;
  std::string password;
};

class UserList {
 public:
  // One "name password" per line; blank lines and lines starting with '#' are skipped.
  static std::optional<UserList> load(const std::string& path, std::string& error);

  std::size_t size() const { return accounts_.size(); }
  const Account& operator[](int index) const { return accounts_[static_cast<std::size_t>(index)]; }

  std::optional<int> take();  // the longest-free account, if any is free
  void giveBack(int index);

 private:
  std::vector<Account> accounts_;
  std::deque<int> free_;
};

}  // namespace loadgen
