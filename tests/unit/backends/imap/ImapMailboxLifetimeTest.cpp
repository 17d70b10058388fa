// Destroying an ImapMailbox while an operation runs: no callback fires afterwards (the loop
// runs past every timeout to make sure), nothing is committed, and ASan sees no leak.

#include <gmock/gmock.h>

#include "backends/imap/ImapMailboxFixture.h"
#include "lib/net/DeferredDeleter.h"

namespace popgate::imap::test {
namespace {

class ImapMailboxLifetimeTest : public ImapMailboxTest {
 protected:
  void SetUp() override {
    messages_ = {{3, "Subject: three\r\n\r\nbody three\r\n"}};
    timeout_ = kShortTimeout;  // short enough to run past
  }

  // Destroys the mailbox, then runs the loop beyond its timeouts.
  void destroyAndRun() {
    mailbox_.reset();
    runner_.runFor(kShortTimeout + std::chrono::milliseconds(300));
    EXPECT_TRUE(server_.connections() == 0 || server_.clientGone());
  }

  void expectNoCallbacks() const {
    EXPECT_EQ(callbacks_, 0);
    EXPECT_FALSE(opened_);
    EXPECT_FALSE(committed_);
    EXPECT_FALSE(sink_.end);
  }
};

TEST_F(ImapMailboxLifetimeTest, DestroyedBeforeTheConnectionIsMade) {
  startOpen();
  destroyAndRun();
  expectNoCallbacks();
}

TEST_F(ImapMailboxLifetimeTest, DestroyedWhileWaitingForTheGreeting) {
  server_.setGreeting(std::nullopt);
  startOpen();
  ASSERT_TRUE(runner_.runUntil([&] { return server_.connections() == 1; }));
  runner_.runFor(std::chrono::milliseconds(10));
  destroyAndRun();
  expectNoCallbacks();
}

TEST_F(ImapMailboxLifetimeTest, DestroyedWhileLoggingIn) {
  override_ = [&](const Command& command) { return command.text.starts_with("AUTHENTICATE"); };
  startOpen();
  ASSERT_TRUE(runner_.runUntil([&] { return server_.sawCommand("AUTHENTICATE"); }));
  destroyAndRun();
  expectNoCallbacks();
}

TEST_F(ImapMailboxLifetimeTest, DestroyedMidLiteral) {
  ASSERT_NO_FATAL_FAILURE(openOk());
  callbacks_ = 0;
  opened_.reset();
  override_ = [this](const Command& command) {
    if (!command.text.starts_with("UID FETCH 3")) return false;
    server_.send("* 1 FETCH (UID 3 BODY[] {200}\r\nSubject: three\r\n");
    return true;
  };
  startRetrieve(3);
  ASSERT_TRUE(runner_.runUntil([&] { return !sink_.data.empty(); }));
  server_.send(std::string(200, 'x') + ")\r\np9 OK Fetch completed.\r\n");
  destroyAndRun();
  EXPECT_EQ(sink_.starts, 1);
  EXPECT_EQ(sink_.data, "Subject: three\r\n");
  EXPECT_FALSE(sink_.end);
}

TEST_F(ImapMailboxLifetimeTest, DestroyedWhilePaused) {
  ASSERT_NO_FATAL_FAILURE(openOk());
  override_ = [this](const Command& command) {
    if (!command.text.starts_with("UID FETCH 3")) return false;
    server_.send("* 1 FETCH (UID 3 BODY[] {200}\r\nSubject: three\r\n");
    return true;
  };
  sink_.afterData = [this](std::string_view) { mailbox_->pauseBody(); };
  startRetrieve(3);
  ASSERT_TRUE(runner_.runUntil([&] { return !sink_.data.empty(); }));
  destroyAndRun();
  EXPECT_FALSE(sink_.end);
}

TEST_F(ImapMailboxLifetimeTest, DestroyedDuringCommitSendsNothingMore) {
  ASSERT_NO_FATAL_FAILURE(openOk());
  callbacks_ = 0;
  opened_.reset();
  std::optional<Command> store;
  override_ = [&](const Command& command) {
    if (!command.text.starts_with("UID STORE")) return false;
    store = command;
    return true;
  };
  startCommit({3});
  ASSERT_TRUE(runner_.runUntil([&] { return store.has_value(); }));
  destroyAndRun();
  expectNoCallbacks();
  EXPECT_FALSE(server_.sawCommand("UID EXPUNGE"));
}

TEST_F(ImapMailboxLifetimeTest, DestroyedRightAfterStartingEachOperation) {
  ASSERT_NO_FATAL_FAILURE(openOk());
  callbacks_ = 0;
  opened_.reset();
  startRetrieve(3, 1);
  mailbox_.reset();
  makeMailbox();
  startOpen();
  mailbox_.reset();
  runner_.runFor(kShortTimeout + std::chrono::milliseconds(300));
  EXPECT_EQ(callbacks_, 0);
  EXPECT_EQ(sink_.starts, 0);
  EXPECT_FALSE(sink_.end);
}

// The session releases its mailbox from inside a callback through a deferred delete.
TEST_F(ImapMailboxLifetimeTest, ReleasedFromItsOwnCallbackThroughDeferredDelete) {
  net::DeferredDeleter deleter(runner_.loop());
  ASSERT_NO_FATAL_FAILURE(openOk());
  bool done = false;
  mailbox_->commit({}, [&](Status) {
    deleter.retire(std::move(mailbox_));
    done = true;
  });
  ASSERT_TRUE(runner_.runUntil([&] { return done && !mailbox_; }));
  runner_.runFor(std::chrono::milliseconds(50));
}

TEST_F(ImapMailboxLifetimeTest, ReleasedFromOnBodyEndThroughDeferredDelete) {
  net::DeferredDeleter deleter(runner_.loop());
  ASSERT_NO_FATAL_FAILURE(openOk());
  struct ReleasingSink final : backends::BodySink {
    std::function<void()> release;
    void onBodyStart() override {}
    void onBodyData(std::string_view) override {}
    void onBodyEnd(Status) override { release(); }
  } sink;
  bool ended = false;
  sink.release = [&] {
    deleter.retire(std::move(mailbox_));
    ended = true;
  };
  mailbox_->retrieve({"3", ImapMailbox::uidl(3, kUidValidity), 0}, std::nullopt, sink);
  ASSERT_TRUE(runner_.runUntil([&] { return ended; }));
  runner_.runFor(std::chrono::milliseconds(50));
}

}  // namespace
}  // namespace popgate::imap::test
