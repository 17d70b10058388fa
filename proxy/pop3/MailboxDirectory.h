#pragma once
// Finds the mailbox behind a POP3 login name: routing and backend construction live behind this,
// so the session never knows which kind of store it opens.

#include <memory>
#include <string>
#include <string_view>

#include "lib/common/Result.h"
#include "backends/mailbox/Mailbox.h"

namespace popgate::pop3 {

class MailboxDirectory {
 public:
  struct Entry {
    std::unique_ptr<backends::Mailbox> mailbox;
    std::string upstreamUser;
    std::string lockKey;  // identifies the upstream mailbox, for the one-session lock
  };
  virtual ~MailboxDirectory() = default;
  virtual Result<Entry> resolve(std::string_view login) = 0;
};

}  // namespace popgate::pop3
