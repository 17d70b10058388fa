// Session: RETR and TOP (RFC 1939 §7), pipelining (RFC 2449 §6.6) and flow control in both
// directions. The mailbox holds u1 (120 octets), u2 (200) and u3 (3000).

#include "proxy/pop3/SessionFixture.h"

namespace popgate::pop3 {
namespace {

using fakes::FakeMailbox;

class SessionRetrieveTest : public SessionTest {
 protected:
  void SetUp() override { login(); }

  void expectRetrieval(std::size_t index, std::string_view id,
                       std::optional<std::uint32_t> bodyLines) {
    ASSERT_GT(log().retrievals.size(), index);
    EXPECT_EQ(log().retrievals[index].id, id);
    EXPECT_EQ(log().retrievals[index].bodyLines, bodyLines);
  }
};

TEST_F(SessionRetrieveTest, RetrStreamsTheMessageDotStuffed) {
  converse("C: RETR 1");  // nothing is sent before the store found the message
  expectRetrieval(0, "u1", std::nullopt);
  mailbox().startBody();
  EXPECT_EQ(sink_.take(), "+OK 120 octets\r\n");
  mailbox().deliverBody("Subject: dots\n\n.hidden\r\n");
  EXPECT_EQ(sink_.take(), "Subject: dots\r\n\r\n..hidden\r\n");
  mailbox().deliverBody(".");
  mailbox().deliverBody("\r");
  mailbox().deliverBody("\nlast line");
  EXPECT_EQ(sink_.take(), "..\r\nlast line");
  mailbox().endBody();
  EXPECT_EQ(sink_.take(), "\r\n.\r\n");
  converse("C: NOOP\nS: +OK");
}

TEST_F(SessionRetrieveTest, ChunkingDoesNotChangeTheResponse) {
  const std::string body = "A: b\r\n\r\n.x\n..\r\n\rz\n.";
  session_->onInput("RETR 2\r\n");
  mailbox().deliverMessage(body);
  std::string whole = sink_.take();
  session_->onInput("RETR 2\r\n");
  mailbox().startBody();
  for (char c : body) mailbox().deliverBody(std::string_view(&c, 1));
  mailbox().endBody();
  EXPECT_EQ(sink_.take(), whole);
  EXPECT_EQ(whole, "+OK 200 octets\r\nA: b\r\n\r\n..x\r\n...\r\n\rz\r\n..\r\n.\r\n");
}

TEST_F(SessionRetrieveTest, LargeChunkOfDotLinesIsStuffedWhole) {
  // One chunk far larger than the session's 64 KiB slices, made of the worst case for the
  // pieces it sends: a line that is just ".".
  std::string body, expected;
  for (int i = 0; i < 100'000; ++i) {
    body += ".\r\n";
    expected += "..\r\n";
  }
  session_->onInput("RETR 3\r\n");
  mailbox().startBody();
  mailbox().deliverBody(body);
  mailbox().endBody();
  EXPECT_EQ(sink_.take(), "+OK 3000 octets\r\n" + expected + ".\r\n");
}

TEST_F(SessionRetrieveTest, EmptyMessage) {
  restart({});
  login({fakes::message("e", "empty", 0)});
  session_->onInput("RETR 1\r\n");
  mailbox().deliverMessage("");
  EXPECT_EQ(sink_.take(), "+OK 0 octets\r\n.\r\n");
}

TEST_F(SessionRetrieveTest, TopPassesTheLineCountToTheStore) {
  converse("C: TOP 2 5");
  expectRetrieval(0, "u2", 5u);
  mailbox().startBody();
  EXPECT_EQ(sink_.take(), "+OK\r\n");
  mailbox().deliverBody("H: v\r\n\r\n.1\r\n");
  mailbox().endBody();
  EXPECT_EQ(sink_.take(), "H: v\r\n\r\n..1\r\n.\r\n");

  converse("C: top 3 0");
  expectRetrieval(1, "u3", 0u);
  mailbox().deliverMessage("H: v\r\n\r\n");
  EXPECT_EQ(sink_.take(), "+OK\r\nH: v\r\n\r\n.\r\n");
}

TEST_F(SessionRetrieveTest, TopBadArguments) {
  converse(R"(
    C: TOP
    S: -ERR TOP needs a message number and a line count.
    C: TOP 1
    S: -ERR TOP needs a message number and a line count.
    C: TOP 1 2 3
    S: -ERR TOP needs a message number and a line count.
    C: TOP 1  2
    S: -ERR TOP needs a message number and a line count.
    C: TOP 1 -1
    S: -ERR Invalid line count.
    C: TOP 1 x
    S: -ERR Invalid line count.
    C: TOP 1 1234567890
    S: -ERR Invalid line count.
    C: TOP x 1
    S: -ERR Invalid message number.
    C: TOP -1 1
    S: -ERR Invalid message number.
    C: TOP 0 1
    S: -ERR There's no message 0.
    C: TOP 4 1
    S: -ERR There's no message 4.
  )");
  EXPECT_TRUE(log().retrievals.empty());
  EXPECT_FALSE(sink_.closed());
}

TEST_F(SessionRetrieveTest, MessageGoneUpstream) {
  converse("C: RETR 3");
  mailbox().endBody();  // ends without onBodyStart: the message is gone
  converse("S: -ERR Message no longer exists upstream.\nC: RETR 3");
  mailbox().endBody(Error{ErrorCode::Gone, "UID 3 expunged"});
  converse("S: -ERR Message no longer exists upstream.\nC: TOP 3 1");
  mailbox().endBody(Error{ErrorCode::Temporary, "timeout"});
  converse(R"(
    S: -ERR [SYS/TEMP] Cannot read the message from the mail store.
    C: STAT
    S: +OK 3 3320
  )");
}

TEST_F(SessionRetrieveTest, UpstreamFailureMidBodyClosesWithoutTheFinalDot) {
  converse("C: DELE 2\nS: +OK Marked to be deleted.\nC: RETR 1");
  mailbox().startBody();
  mailbox().deliverBody("partial\r\nli");
  mailbox().endBody(Error{ErrorCode::Temporary, "connection reset"});
  EXPECT_EQ(sink_.take(), "+OK 120 octets\r\npartial\r\nli");
  EXPECT_TRUE(sink_.closed());
  EXPECT_EQ(session_->state(), State::Closed);
  session_->onInput("QUIT\r\n");
  session_.reset();
  EXPECT_TRUE(log().commits.empty());
}

TEST_F(SessionRetrieveTest, CongestedClientPausesTheBodyAndDrainResumesIt) {
  session_->onInput("RETR 3\r\n");
  mailbox().startBody();
  mailbox().deliverBody("one\r\n");
  EXPECT_EQ(log().pauses, 0);
  sink_.setCongested(true);
  mailbox().deliverBody("two\r\n");
  EXPECT_TRUE(mailbox().paused());
  mailbox().deliverBody("three\r\n");  // already in flight: sent, no second pause
  EXPECT_EQ(log().pauses, 1);

  sink_.setCongested(false);
  session_->onDrained();
  EXPECT_FALSE(mailbox().paused());
  EXPECT_EQ(log().resumes, 1);
  mailbox().deliverBody("four");
  mailbox().endBody();
  EXPECT_EQ(sink_.take(), "+OK 3000 octets\r\none\r\ntwo\r\nthree\r\nfour\r\n.\r\n");
}

TEST_F(SessionRetrieveTest, BodyMayEndWhilePaused) {
  session_->onInput("RETR 1\r\nNOOP\r\n");
  mailbox().startBody();
  sink_.setCongested(true);
  mailbox().deliverBody("x\r\n");
  mailbox().endBody();
  EXPECT_EQ(sink_.take(), "+OK 120 octets\r\nx\r\n.\r\n");  // NOOP waits for the drain
  sink_.setCongested(false);
  session_->onDrained();
  EXPECT_EQ(sink_.take(), "+OK\r\n");
  EXPECT_EQ(log().resumes, 0);
}

TEST_F(SessionRetrieveTest, DrainWithoutPauseIsHarmless) {
  session_->onDrained();
  session_->onInput("RETR 1\r\n");
  mailbox().startBody();
  session_->onDrained();
  EXPECT_EQ(log().resumes, 0);
  mailbox().endBody();
  EXPECT_EQ(sink_.take(), "+OK 120 octets\r\n.\r\n");
}

TEST_F(SessionRetrieveTest, CongestionHoldsPipelinedCommands) {
  sink_.setCongested(true);
  session_->onInput("STAT\r\nNOOP\r\n");
  EXPECT_EQ(sink_.take(), "");
  sink_.setCongested(false);
  session_->onDrained();
  EXPECT_EQ(sink_.take(), "+OK 3 3320\r\n+OK\r\n");
}

TEST_F(SessionRetrieveTest, PipelinedRetrievalsRunOneAtATime) {
  session_->onInput("RETR 1\r\nTOP 2 3\r\nDELE 1\r\nRETR 3\r\nQUIT\r\n");
  EXPECT_EQ(log().retrievals.size(), 1u);
  mailbox().deliverMessage("one\r\n");
  EXPECT_EQ(sink_.take(), "+OK 120 octets\r\none\r\n.\r\n");
  expectRetrieval(1, "u2", 3u);  // started as soon as the first ended
  mailbox().deliverMessage("two\r\n");
  EXPECT_EQ(sink_.take(), "+OK\r\ntwo\r\n.\r\n+OK Marked to be deleted.\r\n");
  expectRetrieval(2, "u3", std::nullopt);
  mailbox().deliverMessage("three\r\n");
  EXPECT_EQ(sink_.take(), "+OK 3000 octets\r\nthree\r\n.\r\n");
  ASSERT_EQ(log().commits.size(), 1u);
  EXPECT_EQ(log().commits[0], std::vector<std::string>{"u1"});
  mailbox().completeCommit();
  EXPECT_EQ(sink_.take(), "+OK Logging out.\r\n");
}

TEST_F(SessionRetrieveTest, IdleTimeoutDuringRetrievalEndsItAndCommitsNothing) {
  converse("C: DELE 2\nS: +OK Marked to be deleted.\nC: RETR 1");
  mailbox().startBody();
  mailbox().deliverBody("par");
  session_->onIdleTimeout();
  // Mid-reply an -ERR would read as message text: the session closes without the final ".".
  EXPECT_EQ(sink_.take(), "+OK 120 octets\r\npar");
  EXPECT_TRUE(sink_.closed());
  EXPECT_EQ(log().cancelled, 1);
  if (FakeMailbox* still =
          authenticator_.live()) {  // were it still running: late data goes nowhere
    still->deliverBody("tial\r\n");
    still->endBody();
  }
  EXPECT_EQ(sink_.take(), "");
  session_.reset();
  EXPECT_TRUE(log().commits.empty());
}

TEST_F(SessionRetrieveTest, DroppedSessionCancelsTheRetrieval) {
  session_->onInput("RETR 2\r\n");
  mailbox().startBody();
  mailbox().deliverBody("half");
  session_.reset();
  EXPECT_EQ(log().cancelled, 1);
  EXPECT_TRUE(log().commits.empty());
}

// Pipelining through the login: commands wait for the store, then run in order.
class SessionPipelineTest : public SessionTest {};

TEST_F(SessionPipelineTest, CommandsWaitForTheLogin) {
  session_->onInput("USER alice\r\nPASS secret\r\nSTAT\r\nUIDL 1\r\nDELE 2\r\nQUIT\r\n");
  EXPECT_EQ(sink_.take(), "+OK\r\n");
  mailbox().completeOpen(threeMessages());
  EXPECT_EQ(sink_.take(),
            "+OK Logged in.\r\n+OK 3 3320\r\n+OK 1 uidl-1\r\n+OK Marked to be deleted.\r\n");
  EXPECT_EQ(log().commits, std::vector<std::vector<std::string>>{{"u2"}});
  mailbox().completeCommit();
  EXPECT_EQ(sink_.take(), "+OK Logging out.\r\n");
}

TEST_F(SessionPipelineTest, CommandsAfterARefusedLoginRunInAuthorization) {
  session_->onInput("USER alice\r\nPASS wrong\r\nSTAT\r\nUSER alice\r\nPASS right\r\nSTAT\r\n");
  mailbox().completeOpen(Error{ErrorCode::Auth, "NO"});
  EXPECT_EQ(sink_.take(),
            "+OK\r\n-ERR [AUTH] Authentication failed.\r\n-ERR Log in first.\r\n+OK\r\n");
  ASSERT_EQ(log().opens.size(), 2u);
  EXPECT_EQ(fakes::passwordOf(log().opens[1]), "right");
  mailbox().completeOpen(threeMessages());
  EXPECT_EQ(sink_.take(), "+OK Logged in.\r\n+OK 3 3320\r\n");
}

TEST_F(SessionPipelineTest, RepliesComeInOrderAcrossManyInputs) {
  session_->onInput("USER alice\r\nPA");
  session_->onInput("SS secret\r\nLIST\r");
  session_->onInput("\nNOOP\r\n");
  mailbox().completeOpen(threeMessages());
  EXPECT_EQ(sink_.take(),
            "+OK\r\n+OK Logged in.\r\n+OK 3 messages:\r\n1 120\r\n2 200\r\n3 3000\r\n.\r\n+OK\r\n");
}

}  // namespace
}  // namespace popgate::pop3
