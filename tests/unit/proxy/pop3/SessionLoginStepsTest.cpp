// Session: each asynchronous login step (authentication, then the mailbox lock) answering late,
// never, or after the session closed. Whatever the timing, a closed session hears nothing more,
// holds no lock and keeps no mailbox.

#include "proxy/pop3/SessionFixture.h"

namespace popgate::pop3 {
namespace {

class SessionLoginStepsTest : public SessionTest {
 protected:
  SessionLoginStepsTest() { autoSettle_ = false; }
};

TEST_F(SessionLoginStepsTest, LateAuthenticationHoldsPipelinedCommands) {
  authenticator_.answer = fakes::FakeAuthenticator::Answer::Held;
  session_->onInput("USER alice\r\nPASS secret\r\nSTAT\r\nNOOP\r\n");
  EXPECT_EQ(sink_.take(), "+OK\r\n");
  EXPECT_EQ(settle(), 0);
  authenticator_.answerHeld();
  authenticator_.mailbox().completeOpen(threeMessages());
  EXPECT_EQ(sink_.take(), "") << "+OK before the lock was taken";
  EXPECT_EQ(settle(), 1);
  EXPECT_EQ(sink_.take(), "+OK Logged in.\r\n+OK 3 3320\r\n+OK\r\n");
  EXPECT_EQ(locks_.size(), 1u);
}

TEST_F(SessionLoginStepsTest, AuthenticationThatNeverAnswersIsCancelledWhenTheClientGoes) {
  authenticator_.answer = fakes::FakeAuthenticator::Answer::Held;
  session_->onInput("USER alice\r\nPASS secret\r\n");
  session_.reset();
  EXPECT_EQ(authenticator_.cancelled, 1);
  authenticator_.answerHeld();  // an answer that comes anyway goes nowhere
  EXPECT_EQ(authenticator_.log.created, 0);
}

TEST_F(SessionLoginStepsTest, AuthenticationAnsweringAfterAutologoutIsIgnored) {
  session_->onInput("USER alice\r\nPASS secret\r\nQUIT\r\n");
  session_->onIdleTimeout();
  EXPECT_EQ(executor_.cancelled, 1);
  EXPECT_EQ(settle(), 0);
  EXPECT_EQ(sink_.take(), "+OK\r\n-ERR Disconnected for inactivity.\r\n");
  EXPECT_EQ(authenticator_.log.created, 0);
}

TEST_F(SessionLoginStepsTest, TemporaryAuthenticationFailureIsSysTemp) {
  authenticator_.failure = Error{ErrorCode::Temporary, "lookup service down"};
  session_->onInput("USER alice\r\nPASS secret\r\n");
  settle();
  EXPECT_EQ(sink_.take(), "+OK\r\n-ERR [SYS/TEMP] Cannot route this login.\r\n");
  EXPECT_EQ(session_->state(), State::Authorization);
}

TEST_F(SessionLoginStepsTest, LockThatNeverAnswersIsCancelledWhenTheClientGoes) {
  session_->onInput("USER alice\r\nPASS secret\r\n");
  settle();
  authenticator_.mailbox().completeOpen(threeMessages());
  EXPECT_EQ(executor_.queued(), 1u);  // the lock request
  session_.reset();
  EXPECT_EQ(executor_.cancelled, 1);
  EXPECT_EQ(settle(), 0);
  EXPECT_EQ(locks_.size(), 0u);
  EXPECT_EQ(authenticator_.log.live, nullptr);
  EXPECT_TRUE(authenticator_.log.commits.empty());
}

TEST_F(SessionLoginStepsTest, LockAnsweringAfterAutologoutIsIgnored) {
  session_->onInput("USER alice\r\nPASS secret\r\n");
  settle();
  authenticator_.mailbox().completeOpen(threeMessages());
  session_->onIdleTimeout();
  EXPECT_EQ(settle(), 0);
  EXPECT_EQ(sink_.take(), "+OK\r\n-ERR Disconnected for inactivity.\r\n");
  EXPECT_EQ(locks_.size(), 0u);
  EXPECT_EQ(session_->state(), State::Closed);
}

TEST_F(SessionLoginStepsTest, LockRefusedFreesTheOpenedMailbox) {
  auto held = locks_.tryLock("lock:alice");  // another session of this mailbox, elsewhere
  session_->onInput("USER alice\r\nPASS secret\r\n");
  settle();
  authenticator_.mailbox().completeOpen(threeMessages());
  settle();
  EXPECT_EQ(sink_.take(), "+OK\r\n-ERR [IN-USE] Mailbox is locked by another POP3 session.\r\n");
  session_->onInput("NOOP\r\n");  // the refused mailbox is freed outside its callbacks
  EXPECT_EQ(authenticator_.log.destroyed, 1);
  EXPECT_EQ(sink_.take(), "-ERR Log in first.\r\n");
}

}  // namespace
}  // namespace popgate::pop3
