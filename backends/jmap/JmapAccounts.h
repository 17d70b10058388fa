#pragma once
// Per worker: what a login learnt about a user's JMAP account (the session object and the ids
// of the mailboxes POP3 uses), so that the next poll needs one API call instead of three. An
// entry is dropped when a response reports another sessionState (RFC 8620 §2: the session
// changed) or when a call with it fails. Bounded: the oldest entry goes first.

#include <cstddef>
#include <list>
#include <map>
#include <string>

#include "backends/jmap/JmapProtocol.h"

namespace popgate::jmap {

struct JmapAccount {
  JmapSession session;
  MailboxIds mailboxes;  // empty mailboxId: not known yet
};

class JmapAccounts {
 public:
  static constexpr std::size_t kMaxEntries = 10000;

  const JmapAccount* find(const std::string& user) const;
  void put(const std::string& user, JmapAccount account);
  void forget(const std::string& user);
  // A response's sessionState: the cached session is stale when it differs.
  void sawSessionState(const std::string& user, const std::string& state);

 private:
  std::map<std::string, JmapAccount> entries_;
  std::list<std::string> order_;  // oldest first
};

}  // namespace popgate::jmap
