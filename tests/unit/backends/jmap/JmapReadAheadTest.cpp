// Read-ahead over JMAP: the plan (pure), and JmapMailbox downloading the next messages on other
// connections while a reader reads in order: byte-exact, each message downloaded once, TOP and
// jumps unaffected, a fault ahead of the reader never seen by it, cancellation at the end.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "backends/jmap/JmapMailboxFixture.h"
#include "backends/jmap/JmapReadAhead.h"

namespace popgate::jmap {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::size_t> plan(const std::vector<std::uint64_t>& sizes, std::size_t index,
                              Ahead ahead, ReadAheadLimits limits) {
  return planReadAhead(
      sizes.size(), [&](std::size_t i) { return sizes[i]; }, index, ahead, limits);
}

TEST(JmapReadAheadPlanTest, NextMessagesWithinTheCountAndTheBytes) {
  std::vector<std::uint64_t> sizes = {100, 100, 100, 100, 100, 100};
  EXPECT_THAT(plan(sizes, 1, {2, 0, 0}, {3, 1000}), ElementsAre(2, 3, 4));
  EXPECT_THAT(plan(sizes, 1, {2, 0, 0}, {9, 250}), ElementsAre(2, 3));
  EXPECT_THAT(plan(sizes, 4, {5, 0, 0}, {9, 1000}), ElementsAre(5));  // the end of the mailbox
  EXPECT_THAT(plan(sizes, 5, {6, 0, 0}, {9, 1000}), IsEmpty());
}

TEST(JmapReadAheadPlanTest, AfterWhatIsAheadAndCountingIt) {
  std::vector<std::uint64_t> sizes = {100, 100, 100, 100, 100, 100};
  // 3 and 4 are ahead already: one more fits the count of 3.
  EXPECT_THAT(plan(sizes, 2, {5, 2, 200}, {3, 1000}), ElementsAre(5));
  EXPECT_THAT(plan(sizes, 2, {5, 2, 200}, {3, 250}), IsEmpty());
}

TEST(JmapReadAheadPlanTest, ALargeMessageEndsThePlanAndZeroTurnsItOff) {
  std::vector<std::uint64_t> sizes = {100, 100, 5000, 100};
  EXPECT_THAT(plan(sizes, 0, {1, 0, 0}, {4, 1000}), ElementsAre(1));  // 2 does not fit, nor after
  EXPECT_THAT(plan(sizes, 0, {1, 0, 0}, {0, 1000}), IsEmpty());
  EXPECT_THAT(plan(sizes, 0, {1, 0, 0}, {4, 0}), IsEmpty());
}

TEST(JmapReadAheadPlanTest, DownloadsInFlightInTheWorkerCapWhatStarts) {
  std::vector<std::uint64_t> sizes = {100, 100, 100, 100, 100, 100};
  // Three downloads in flight (other sessions' and this one's current one), at most five.
  EXPECT_THAT(plan(sizes, 1, {2, 0, 0, 3}, {9, 1000, 5}), ElementsAre(2, 3));
  EXPECT_THAT(plan(sizes, 1, {2, 0, 0, 5}, {9, 1000, 5}), IsEmpty());  // busy enough: none
  EXPECT_THAT(plan(sizes, 1, {2, 0, 0, 0}, {9, 1000, 0}), IsEmpty());  // zero turns it off
}

class JmapReadAheadTest : public JmapMailboxTest {
 protected:
  JmapReadAheadTest() { settings_.readAhead = {2, 1024 * 1024}; }

  // RETR 1 and RETR 2, whole: the read-ahead starts.
  void retrieveFirstTwo(JmapMailbox& box, const std::vector<MessageRef>& snapshot) {
    for (std::size_t i = 0; i < 2; ++i) {
      Sink sink;
      retrieve(box, snapshot[i], std::nullopt, sink);
      ASSERT_TRUE(sink.end->ok());
      ASSERT_EQ(sink.data, server_.emails[i].blob);
    }
  }

  int downloadsOf(const std::string& blob) const {
    int count = 0;
    for (const auto& request : http_.requests()) {
      count += request.target.find("/" + blob + "/") != std::string::npos ? 1 : 0;
    }
    return count;
  }
};

TEST_F(JmapReadAheadTest, RetrsInOrderAreByteExactAndEachDownloadedOnce) {
  auto box = mailbox();
  auto snapshot = open(*box).value();
  for (std::size_t i = 0; i < snapshot.size(); ++i) {
    Sink sink;
    retrieve(*box, snapshot[i], std::nullopt, sink);
    ASSERT_TRUE(sink.end->ok()) << i;
    EXPECT_EQ(sink.starts, 1);
    EXPECT_EQ(sink.data, server_.emails[i].blob) << i;
    if (i == 1) {
      // The second RETR in order starts the next two downloads.
      ASSERT_TRUE(runner_.runUntil([&] { return server_.downloads == 4; }));
    }
  }
  EXPECT_EQ(server_.downloads, 5);
  for (int n = 1; n <= 5; ++n) EXPECT_EQ(downloadsOf("BE" + std::to_string(n)), 1) << n;
}

TEST_F(JmapReadAheadTest, NothingAheadWhenTurnedOff) {
  settings_.readAhead.messages = 0;
  auto box = mailbox();
  auto snapshot = open(*box).value();
  for (std::size_t i = 0; i < 3; ++i) {
    Sink sink;
    retrieve(*box, snapshot[i], std::nullopt, sink);
    EXPECT_EQ(sink.data, server_.emails[i].blob);
  }
  runner_.runFor(std::chrono::milliseconds(50));
  EXPECT_EQ(server_.downloads, 3);
}

TEST_F(JmapReadAheadTest, TopAfterReadAheadGetsItsOwnPrefixAndRetrStillWhole) {
  auto box = mailbox();
  auto snapshot = open(*box).value();
  retrieveFirstTwo(*box, snapshot);
  ASSERT_TRUE(runner_.runUntil([&] { return server_.downloads == 4; }));
  Sink top;
  retrieve(*box, snapshot[2], 1, top);
  ASSERT_TRUE(top.end->ok());
  EXPECT_EQ(top.data, "Subject: 3\r\n\r\nline one\r\n");
  Sink whole;
  retrieve(*box, snapshot[2], std::nullopt, whole);
  ASSERT_TRUE(whole.end->ok());
  EXPECT_EQ(whole.data, server_.emails[2].blob);
  EXPECT_TRUE(server_.emails[2].blob.starts_with(top.data));
}

TEST_F(JmapReadAheadTest, AJumpDropsWhatIsAheadAndStaysExact) {
  auto box = mailbox();
  auto snapshot = open(*box).value();
  for (std::size_t i : {0u, 1u, 4u, 2u}) {
    Sink sink;
    retrieve(*box, snapshot[i], std::nullopt, sink);
    ASSERT_TRUE(sink.end->ok()) << i;
    EXPECT_EQ(sink.data, server_.emails[i].blob) << i;
  }
}

TEST_F(JmapReadAheadTest, AFaultAheadOfTheReaderIsNotSeenByIt) {
  auto box = mailbox();
  auto snapshot = open(*box).value();
  bool cut = false;
  server_.intercept = [&](const test::FakeJmapServer::Request& r) {
    if (cut || r.target.find("/BE3/") == std::string::npos) return false;
    cut = true;  // the first download of message 3, ahead of the reader, breaks midway
    http_.send(r.connection, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nSubject: 3\r\n");
    http_.close(r.connection);
    return true;
  };
  retrieveFirstTwo(*box, snapshot);
  ASSERT_TRUE(runner_.runUntil([&] { return cut; }));
  runner_.runFor(std::chrono::milliseconds(20));
  Sink sink;
  retrieve(*box, snapshot[2], std::nullopt, sink);
  ASSERT_TRUE(sink.end->ok()) << sink.end->error().detail;
  EXPECT_EQ(sink.starts, 1);
  EXPECT_EQ(sink.data, server_.emails[2].blob);
  EXPECT_EQ(downloadsOf("BE3"), 2);  // asked afresh
}

TEST_F(JmapReadAheadTest, MoreBytesAheadThanAnnouncedAreNotKept) {
  auto box = mailbox();
  auto snapshot = open(*box).value();
  std::string longer = server_.emails[2].blob + "X-Added: by the store\r\n";
  int served = 0;
  server_.intercept = [&](const test::FakeJmapServer::Request& r) {
    if (r.target.find("/BE3/") == std::string::npos) return false;
    ++served;
    http_.send(r.connection, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(longer.size()) +
                                 "\r\n\r\n" + longer);
    return true;
  };
  retrieveFirstTwo(*box, snapshot);
  ASSERT_TRUE(runner_.runUntil([&] { return served == 1; }));
  runner_.runFor(std::chrono::milliseconds(20));  // the answer reaches the download ahead
  Sink sink;
  retrieve(*box, snapshot[2], std::nullopt, sink);
  ASSERT_TRUE(sink.end->ok());
  EXPECT_EQ(sink.data, longer);  // as without read-ahead: the store's answer, whole
  EXPECT_EQ(served, 2);
}

TEST_F(JmapReadAheadTest, TheWorkersDownloadsInFlightLeaveRoomForFewerAhead) {
  settings_.readAhead.inFlight = 3;
  auto busy = mailbox();  // another session, its RETR of message 5 under way (no answer yet)
  auto busySnapshot = open(*busy).value();
  bool asked = false;
  server_.intercept = [&](const test::FakeJmapServer::Request& r) {
    if (r.target.find("/BE5/") == std::string::npos) return false;
    asked = true;  // and never answered
    return true;
  };
  Sink waiting;
  busy->retrieve(busySnapshot[4], std::nullopt, waiting);
  ASSERT_TRUE(runner_.runUntil([&] { return asked; }));
  auto box = mailbox();
  auto snapshot = open(*box).value();
  retrieveFirstTwo(*box, snapshot);  // RETR 2 in flight too: room for one download ahead
  runner_.runFor(std::chrono::milliseconds(30));
  EXPECT_EQ(downloadsOf("BE3"), 1);
  EXPECT_EQ(downloadsOf("BE4"), 0);
  EXPECT_EQ(context().downloadsInFlight, 2u);  // message 5's and message 3's ahead
  busy.reset();
  box.reset();
  EXPECT_EQ(context().downloadsInFlight, 0u);
}

TEST_F(JmapReadAheadTest, ADownloadAheadWaitsForASlowReaderWithoutTimingOut) {
  // Paused at its head, a download ahead has no deadline running: the reader may take longer
  // than command_timeout_s over the message before.
  settings_.commandTimeout = 1s;
  auto box = mailbox();
  auto snapshot = open(*box).value();
  retrieveFirstTwo(*box, snapshot);
  ASSERT_TRUE(runner_.runUntil([&] { return server_.downloads == 4; }));
  runner_.runFor(std::chrono::milliseconds(1500));
  // Both still hold their connections: answered, their bodies not read before their RETRs.
  EXPECT_EQ(context().client.idleConnections(), 1u);
  for (std::size_t i = 2; i < 4; ++i) {
    Sink sink;
    retrieve(*box, snapshot[i], std::nullopt, sink);
    ASSERT_TRUE(sink.end->ok()) << sink.end->error().detail;
    EXPECT_EQ(sink.data, server_.emails[i].blob);
  }
  EXPECT_EQ(downloadsOf("BE3"), 1);
  EXPECT_EQ(downloadsOf("BE4"), 1);
  EXPECT_EQ(context().client.idleConnections(), 2u);  // message 5's download ahead holds one
}

TEST_F(JmapReadAheadTest, CommitAndDestroyMidReadAheadCancelCleanly) {
  auto box = mailbox();
  auto snapshot = open(*box).value();
  retrieveFirstTwo(*box, snapshot);
  EXPECT_TRUE(commit(*box, {snapshot[0]}).ok());
  EXPECT_EQ(server_.destroyed, (std::vector<std::string>{"E1"}));
  auto other = mailbox();
  auto again = open(*other).value();
  retrieveFirstTwo(*other, again);
  other.reset();  // the client went away with downloads ahead under way
  runner_.runFor(std::chrono::milliseconds(50));
}

}  // namespace
}  // namespace popgate::jmap
