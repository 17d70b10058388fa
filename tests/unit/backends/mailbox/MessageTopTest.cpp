// MessageTop: TOP n m over a whole message is a prefix of it, fed in any pieces.

#include <gtest/gtest.h>

#include <string>

#include "backends/mailbox/MessageTop.h"

namespace popgate::backends {
namespace {

// TOP of `message` with `lines`, fed in pieces of `step` bytes.
std::string top(std::string_view message, std::uint32_t lines, std::size_t step) {
  MessageTop cutter(lines);
  std::string out;
  for (std::size_t i = 0; i < message.size() && !cutter.done(); i += step) {
    out += cutter.take(message.substr(i, step));
  }
  return out;
}

void expectTop(std::string_view message, std::uint32_t lines, std::string_view expected) {
  for (std::size_t step : {std::size_t{1}, std::size_t{2}, std::size_t{5}, message.size() + 1}) {
    EXPECT_EQ(top(message, lines, step), expected) << "lines " << lines << " step " << step;
  }
}

TEST(MessageTopTest, HeaderBlankLineAndBodyLines) {
  std::string message = "Subject: a\r\nFrom: b\r\n\r\none\r\ntwo\r\nthree\r\n";
  expectTop(message, 0, "Subject: a\r\nFrom: b\r\n\r\n");
  expectTop(message, 1, "Subject: a\r\nFrom: b\r\n\r\none\r\n");
  expectTop(message, 2, "Subject: a\r\nFrom: b\r\n\r\none\r\ntwo\r\n");
  expectTop(message, 3, message);
  expectTop(message, 100, message);
}

TEST(MessageTopTest, BareLineFeeds) {
  std::string message = "Subject: a\nFrom: b\n\none\ntwo\n";
  expectTop(message, 0, "Subject: a\nFrom: b\n\n");
  expectTop(message, 1, "Subject: a\nFrom: b\n\none\n");
}

TEST(MessageTopTest, HeaderOnlyMessagePassesWhole) {
  // Courier's case: a message that is only a header, no blank line, no final CRLF.
  expectTop("Subject: only\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000", 0,
            "Subject: only\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000");
  expectTop("Subject: only\r\n", 3, "Subject: only\r\n");
}

TEST(MessageTopTest, LastLineWithoutLineEnd) {
  expectTop("S: x\r\n\r\nbody without end", 1, "S: x\r\n\r\nbody without end");
  expectTop("S: x\r\n\r\nfirst\r\nlast", 5, "S: x\r\n\r\nfirst\r\nlast");
}

TEST(MessageTopTest, LoneCarriageReturnsInTheHeaderDoNotEndIt) {
  std::string message = "S: a\rb\r\n\rX: y\r\n\r\nbody\r\n";
  expectTop(message, 0, "S: a\rb\r\n\rX: y\r\n\r\n");
}

TEST(MessageTopTest, EmptyMessageAndEmptyHeader) {
  expectTop("", 0, "");
  expectTop("\r\nbody\r\nmore\r\n", 1, "\r\nbody\r\n");
}

TEST(MessageTopTest, EveryCutIsAPrefix) {
  std::string message = "A: 1\r\nB: 2\n\r\nl1\nl2\r\n.\r\n..x\r\nend";
  for (std::uint32_t lines = 0; lines < 8; ++lines) {
    std::string cut = top(message, lines, 3);
    EXPECT_EQ(message.substr(0, cut.size()), cut) << lines;
  }
}

}  // namespace
}  // namespace popgate::backends
