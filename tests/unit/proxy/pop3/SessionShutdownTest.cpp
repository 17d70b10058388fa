// Session::shutdown, the session's part of the graceful drain (docs/design.md, "Drain"). At the
// drain's start (`now` false) only sessions that wait on nothing close; at its timeout (`now`
// true) everything closes without UPDATE except a commit already sent upstream. The mailbox
// holds u1 (120 octets), u2 (200) and u3 (3000).

#include "proxy/pop3/SessionFixture.h"

namespace popgate::pop3 {
namespace {

using fakes::FakeMailbox;
using Ids = std::vector<std::string>;

constexpr std::string_view kGoodbye = "-ERR [SYS/TEMP] Server shutting down, try again later.\r\n";
constexpr std::string_view kClosedNow = "-ERR [SYS/TEMP] Server shutting down.\r\n";

class SessionShutdownTest : public SessionTest {
 protected:
  // Nothing comes out of a closed session, whatever the client or the drain do next.
  void expectSilentAfterClose() {
    session_->shutdown(false);
    session_->shutdown(true);
    session_->onInput("NOOP\r\n");
    session_->onDrained();
    EXPECT_EQ(sink_.take(), "");
  }
};

TEST_F(SessionShutdownTest, DrainClosesAnIdleAuthorization) {
  session_->shutdown(false);
  EXPECT_EQ(sink_.take(), kGoodbye);
  EXPECT_TRUE(sink_.closed());
  EXPECT_EQ(session_->state(), State::Closed);
  expectSilentAfterClose();
  EXPECT_TRUE(authenticator_.logins.empty());
}

TEST_F(SessionShutdownTest, DrainClosesAfterUser) {
  converse("C: USER alice\nS: +OK");
  session_->shutdown(false);
  EXPECT_EQ(sink_.take(), kGoodbye);
  EXPECT_TRUE(sink_.closed());
  expectSilentAfterClose();
}

TEST_F(SessionShutdownTest, DrainClosesAnAuthExchangeWaitingForTheClient) {
  // RFC 5034: the client has not sent its credentials yet, so no login is under way.
  converse("C: AUTH LOGIN\nS: + VXNlcm5hbWU6");
  session_->shutdown(false);
  EXPECT_EQ(sink_.take(), kGoodbye);
  EXPECT_TRUE(sink_.closed());
  session_->onInput("cHc=\r\n");  // the password would have come next
  EXPECT_TRUE(authenticator_.logins.empty());
}

TEST_F(SessionShutdownTest, LoginUnderWayFinishesAndTheClientMayStillFetchAndQuit) {
  session_->onInput("USER alice\r\nPASS secret\r\n");
  EXPECT_EQ(sink_.take(), "+OK\r\n");
  session_->shutdown(false);
  EXPECT_EQ(sink_.take(), "");
  EXPECT_FALSE(sink_.closed());
  mailbox().completeOpen(threeMessages());
  converse(R"(
    S: +OK Logged in.
    C: DELE 2
    S: +OK Marked to be deleted.
    C: RETR 1
  )");
  mailbox().deliverMessage("Subject: x\r\n\r\nhi\r\n");
  converse(R"(
    S: +OK 120 octets
    S: Subject: x
    S:
    S: hi
    S: .
    C: QUIT
  )");
  ASSERT_EQ(log().commits.size(), 1u);
  EXPECT_EQ(log().commits[0], Ids{"u2"});
  mailbox().completeCommit();
  EXPECT_EQ(sink_.take(), "+OK Logging out.\r\n");
  EXPECT_TRUE(sink_.closed());
}

TEST_F(SessionShutdownTest, LoginThatFailsDuringTheDrainIsClosedByTheNextShutdown) {
  session_->onInput("USER alice\r\nPASS wrong\r\n");
  sink_.take();
  session_->shutdown(false);
  mailbox().completeOpen(Error{ErrorCode::Auth, "NO"});
  EXPECT_EQ(sink_.take(), "-ERR [AUTH] Authentication failed.\r\n");
  EXPECT_EQ(session_->state(), State::Authorization);
  // The connection calls shutdown(false) again before it hands the client's next bytes over.
  session_->shutdown(false);
  EXPECT_EQ(sink_.take(), kGoodbye);
  EXPECT_TRUE(sink_.closed());
}

TEST_F(SessionShutdownTest, TimeoutCancelsALoginUnderWay) {
  session_->onInput("USER alice\r\nPASS secret\r\nDELE 1\r\nQUIT\r\n");
  EXPECT_EQ(sink_.take(), "+OK\r\n");
  session_->shutdown(false);
  session_->shutdown(true);
  EXPECT_EQ(sink_.take(), kClosedNow);
  EXPECT_TRUE(sink_.closed());
  EXPECT_EQ(log().cancelled, 1);
  // Were the login still running, its end must neither revive the session nor run the QUIT.
  if (FakeMailbox* still = authenticator_.live()) still->completeOpen(threeMessages());
  expectSilentAfterClose();
  session_.reset();
  EXPECT_TRUE(log().commits.empty());
  EXPECT_EQ(locks_.size(), 0u);
}

TEST_F(SessionShutdownTest, TimeoutCancelsAnAuthenticationThatHasNotAnswered) {
  authenticator_.answer = fakes::FakeAuthenticator::Answer::Held;
  session_->onInput("USER alice\r\nPASS secret\r\n");
  EXPECT_EQ(sink_.take(), "+OK\r\n");
  session_->shutdown(false);  // a login under way may still succeed
  EXPECT_FALSE(sink_.closed());
  session_->shutdown(true);
  EXPECT_EQ(sink_.take(), kClosedNow);
  EXPECT_EQ(authenticator_.cancelled, 1);
  authenticator_.answerHeld();  // an answer that comes anyway opens nothing
  EXPECT_EQ(authenticator_.log.created, 0);
  expectSilentAfterClose();
}

TEST_F(SessionShutdownTest, TransactionGoesOnDuringTheDrain) {
  login();
  converse("C: DELE 1\nS: +OK Marked to be deleted.");
  session_->shutdown(false);
  EXPECT_FALSE(sink_.closed());
  converse("C: STAT\nS: +OK 2 3200\nC: QUIT");
  ASSERT_EQ(log().commits.size(), 1u);
  EXPECT_EQ(log().commits[0], Ids{"u1"});
  mailbox().completeCommit();
  EXPECT_EQ(sink_.take(), "+OK Logging out.\r\n");
}

TEST_F(SessionShutdownTest, TimeoutInTransactionDeletesNothing) {
  login();
  converse("C: DELE 1\nS: +OK Marked to be deleted.\nC: DELE 2\nS: +OK Marked to be deleted.");
  session_->shutdown(false);
  session_->shutdown(true);
  EXPECT_EQ(sink_.take(), kClosedNow);
  EXPECT_TRUE(sink_.closed());
  EXPECT_EQ(session_->state(), State::Closed);
  EXPECT_EQ(locks_.size(), 0u);  // a client that reconnects elsewhere finds its mailbox free
  expectSilentAfterClose();
  session_.reset();
  EXPECT_TRUE(log().commits.empty());
  EXPECT_EQ(log().destroyed, 1);
}

TEST_F(SessionShutdownTest, RetrievalGoesOnDuringTheDrain) {
  login();
  session_->onInput("RETR 3\r\n");
  mailbox().startBody();
  mailbox().deliverBody("first\r\n");
  session_->shutdown(false);
  mailbox().deliverBody("second\r\n");
  mailbox().endBody();
  EXPECT_EQ(sink_.take(), "+OK 3000 octets\r\nfirst\r\nsecond\r\n.\r\n");
  EXPECT_FALSE(sink_.closed());
}

TEST_F(SessionShutdownTest, TimeoutMidBodyClosesWithoutTheFinalDot) {
  login();
  converse("C: DELE 1\nS: +OK Marked to be deleted.");
  session_->onInput("RETR 3\r\n");
  mailbox().startBody();
  sink_.setCongested(true);  // a slow reader: the body is paused
  mailbox().deliverBody("par");
  ASSERT_TRUE(mailbox().paused());
  session_->shutdown(true);
  // An -ERR here would read as message text; a close without "." tells the client it is cut.
  EXPECT_EQ(sink_.take(), "+OK 3000 octets\r\npar");
  EXPECT_TRUE(sink_.closed());
  EXPECT_EQ(log().cancelled, 1);
  sink_.setCongested(false);
  expectSilentAfterClose();  // a late drain of the client's queue resumes nothing
  session_.reset();
  EXPECT_TRUE(log().commits.empty());
}

TEST_F(SessionShutdownTest, TimeoutBeforeTheBodyStartedAnswersTheRetr) {
  login();
  session_->onInput("RETR 2\r\n");
  session_->shutdown(true);
  EXPECT_EQ(sink_.take(), kClosedNow);
  EXPECT_TRUE(sink_.closed());
  EXPECT_EQ(log().cancelled, 1);
}

TEST_F(SessionShutdownTest, CommitSentUpstreamIsAwaitedAndDecidesTheReply) {
  login();
  converse("C: DELE 3\nS: +OK Marked to be deleted.\nC: QUIT");
  ASSERT_EQ(session_->state(), State::Update);
  session_->shutdown(false);
  session_->shutdown(true);
  EXPECT_EQ(sink_.take(), "");
  EXPECT_FALSE(sink_.closed());
  EXPECT_EQ(log().cancelled, 0);
  mailbox().completeCommit();
  EXPECT_EQ(sink_.take(), "+OK Logging out.\r\n");
  EXPECT_TRUE(sink_.closed());
  ASSERT_EQ(log().commits.size(), 1u);
  EXPECT_EQ(log().commits[0], Ids{"u3"});
}

TEST_F(SessionShutdownTest, FailedCommitDuringTheTimeoutIsReportedAsUsual) {
  login();
  converse("C: DELE 3\nS: +OK Marked to be deleted.\nC: QUIT");
  session_->shutdown(true);
  mailbox().completeCommit(Error{ErrorCode::Temporary, "EXPUNGE: connection lost"});
  EXPECT_EQ(sink_.take(), "-ERR [SYS/TEMP] Some deleted messages were not removed.\r\n");
  EXPECT_TRUE(sink_.closed());
  EXPECT_EQ(locks_.size(), 0u);
}

TEST_F(SessionShutdownTest, ClosedSessionIgnoresTheDrain) {
  converse("C: QUIT\nS: +OK Logging out.");
  ASSERT_TRUE(sink_.closed());
  expectSilentAfterClose();  // FakeSink fails the test on a send or a second close
}

}  // namespace
}  // namespace popgate::pop3
