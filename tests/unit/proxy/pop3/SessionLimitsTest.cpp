// Session: what bounds a session. Overlong and endless lines, the bad-command limit, idle
// timeouts in every state, dropped connections (nothing committed, a login cancelled) and
// reading paused while pipelined input piles up.

#include "proxy/pop3/SessionFixture.h"

namespace popgate::pop3 {
namespace {

using fakes::FakeMailbox;

TEST_F(SessionTest, OverlongLineGetsAnErrorAndTheSessionSurvives) {
  session_->onInput("NOOP " + std::string(300, 'x') + "\r\nCAPA\r\n");
  EXPECT_EQ(sink_.take(), "-ERR Command line too long.\r\n" + std::string(kDefaultCapa));
  EXPECT_FALSE(sink_.closed());
}

TEST_F(SessionTest, EndlessLineGetsOneErrorAndResynchronises) {
  login();
  for (int i = 0; i < 1000; ++i) session_->onInput(std::string(100, 'x'));
  EXPECT_EQ(sink_.take(), "-ERR Command line too long.\r\n");
  session_->onInput("yyy\r\nNOOP\r\n");
  EXPECT_EQ(sink_.take(), "+OK\r\n");
  EXPECT_FALSE(sink_.inputPaused());
}

TEST_F(SessionTest, TwentyBadCommandsCloseTheConnection) {
  login();
  std::string expected;
  for (int i = 0; i < 19; ++i) {
    session_->onInput(i % 2 ? "BOGUS\r\n" : "RETR x\r\n");
    expected += i % 2 ? "-ERR Unknown command.\r\n" : "-ERR Invalid message number.\r\n";
  }
  EXPECT_EQ(sink_.take(), expected);
  EXPECT_FALSE(sink_.closed());
  session_->onInput("USER again\r\nNOOP\r\n");
  EXPECT_EQ(sink_.take(),
            "-ERR Command not valid in this state.\r\n-ERR Too many bad commands, closing.\r\n");
  EXPECT_TRUE(sink_.closed());
  EXPECT_EQ(session_->state(), State::Closed);
  EXPECT_TRUE(log().commits.empty());
}

TEST_F(SessionTest, BadCommandLimitCountsEveryKindOfBadCommand) {
  SessionSettings settings;
  settings.maxBadCommands = 4;
  restart(settings);
  session_->onInput("STAT\r\n\r\n" + std::string(256, 'A') + "\r\nUSER\r\nNOOP\r\n");
  EXPECT_EQ(sink_.take(),
            "-ERR Log in first.\r\n-ERR Unknown command.\r\n-ERR Command line too long.\r\n"
            "-ERR USER needs a name.\r\n-ERR Too many bad commands, closing.\r\n");
  EXPECT_TRUE(sink_.closed());
}

TEST_F(SessionTest, GoodCommandsDoNotResetTheBadCommandCount) {
  SessionSettings settings;
  settings.maxBadCommands = 2;
  restart(settings);
  converse(R"(
    C: BOGUS
    S: -ERR Unknown command.
    C: CAPA
    S: +OK Capability list follows
    S: TOP
    S: USER
    S: SASL PLAIN LOGIN
    S: UIDL
    S: RESP-CODES
    S: AUTH-RESP-CODE
    S: PIPELINING
    S: IMPLEMENTATION popgate
    S: .
    C: BOGUS
    S: -ERR Unknown command.
    S: -ERR Too many bad commands, closing.
  )");
}

TEST_F(SessionTest, IdleTimeoutInAuthorizationCloses) {
  session_->onInput("USER alice\r\n");
  sink_.take();
  session_->onIdleTimeout();
  EXPECT_EQ(sink_.take(), "-ERR Disconnected for inactivity.\r\n");
  EXPECT_TRUE(sink_.closed());
  EXPECT_EQ(session_->state(), State::Closed);
  session_->onIdleTimeout();
  session_->onInput("NOOP\r\n");
  session_->onDrained();
  EXPECT_EQ(sink_.take(), "");
}

TEST_F(SessionTest, IdleTimeoutInTransactionCommitsNothing) {
  login();
  converse("C: DELE 1\nS: +OK Marked to be deleted.");
  session_->onIdleTimeout();
  EXPECT_EQ(sink_.take(), "-ERR Disconnected for inactivity.\r\n");
  EXPECT_TRUE(sink_.closed());
  session_.reset();
  EXPECT_TRUE(log().commits.empty());
  EXPECT_EQ(log().destroyed, 1);
  EXPECT_EQ(locks_.size(), 0u);
}

TEST_F(SessionTest, IdleTimeoutWhileLoggingInCancelsTheLogin) {
  session_->onInput("USER alice\r\nPASS secret\r\n");
  sink_.take();
  session_->onIdleTimeout();
  EXPECT_EQ(sink_.take(), "-ERR Disconnected for inactivity.\r\n");
  EXPECT_EQ(log().cancelled, 1);
  // Were the login still running, its end must not bring the closed session back.
  if (FakeMailbox* still = authenticator_.live()) still->completeOpen(threeMessages());
  EXPECT_EQ(session_->state(), State::Closed);
  EXPECT_EQ(sink_.take(), "");
  EXPECT_EQ(locks_.size(), 0u);
}

TEST_F(SessionTest, IdleTimeoutWhileLoggingInNeverRunsThePipelinedQuit) {
  session_->onInput("USER alice\r\nPASS secret\r\nDELE 1\r\nQUIT\r\n");
  session_->onIdleTimeout();
  if (FakeMailbox* still = authenticator_.live()) still->completeOpen(threeMessages());
  session_.reset();
  EXPECT_TRUE(log().commits.empty());
  EXPECT_EQ(sink_.transcript(),
            "+OK POP3 gateway ready.\r\n+OK\r\n-ERR Disconnected for inactivity.\r\n");
}

TEST_F(SessionTest, IdleTimeoutDuringUpdateLetsTheCommitFinish) {
  login();
  converse("C: DELE 2\nS: +OK Marked to be deleted.\nC: QUIT");
  session_->onIdleTimeout();
  EXPECT_EQ(sink_.take(), "");
  EXPECT_FALSE(sink_.closed());
  mailbox().completeCommit();
  EXPECT_EQ(sink_.take(), "+OK Logging out.\r\n");
  EXPECT_TRUE(sink_.closed());
}

TEST_F(SessionTest, DroppedSessionCommitsNothing) {
  login();
  converse(R"(
    C: DELE 1
    S: +OK Marked to be deleted.
    C: DELE 3
    S: +OK Marked to be deleted.
  )");
  session_.reset();
  EXPECT_TRUE(log().commits.empty());
  EXPECT_EQ(log().destroyed, 1);
  EXPECT_EQ(locks_.size(), 0u);
}

TEST_F(SessionTest, DroppedSessionCancelsALoginInProgress) {
  session_->onInput("USER alice\r\nPASS secret\r\n");
  ASSERT_EQ(mailbox().pending(), FakeMailbox::Operation::Open);
  session_.reset();
  EXPECT_EQ(log().cancelled, 1);
  EXPECT_EQ(authenticator_.live(), nullptr);
}

TEST_F(SessionTest, PausesReadingWhenPipelinedInputPilesUp) {
  SessionSettings settings;
  settings.maxPendingInput = 100;
  restart(settings);
  session_->onInput("USER alice\r\nPASS secret\r\n");  // the open keeps the session busy
  for (int i = 0; i < 20; ++i) session_->onInput("NOOP\r\n");
  EXPECT_TRUE(sink_.inputPaused());
  EXPECT_EQ(sink_.inputPauses(), 1);
  mailbox().completeOpen(threeMessages());
  EXPECT_FALSE(sink_.inputPaused());
  std::string expected = "+OK\r\n+OK Logged in.\r\n";
  for (int i = 0; i < 20; ++i) expected += "+OK\r\n";
  EXPECT_EQ(sink_.take(), expected);
}

}  // namespace
}  // namespace popgate::pop3
