#pragma once
// Shared fixture for the Session tests: a Session wired to a FakeSink, a FakeDirectory of
// FakeMailboxes and real MailboxLocks, plus C:/S: transcripts.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/auth/MailboxLocks.h"
#include "fakes/FakeDirectory.h"
#include "fakes/FakeMailbox.h"
#include "fakes/FakeSink.h"
#include "proxy/pop3/Session.h"

namespace popgate::pop3 {

class SessionTest : public ::testing::Test {
 protected:
  using State = Session::State;

  SessionTest() { restart({}); }

  // A fresh session (with `settings`); the greeting is checked and consumed.
  void restart(SessionSettings settings) {
    session_.reset();
    session_ = std::make_unique<Session>(sink_, directory_, locks_, std::move(settings));
    session_->start();
    EXPECT_EQ(sink_.take(), "+OK POP3 gateway ready.\r\n");
  }

  static std::vector<backends::MessageRef> threeMessages() {
    return {fakes::message("u1", "uidl-1", 120), fakes::message("u2", "uidl-2", 200),
            fakes::message("u3", "uidl-3", 3000)};
  }

  // USER alice / PASS secret, the open succeeds with `messages`; output consumed.
  void login(std::vector<backends::MessageRef> messages = threeMessages()) {
    session_->onInput("USER alice\r\nPASS secret\r\n");
    mailbox().completeOpen(std::move(messages));
    ASSERT_EQ(sink_.take(), "+OK\r\n+OK Logged in.\r\n");
    ASSERT_EQ(session_->state(), State::Transaction);
  }

  // Plays a transcript. "C: line" sends line + CRLF as its own onInput(); "S: line" (or a bare
  // "S:") is a reply line the session must have sent, CRLF added, before the next "C:" line or
  // the end of the script. Leading blanks and empty lines are ignored, so that scripts can be
  // indented raw strings.
  void converse(std::string_view script) {
    std::string expected;
    std::string context = "at the start";
    auto check = [&] {
      EXPECT_EQ(sink_.take(), expected) << "session output " << context;
      expected.clear();
    };
    while (!script.empty()) {
      std::size_t eol = script.find('\n');
      std::string_view line = script.substr(0, eol);
      script.remove_prefix(eol == std::string_view::npos ? script.size() : eol + 1);
      line.remove_prefix(std::min(line.find_first_not_of(" \t"), line.size()));
      if (line.empty()) continue;
      if (line.substr(0, 2) == "C:") {
        check();
        std::string input(line.substr(line.size() > 2 ? 3 : 2));
        context = "after C: " + input;
        session_->onInput(input + "\r\n");
      } else if (line.substr(0, 2) == "S:") {
        expected.append(line.substr(line.size() > 2 ? 3 : 2)).append("\r\n");
      } else {
        ADD_FAILURE() << "bad transcript line: " << line;
      }
    }
    check();
  }

  fakes::FakeMailbox& mailbox() { return directory_.mailbox(); }
  fakes::MailboxLog& log() { return directory_.log; }

  fakes::FakeSink sink_;
  fakes::FakeDirectory directory_;
  auth::MailboxLocks locks_;
  std::unique_ptr<Session> session_;
};

}  // namespace popgate::pop3
