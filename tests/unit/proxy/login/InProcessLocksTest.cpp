// One POP3 session per mailbox (RFC 1939 §8, RFC 2449 [IN-USE]).

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "proxy/login/InProcessLocks.h"

namespace popgate::login {
namespace {

TEST(InProcessLocksTest, SecondLockOnTheSameKeyFails) {
  InProcessLocks locks;
  auto first = locks.tryLock("imap/alice");
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(locks.tryLock("imap/alice"), nullptr);
  EXPECT_EQ(locks.size(), 1u);
}

TEST(InProcessLocksTest, DifferentKeysAreIndependent) {
  InProcessLocks locks;
  auto alice = locks.tryLock("imap/alice");
  auto bob = locks.tryLock("imap/bob");
  EXPECT_NE(alice, nullptr);
  EXPECT_NE(bob, nullptr);
  EXPECT_EQ(locks.size(), 2u);
}

TEST(InProcessLocksTest, KeysAreCaseSensitive) {
  // Case folding, if any, belongs to whoever builds the key.
  InProcessLocks locks;
  auto lower = locks.tryLock("alice");
  EXPECT_NE(locks.tryLock("Alice"), nullptr);
}

TEST(InProcessLocksTest, DestroyingTheLockReleasesIt) {
  InProcessLocks locks;
  auto lock = locks.tryLock("imap/alice");
  ASSERT_NE(lock, nullptr);
  lock.reset();
  EXPECT_EQ(locks.size(), 0u);
  EXPECT_NE(locks.tryLock("imap/alice"), nullptr);
}

TEST(InProcessLocksTest, FailedAttemptDoesNotReleaseTheHolder) {
  InProcessLocks locks;
  auto holder = locks.tryLock("k");
  EXPECT_EQ(locks.tryLock("k"), nullptr);
  EXPECT_EQ(locks.tryLock("k"), nullptr);
  EXPECT_EQ(locks.size(), 1u);
}

TEST(InProcessLocksTest, EmptyKeyIsAKeyLikeAnyOther) {
  InProcessLocks locks;
  auto lock = locks.tryLock("");
  EXPECT_NE(lock, nullptr);
  EXPECT_EQ(locks.tryLock(""), nullptr);
}

TEST(InProcessLocksTest, ExactlyOneThreadWinsEachRound) {
  InProcessLocks locks;
  constexpr int kThreads = 8;
  constexpr int kRounds = 200;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::unique_ptr<InProcessLocks::Lock>> won(kThreads);
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
}  // namespace popgate::login
