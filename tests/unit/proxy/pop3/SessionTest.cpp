// Session: AUTHORIZATION state, state legality, bad commands, timeouts and the session's end.
// Transaction commands are in SessionTransactionTest.cpp, RETR/TOP and flow control in
// SessionRetrieveTest.cpp.

#include "proxy/pop3/SessionFixture.h"

namespace popgate::pop3 {
namespace {

using fakes::FakeMailbox;

constexpr std::string_view kCapa =
    "+OK Capability list follows\r\nTOP\r\nUSER\r\nSASL PLAIN "
    "LOGIN\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
    "PIPELINING\r\nIMPLEMENTATION popgate\r\n.\r\n";

TEST_F(SessionTest, CapaListsCapabilitiesInBothStates) {
  session_->onInput("CAPA\r\n");
  EXPECT_EQ(sink_.take(), kCapa);
  login();
  session_->onInput("capa\r\n");
  EXPECT_EQ(sink_.take(), kCapa);
}

TEST_F(SessionTest, CapaNamesTheConfiguredImplementation) {
  SessionSettings settings;
  settings.implementation = "popgate-test 1.2";
  restart(settings);
  session_->onInput("CAPA\r\n");
  EXPECT_NE(sink_.take().find("\r\nIMPLEMENTATION popgate-test 1.2\r\n.\r\n"), std::string::npos);
}

TEST_F(SessionTest, CapaTakesNoArgument) {
  converse(R"(
    C: CAPA SASL
    S: -ERR CAPA takes no argument.
  )");
}

TEST_F(SessionTest, UserAndPassOpenTheRoutedMailbox) {
  converse(R"(
    C: USER alice
    S: +OK
    C: PASS secret
  )");
  ASSERT_EQ(log().opens.size(), 1u);
  EXPECT_EQ(authenticator_.logins, std::vector<std::string>{"alice"});
  EXPECT_EQ(log().opens[0].user, "alice@upstream");
  EXPECT_EQ(fakes::passwordOf(log().opens[0]), "secret");
  EXPECT_EQ(session_->state(), State::Authorization);  // nothing before the store answers

  mailbox().completeOpen(threeMessages());
  EXPECT_EQ(sink_.take(), "+OK Logged in.\r\n");
  EXPECT_EQ(session_->state(), State::Transaction);
  EXPECT_EQ(locks_.size(), 1u);
}

TEST_F(SessionTest, PasswordIsTheWholeRestOfTheLine) {
  session_->onInput("USER alice\r\nPASS  pass with  spaces \r\n");
  ASSERT_EQ(log().opens.size(), 1u);
  EXPECT_EQ(fakes::passwordOf(log().opens[0]), " pass with  spaces ");
}

TEST_F(SessionTest, LatestUserWins) {
  converse(R"(
    C: USER first
    S: +OK
    C: USER second
    S: +OK
    C: PASS x
  )");
  EXPECT_EQ(authenticator_.logins, std::vector<std::string>{"second"});
}

TEST_F(SessionTest, UserNeedsAName) {
  converse(R"(
    C: USER
    S: -ERR USER needs a name.
    C: PASS secret
    S: -ERR Send USER first.
  )");
  EXPECT_EQ(log().created, 0);
}

TEST_F(SessionTest, PassNeedsUserFirst) {
  converse(R"(
    C: PASS secret
    S: -ERR Send USER first.
  )");
  EXPECT_TRUE(authenticator_.logins.empty());
}

TEST_F(SessionTest, RefusedCredentialsGiveAuthCodeAndAllowARetry) {
  converse("C: USER alice\nS: +OK\nC: PASS wrong");
  mailbox().completeOpen(Error{ErrorCode::Auth, "NO [AUTHENTICATIONFAILED]"});
  converse(R"(
    S: -ERR [AUTH] Authentication failed.
    C: PASS again
    S: -ERR Send USER first.
    C: USER alice
    S: +OK
    C: PASS right
  )");
  EXPECT_EQ(session_->state(), State::Authorization);
  EXPECT_EQ(log().destroyed, 1);  // the refused mailbox is gone, no callback pending
  EXPECT_EQ(log().cancelled, 0);
  mailbox().completeOpen(threeMessages());
  EXPECT_EQ(sink_.take(), "+OK Logged in.\r\n");
  EXPECT_EQ(session_->state(), State::Transaction);
}

TEST_F(SessionTest, TemporaryFailureGivesSysTemp) {
  converse("C: USER alice\nS: +OK\nC: PASS secret");
  mailbox().completeOpen(Error{ErrorCode::Temporary, "connect: timed out"});
  converse("S: -ERR [SYS/TEMP] Mail store unavailable, try again later.");
  EXPECT_EQ(session_->state(), State::Authorization);
  EXPECT_EQ(locks_.size(), 0u);
}

TEST_F(SessionTest, PermanentFailureGivesSysPerm) {
  converse("C: USER alice\nS: +OK\nC: PASS secret");
  mailbox().completeOpen(Error{ErrorCode::Permanent, "no such mailbox"});
  converse("S: -ERR [SYS/PERM] The mail store cannot serve this mailbox.");
}

TEST_F(SessionTest, UnroutableLoginGivesAuthWithoutABackend) {
  authenticator_.failure = Error{ErrorCode::Auth, "no route for this login"};
  converse(R"(
    C: USER nobody@nowhere
    S: +OK
    C: PASS secret
    S: -ERR [AUTH] Authentication failed.
    C: NOOP
    S: -ERR Log in first.
  )");
  EXPECT_EQ(log().created, 0);
}

TEST_F(SessionTest, SecondSessionOnTheSameMailboxGetsInUse) {
  login();
  fakes::FakeSink otherSink;
  otherSink.settle = [this] { settle(); };
  fakes::FakeAuthenticator otherAuthenticator(executor_);
  Session other(otherSink, otherAuthenticator, lockService_);
  other.onInput("USER alice\r\nPASS secret\r\n");
  settle();
  otherAuthenticator.mailbox().completeOpen(threeMessages());
  EXPECT_EQ(otherSink.take(),
            "+OK\r\n-ERR [IN-USE] Mailbox is locked by another POP3 session.\r\n");
  EXPECT_EQ(other.state(), State::Authorization);
  other.onInput("NOOP\r\n");  // the refused mailbox is freed outside its callback
  EXPECT_EQ(otherAuthenticator.log.destroyed, 1);
  EXPECT_TRUE(otherAuthenticator.log.commits.empty());

  session_.reset();  // the first session ends: its lock goes with it
  EXPECT_EQ(locks_.size(), 0u);
  other.onInput("USER alice\r\nPASS secret\r\n");
  settle();
  otherAuthenticator.mailbox().completeOpen(threeMessages());
  EXPECT_EQ(otherSink.take(), "-ERR Log in first.\r\n+OK\r\n+OK Logged in.\r\n");
}

TEST_F(SessionTest, LockNoneServesASecondSessionOnTheSameMailbox) {
  login();
  fakes::FakeSink otherSink;
  otherSink.settle = [this] { settle(); };
  fakes::FakeAuthenticator otherAuthenticator(executor_);
  otherAuthenticator.exclusive = false;  // the backend's `lock: none`
  Session other(otherSink, otherAuthenticator, lockService_);
  other.onInput("USER alice\r\nPASS secret\r\n");
  settle();
  otherAuthenticator.mailbox().completeOpen(threeMessages());
  EXPECT_EQ(otherSink.take(), "+OK\r\n+OK Logged in.\r\n");
  EXPECT_EQ(other.state(), State::Transaction);
  EXPECT_EQ(locks_.size(), 1u);  // only the first session's
}

TEST_F(SessionTest, TransactionCommandsNeedALogin) {
  converse(R"(
    C: STAT
    S: -ERR Log in first.
    C: LIST
    S: -ERR Log in first.
    C: LIST 1
    S: -ERR Log in first.
    C: UIDL
    S: -ERR Log in first.
    C: RETR 1
    S: -ERR Log in first.
    C: TOP 1 1
    S: -ERR Log in first.
    C: DELE 1
    S: -ERR Log in first.
    C: NOOP
    S: -ERR Log in first.
    C: RSET
    S: -ERR Log in first.
  )");
  EXPECT_EQ(log().created, 0);
  EXPECT_FALSE(sink_.closed());
}

TEST_F(SessionTest, AuthorizationCommandsAreRefusedInTransaction) {
  login();
  converse(R"(
    C: USER bob
    S: -ERR Command not valid in this state.
    C: PASS secret
    S: -ERR Command not valid in this state.
    C: STAT
    S: +OK 3 3320
  )");
  EXPECT_EQ(log().opens.size(), 1u);
}

TEST_F(SessionTest, UnknownAndMalformedCommands) {
  converse(R"(
    C: HELO
    S: -ERR Unknown command.
    C: STLS
    S: -ERR STLS is not available here.
    C: APOP alice 0123456789abcdef
    S: -ERR APOP is not available.
    C:
    S: -ERR Unknown command.
    C: 123
    S: -ERR Unknown command.
  )");
  login();
  converse(R"(
    C: XTND XMIT
    S: -ERR Unknown command.
    C: NOOP
    S: +OK
  )");
}

TEST_F(SessionTest, QuitInAuthorizationClosesWithoutTouchingTheStore) {
  converse(R"(
    C: USER alice
    S: +OK
    C: QUIT
    S: +OK Logging out.
    C: NOOP
  )");
  EXPECT_TRUE(sink_.closed());
  EXPECT_EQ(session_->state(), State::Closed);
  EXPECT_EQ(log().created, 0);
}

TEST_F(SessionTest, QuitTakesNoArgument) {
  converse(R"(
    C: QUIT now
    S: -ERR QUIT takes no argument.
  )");
  EXPECT_FALSE(sink_.closed());
}

TEST_F(SessionTest, OverlongLineGetsAnErrorAndTheSessionSurvives) {
  session_->onInput("NOOP " + std::string(300, 'x') + "\r\nCAPA\r\n");
  EXPECT_EQ(sink_.take(), "-ERR Command line too long.\r\n" + std::string(kCapa));
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
