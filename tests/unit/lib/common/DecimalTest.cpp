// parseDecimal: what the POP3 and IMAP callers rely on (digits only, no sign, no overflow).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string_view>

#include "lib/common/Decimal.h"

namespace popgate {
namespace {

using ::testing::Optional;

TEST(ParseDecimalTest, AcceptsDigitsWithLeadingZeros) {
  EXPECT_THAT(parseDecimal<std::uint32_t>("0"), Optional(0u));
  EXPECT_THAT(parseDecimal<std::uint32_t>("42"), Optional(42u));
  EXPECT_THAT(parseDecimal<std::uint32_t>("007"), Optional(7u));
  EXPECT_THAT(parseDecimal<std::uint64_t>("18446744073709551615"),
              Optional(UINT64_C(18446744073709551615)));
}

TEST(ParseDecimalTest, RejectsEmptyTextSignsSpacesAndOtherDigits) {
  for (std::string_view text : {"", "-1", "+1", "-0", " 1", "1 ", "1 2", "\t1", "a", "1a", "0x10",
                                "1.0", "1e3", "\xd9\xa1" /* ARABIC-INDIC DIGIT ONE */}) {
    EXPECT_EQ(parseDecimal<std::uint32_t>(text), std::nullopt) << '"' << text << '"';
  }
}

TEST(ParseDecimalTest, RejectsValuesThatDoNotFit) {
  EXPECT_THAT(parseDecimal<std::uint32_t>("4294967295"), Optional(4294967295u));
  EXPECT_EQ(parseDecimal<std::uint32_t>("4294967296"), std::nullopt);
  EXPECT_EQ(parseDecimal<std::uint64_t>("18446744073709551616"), std::nullopt);
  EXPECT_EQ(parseDecimal<std::uint8_t>("256"), std::nullopt);
}

TEST(ParseDecimalTest, MaxDigitsCountsLeadingZeros) {
  EXPECT_THAT(parseDecimal<std::uint32_t>("999999999", 9), Optional(999'999'999u));
  EXPECT_EQ(parseDecimal<std::uint32_t>("1000000000", 9), std::nullopt);
  EXPECT_EQ(parseDecimal<std::uint32_t>("0000000001", 9), std::nullopt);
}

}  // namespace
}  // namespace popgate
