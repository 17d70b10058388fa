// One POP3 session per mailbox (RFC 1939 §8, RFC 2449 [IN-USE]).

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "proxy/auth/MailboxLocks.h"

namespace popgate::auth {
namespace {

TEST(MailboxLocksTest, SecondLockOnTheSameKeyFails) {
  MailboxLocks locks;
  auto first = locks.tryLock("imap/alice");
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(locks.tryLock("imap/alice"), nullptr);
  EXPECT_EQ(locks.size(), 1u);
}

TEST(MailboxLocksTest, DifferentKeysAreIndependent) {
  MailboxLocks locks;
  auto alice = locks.tryLock("imap/alice");
  auto bob = locks.tryLock("imap/bob");
  EXPECT_NE(alice, nullptr);
  EXPECT_NE(bob, nullptr);
  EXPECT_EQ(locks.size(), 2u);
}

TEST(MailboxLocksTest, KeysAreCaseSensitive) {
  // Case folding, if any, belongs to whoever builds the key.
  MailboxLocks locks;
  auto lower = locks.tryLock("alice");
  EXPECT_NE(locks.tryLock("Alice"), nullptr);
}

TEST(MailboxLocksTest, DestroyingTheLockReleasesIt) {
  MailboxLocks locks;
  auto lock = locks.tryLock("imap/alice");
  ASSERT_NE(lock, nullptr);
  lock.reset();
  EXPECT_EQ(locks.size(), 0u);
  EXPECT_NE(locks.tryLock("imap/alice"), nullptr);
}

TEST(MailboxLocksTest, FailedAttemptDoesNotReleaseTheHolder) {
  MailboxLocks locks;
  auto holder = locks.tryLock("k");
  EXPECT_EQ(locks.tryLock("k"), nullptr);
  EXPECT_EQ(locks.tryLock("k"), nullptr);
  EXPECT_EQ(locks.size(), 1u);
}

TEST(MailboxLocksTest, EmptyKeyIsAKeyLikeAnyOther) {
  MailboxLocks locks;
  auto lock = locks.tryLock("");
  EXPECT_NE(lock, nullptr);
  EXPECT_EQ(locks.tryLock(""), nullptr);
}

TEST(MailboxLocksTest, ExactlyOneThreadWinsEachRound) {
  MailboxLocks locks;
  constexpr int kThreads = 8;
  constexpr int kRounds = 200;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::unique_ptr<MailboxLocks::Lock>> won(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back(
          [&locks, &won, t] { won[static_cast<std::size_t>(t)] = locks.tryLock("shared"); });
    }
    for (auto& thread : threads) thread.join();
    int winners = 0;
    for (auto& lock : won) winners += lock != nullptr;
    ASSERT_EQ(winners, 1) << "round " << round;
  }
  EXPECT_EQ(locks.size(), 0u);
}

}  // namespace
}  // namespace popgate::auth
