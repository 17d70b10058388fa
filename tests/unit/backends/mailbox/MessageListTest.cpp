// MessageList: both shapes give back exactly what went in, sizes of 4 GiB and more included.

#include <gtest/gtest.h>

#include "backends/mailbox/MessageList.h"

namespace popgate::backends {
namespace {

TEST(MessageListTest, StringsKeepIdsAndUidlsAsGiven) {
  MessageList list;
  list.append("M1a", "uidl-one", 120);
  list.append("", "x", 0);
  list.append("M3", "", 7);
  ASSERT_EQ(list.size(), 3u);
  EXPECT_FALSE(list.numbered());
  EXPECT_EQ(list.id(0), "M1a");
  EXPECT_EQ(list.uidl(0), "uidl-one");
  EXPECT_EQ(list.octets(0), 120u);
  EXPECT_EQ(list.id(1), "");
  EXPECT_EQ(list.uidl(1), "x");
  EXPECT_EQ(list.id(2), "M3");
  EXPECT_EQ(list.uidl(2), "");
  MessageRef ref = list.at(2);
  EXPECT_EQ(ref.id, "M3");
  EXPECT_EQ(ref.size, 7u);
}

TEST(MessageListTest, NumberedDerivesIdAndUidlFromTheNumber) {
  MessageList list([](std::string& out, std::uint32_t uid) { out += "u" + std::to_string(uid); });
  list.append(7u, 1000);
  list.append(4294967295u, 1);
  EXPECT_TRUE(list.numbered());
  EXPECT_EQ(list.number(1), 4294967295u);
  EXPECT_EQ(list.id(0), "7");
  EXPECT_EQ(list.id(1), "4294967295");
  std::string out = "1 ";
  list.appendUidl(out, 0);
  EXPECT_EQ(out, "1 u7");
  EXPECT_EQ(list.uidl(1), "u4294967295");
}

TEST(MessageListTest, SizesOfFourGibibytesAndMoreStayExact) {
  MessageList list([](std::string& out, std::uint32_t uid) { out += std::to_string(uid); });
  const std::uint64_t sizes[] = {0xFFFFFFFEull, 0xFFFFFFFFull, 5, 0x1'0000'0005ull, 9};
  for (std::uint32_t i = 0; i < 5; ++i) list.append(i + 1, sizes[i]);
  list.shrinkToFit();
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(list.octets(i), sizes[i]) << i;
  MessageList copy = list;
  EXPECT_EQ(copy.octets(3), 0x1'0000'0005ull);
  EXPECT_EQ(copy.uidl(3), "4");
  list.clear();
  EXPECT_TRUE(list.empty());
}

}  // namespace
}  // namespace popgate::backends
