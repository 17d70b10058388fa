#pragma once
// A pop3::MailboxDirectory that hands out FakeMailboxes. Every login resolves (unless a test
// sets `failure`); the upstream user is "<login>@upstream" and the lock key "lock:<login>", so
// two sessions with the same login contend for one lock.

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "fakes/FakeMailbox.h"
#include "proxy/pop3/MailboxDirectory.h"

namespace popgate::fakes {

class FakeDirectory final : public pop3::MailboxDirectory {
 public:
  Result<Entry> resolve(std::string_view login) override {
    logins.emplace_back(login);
    if (failure) return *failure;
    return Entry{std::make_unique<FakeMailbox>(log), std::string(login) + "@upstream",
                 "lock:" + std::string(login)};
  }

  // The mailbox of the latest login; fails the test if it no longer exists.
  FakeMailbox& mailbox() {
    if (log.live == nullptr) {
      ADD_FAILURE() << "no live mailbox";
      throw std::logic_error("no live mailbox");
    }
    return *log.live;
  }
  FakeMailbox* live() const { return log.live; }

  std::optional<Error> failure;     // when set, resolve() fails with it
  std::vector<std::string> logins;  // every name resolve() was asked for
  MailboxLog log;
};

}  // namespace popgate::fakes
