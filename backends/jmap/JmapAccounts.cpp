#include "backends/jmap/JmapAccounts.h"

namespace popgate::jmap {

const JmapAccount* JmapAccounts::find(const std::string& user) const {
  auto it = entries_.find(user);
  return it == entries_.end() ? nullptr : &it->second;
}

void JmapAccounts::put(const std::string& user, JmapAccount account) {
  if (!entries_.count(user)) {
    while (entries_.size() >= kMaxEntries && !order_.empty()) {
      entries_.erase(order_.front());
      order_.pop_front();
    }
    order_.push_back(user);
  }
  entries_[user] = std::move(account);
}

void JmapAccounts::forget(const std::string& user) {
  if (entries_.erase(user)) order_.remove(user);
}

void JmapAccounts::sawSessionState(const std::string& user, const std::string& state) {
  const JmapAccount* account = find(user);
  if (account && !state.empty() && account->session.state != state) forget(user);
}

}  // namespace popgate::jmap
