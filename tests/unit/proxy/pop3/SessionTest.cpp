// Session: AUTHORIZATION state, state legality and unknown commands. Bad-command limits, long
// lines, idle timeouts and dropped sessions are in SessionLimitsTest.cpp, transaction commands
// in SessionTransactionTest.cpp, RETR/TOP and flow control in SessionRetrieveTest.cpp.

#include "proxy/pop3/SessionFixture.h"

namespace popgate::pop3 {
namespace {

TEST_F(SessionTest, CapaListsCapabilitiesInBothStates) {
  session_->onInput("CAPA\r\n");
  EXPECT_EQ(sink_.take(), kDefaultCapa);
  login();
  session_->onInput("capa\r\n");
  EXPECT_EQ(sink_.take(), kDefaultCapa);
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

}  // namespace
}  // namespace popgate::pop3
