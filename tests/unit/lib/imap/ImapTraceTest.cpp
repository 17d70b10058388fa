// The IMAP trace lines: credentials never appear, literals by size only, raw bytes escaped.

#include <gtest/gtest.h>

#include "lib/imap/ImapTrace.h"

namespace popgate::imap {
namespace {

TEST(ImapTraceTest, LoginAndAuthenticateArgumentsAreHidden) {
  EXPECT_EQ(traceCommand("p1", {R"(LOGIN "alice" "s3cret")"}), "p1 LOGIN ***");
  EXPECT_EQ(traceCommand("p1", {"LOGIN {5}", "alice {6}", "s3cret"}), "p1 LOGIN ***");
  EXPECT_EQ(traceCommand("p2", {"AUTHENTICATE PLAIN AGFsaWNlAHMzY3JldA=="}),
            "p2 AUTHENTICATE PLAIN ***");
  EXPECT_EQ(traceCommand("p2", {"authenticate xoauth2"}), "p2 AUTHENTICATE xoauth2 ***");
}

TEST(ImapTraceTest, SaslResponseLinesAreHidden) {
  EXPECT_EQ(traceSaslResponse("AGFsaWNlAHMzY3JldA=="), "***");
  EXPECT_EQ(traceSaslResponse(""), "***");
  EXPECT_EQ(traceSaslResponse("AQ=="), "***");
  EXPECT_EQ(traceCommand("p2", {"AUTHENTICATE PLAIN"}), "p2 AUTHENTICATE PLAIN ***");
}

TEST(ImapTraceTest, OtherCommandsAsSent) {
  EXPECT_EQ(traceCommand("p3", {R"(EXAMINE "INBOX")"}), R"(p3 EXAMINE "INBOX")");
  EXPECT_EQ(traceCommand("p4", {"SELECT {3}",
                                "\x01"
                                "b\r"}),
            "p4 SELECT {3} <literal> \\x01b\\x0d");
}

TEST(ImapTraceTest, ResponsesWithLiteralsBySize) {
  ImapResponse response;
  response.segments = {"* 1 FETCH (UID 7 BODY[] {1234}", ")"};
  response.literals.push_back({1234, LiteralMode::Stream, ""});
  EXPECT_EQ(traceResponse(response), "* 1 FETCH (UID 7 BODY[] {1234} <1234 octets> )");
  ImapResponse evil;
  evil.segments = {"* OK \x1b[31mred\rforged"};
  EXPECT_EQ(traceResponse(evil), "* OK \\x1b[31mred\\x0dforged");
}

}  // namespace
}  // namespace popgate::imap
