// logText: what comes from the network can neither forge a log line nor drive a terminal.

#include <gtest/gtest.h>

#include "lib/common/LogText.h"

namespace popgate {
namespace {

TEST(LogTextTest, ControlBytesAndBackslashesAreEscaped) {
  EXPECT_EQ(logText("evil\x1b[31mRED\rFAKE 2026 [info] admin logged in\n"),
            "evil\\x1b[31mRED\\x0dFAKE 2026 [info] admin logged in\\x0a");
  EXPECT_EQ(logText("a\\x41"), "a\\x5cx41");  // a literal "\x41" cannot pass for an escape
  EXPECT_EQ(logText(std::string("nul\0byte", 8)), "nul\\x00byte");
  EXPECT_EQ(logText("caf\xc3\xa9"), "caf\\xc3\\xa9");
}

TEST(LogTextTest, PrintableTextIsUnchanged) {
  EXPECT_EQ(logText("alice@example.org"), "alice@example.org");
}

TEST(LogTextTest, LongTextIsCut) {
  EXPECT_EQ(logText(std::string(300, 'a'), 10), "aaaaaaaaaa...");
}

}  // namespace
}  // namespace popgate
