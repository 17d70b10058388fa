#pragma once
// Shared fixture for the Session tests: a Session wired to a FakeSink, a FakeAuthenticator that
// grants FakeMailboxes, and the real LocalLockService over real InProcessLocks, both answering
// through a ManualExecutor (the loop), plus C:/S: transcripts. Reading the sink, mailbox() and
// log() first runs what the loop has queued (autoSettle_); a test that wants a login step to
// answer late or never turns that off and calls settle() itself.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fakes/FakeAuthenticator.h"
#include "fakes/FakeMailbox.h"
#include "fakes/FakeSink.h"
#include "fakes/ManualExecutor.h"
#include "proxy/login/InProcessLocks.h"
#include "proxy/login/LocalLockService.h"
#include "proxy/pop3/Session.h"

namespace popgate::pop3 {

// CAPA's answer with the default settings: USER and SASL PLAIN LOGIN offered.
inline constexpr std::string_view kDefaultCapa =
    "+OK Capability list follows\r\nTOP\r\nUSER\r\nSASL PLAIN "
    "LOGIN\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
    "PIPELINING\r\nIMPLEMENTATION popgate\r\n.\r\n";

class SessionTest : public ::testing::Test {
 protected:
  using State = Session::State;

  SessionTest() {
    sink_.settle = [this] {
      if (autoSettle_) settle();
    };
    restart({});
  }

  // A fresh session (with `settings`); the greeting is checked and consumed.
  void restart(SessionSettings settings) {
    EXPECT_EQ(restartWithGreeting(std::move(settings)), "+OK POP3 gateway ready.\r\n");
  }
  // A fresh session; returns its greeting.
  std::string restartWithGreeting(SessionSettings settings) {
    session_.reset();
    session_ = std::make_unique<Session>(sink_, authenticator_, lockService_, std::move(settings));
    session_->start();
    return sink_.take();
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

  // Runs what the loop has queued (login answers, lock answers); returns how many ran.
  int settle() { return executor_.runAll(); }

  fakes::FakeMailbox& mailbox() {
    if (autoSettle_) settle();
    return authenticator_.mailbox();
  }
  fakes::MailboxLog& log() {
    if (autoSettle_) settle();
    return authenticator_.log;
  }

  bool autoSettle_ = true;
  fakes::ManualExecutor executor_;
  fakes::FakeSink sink_;
  fakes::FakeAuthenticator authenticator_{executor_};
  login::InProcessLocks locks_;
  login::LocalLockService lockService_{locks_, executor_};
  std::unique_ptr<Session> session_;
};

}  // namespace popgate::pop3
