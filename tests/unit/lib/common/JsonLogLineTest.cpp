// JSON log lines: the fields, and strings that stay JSON whatever bytes they hold.

#include <gtest/gtest.h>

#include "lib/common/JsonLogLine.h"

namespace popgate {
namespace {

TEST(JsonLogLineTest, LineOutsideASession) {
  EXPECT_EQ(
      jsonLogLine("2026-12-05T21:00:00.000Z", "info", "popgate ready (2 workers)", nullptr, {}),
      R"j({"time":"2026-12-05T21:00:00.000Z","level":"info","event":"log",)j"
      R"j("message":"popgate ready (2 workers)"})j");
}

TEST(JsonLogLineTest, SessionFieldsAndDuration) {
  LogContext context{"5f3a0001", "127.0.0.1:40000", "alice", "local"};
  EXPECT_EQ(
      jsonLogLine("t", "info", "login alice ok, 3 messages", &context, {"login", 12}),
      R"j({"time":"t","level":"info","event":"login","message":"login alice ok, 3 messages",)j"
      R"j("session":"5f3a0001","client":"127.0.0.1:40000","user":"alice","backend":"local",)j"
      R"j("duration_ms":12})j");
}

TEST(JsonLogLineTest, UnknownFieldsAreLeftOut) {
  LogContext context{"7", "[::1]:5", "", ""};
  EXPECT_EQ(jsonLogLine("t", "debug", "connected", &context, {}),
            R"j({"time":"t","level":"debug","event":"log","message":"connected",)j"
            R"j("session":"7","client":"[::1]:5"})j");
}

TEST(JsonLogLineTest, StringsAreEscaped) {
  EXPECT_EQ(jsonString("a\"b\\c"), R"j("a\"b\\c")j");
  EXPECT_EQ(jsonString("x\r\ny\t\x1b[31m"), R"j("x\r\ny\t\u001b[31m")j");
  EXPECT_EQ(jsonString(std::string("\0\x7f", 2)), R"j("\u0000\u007f")j");
  EXPECT_EQ(jsonString("caf\xc3\xa9 \xff"), R"j("caf\u00c3\u00a9 \u00ff")j");
}

}  // namespace
}  // namespace popgate
