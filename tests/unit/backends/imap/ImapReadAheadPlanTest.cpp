// ImapReadAhead's plan alone: when read-ahead starts, how far it goes, what it may hold.

#include <gmock/gmock.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "backends/imap/ImapMailboxFixture.h"
#include "backends/imap/ImapReadAhead.h"

namespace popgate::imap::test {
namespace {

using ::testing::IsEmpty;

// A snapshot as ImapMailbox makes it: numbered by UID.
backends::MessageList numbered(const std::vector<std::pair<std::uint32_t, std::uint64_t>>& uids) {
  backends::MessageList list(
      [](std::string& out, std::uint32_t uid) { out += ImapMailbox::uidl(uid, kUidValidity); });
  for (const auto& [uid, size] : uids) list.append(uid, size);
  return list;
}

TEST(ImapReadAheadPlanTest, NothingAheadUntilTwoConsecutiveRetrs) {
  ImapReadAhead readAhead(1000);
  readAhead.setSnapshot(numbered({{1, 100}, {2, 100}, {5, 100}, {9, 100}}));
  EXPECT_THAT(readAhead.plan(2), IsEmpty());
  EXPECT_EQ(readAhead.take(5), nullptr);
  auto planned = readAhead.plan(5);
  ASSERT_EQ(planned.size(), 1u);
  EXPECT_EQ(planned[0]->uid, 9u);
  EXPECT_THAT(readAhead.plan(9), IsEmpty());  // the end of the mailbox
}

TEST(ImapReadAheadPlanTest, LargeMessageEndsTheReadAheadAndCountIsBounded) {
  ImapReadAhead readAhead(1000);
  std::vector<std::pair<std::uint32_t, std::uint64_t>> messages;
  for (std::uint32_t uid = 1; uid <= 20; ++uid) messages.emplace_back(uid, uid == 4 ? 5000 : 10);
  readAhead.setSnapshot(numbered(messages));
  readAhead.plan(1);
  EXPECT_EQ(readAhead.plan(2).size(), 1u);  // 3 only: 4 is larger than the budget
  EXPECT_NE(readAhead.take(3), nullptr);
  EXPECT_THAT(readAhead.plan(3), IsEmpty());  // 4 comes next, and does not fit
  EXPECT_EQ(readAhead.take(4), nullptr);
  EXPECT_EQ(readAhead.plan(4).size(), ImapReadAhead::kMaxMessagesAhead);  // 5 to 12
  EXPECT_NE(readAhead.take(5), nullptr);
  auto more = readAhead.plan(5);
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(more[0]->uid, 13u);
}

TEST(ImapReadAheadPlanTest, HoldRefusesMoreThanTheSnapshotSize) {
  BodyFetch fetch(7, 10);
  EXPECT_TRUE(fetch.hold("12345"));
  EXPECT_TRUE(fetch.hold("67890"));
  EXPECT_FALSE(fetch.hold("x"));
  EXPECT_TRUE(fetch.dropped);
  EXPECT_TRUE(fetch.held.empty());
}

}  // namespace
}  // namespace popgate::imap::test
