// Argument parsing for message numbers and line counts (RFC 1939 §5-§7).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "proxy/pop3/Arguments.h"

namespace popgate::pop3 {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Optional;

TEST(ParseNumberTest, AcceptsDecimalNumbers) {
  EXPECT_THAT(parseNumber("0"), Optional(0u));
  EXPECT_THAT(parseNumber("1"), Optional(1u));
  EXPECT_THAT(parseNumber("42"), Optional(42u));
  EXPECT_THAT(parseNumber("999999999"), Optional(999'999'999u));
}

TEST(ParseNumberTest, AcceptsLeadingZeros) {
  EXPECT_THAT(parseNumber("007"), Optional(7u));
  EXPECT_THAT(parseNumber("000000001"), Optional(1u));
}

TEST(ParseNumberTest, RejectsEmptyText) {
  EXPECT_EQ(parseNumber(""), std::nullopt);
}

TEST(ParseNumberTest, RejectsSignsAndSpaces) {
  for (std::string_view text : {"-1", "+1", " 1", "1 ", "1 2", "\t1"}) {
    EXPECT_EQ(parseNumber(text), std::nullopt) << '"' << text << '"';
  }
}

TEST(ParseNumberTest, RejectsNonDigits) {
  for (std::string_view text : {"a", "1a", "0x10", "1.0", "1e3", "\xd9\xa1"}) {
    EXPECT_EQ(parseNumber(text), std::nullopt) << '"' << text << '"';
  }
}

TEST(ParseNumberTest, RejectsMoreThanNineDigits) {
  // Ten digits could overflow 32 bits; no mailbox is that large.
  EXPECT_EQ(parseNumber("1000000000"), std::nullopt);
  EXPECT_EQ(parseNumber("4294967296"), std::nullopt);
  EXPECT_EQ(parseNumber("0000000001"), std::nullopt);
}

TEST(SplitArgsTest, EmptyTextHasNoArguments) {
  EXPECT_THAT(splitArgs(""), IsEmpty());
}

TEST(SplitArgsTest, SplitsOnSingleSpaces) {
  EXPECT_THAT(splitArgs("1"), ElementsAre("1"));
  EXPECT_THAT(splitArgs("1 10"), ElementsAre("1", "10"));
  EXPECT_THAT(splitArgs("a b c"), ElementsAre("a", "b", "c"));
}

TEST(SplitArgsTest, KeepsEmptyFieldsSoCallersRejectThem) {
  EXPECT_THAT(splitArgs("1  10"), ElementsAre("1", "", "10"));
  EXPECT_THAT(splitArgs(" 1"), ElementsAre("", "1"));
  EXPECT_THAT(splitArgs("1 "), ElementsAre("1", ""));
  EXPECT_THAT(splitArgs(" "), ElementsAre("", ""));
}

TEST(SplitArgsTest, OnlySpaceSeparates) {
  EXPECT_THAT(splitArgs("1\t10"), ElementsAre("1\t10"));
}

}  // namespace
}  // namespace popgate::pop3
