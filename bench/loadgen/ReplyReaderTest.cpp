// ReplyReader against byte transcripts, fed whole and one byte at a time: the terminator
// CRLF.CRLF may straddle any two reads.

#include <gtest/gtest.h>

#include <string>

#include "ReplyReader.h"

namespace loadgen {
namespace {

using Shape = ReplyReader::Shape;
using Body = ReplyReader::Body;

// Feeds `wire` in chunks of `chunk` bytes until the reply completes; returns bytes consumed.
std::size_t feedAll(ReplyReader& reader, const std::string& wire, std::size_t chunk) {
  std::size_t used = 0;
  while (used < wire.size() && !reader.complete() && !reader.malformed()) {
    std::size_t n = std::min(chunk, wire.size() - used);
    std::size_t took = reader.feed(wire.data() + used, n);
    used += took;
    if (took < n) break;
  }
  return used;
}

class ReplyReaderTest : public ::testing::TestWithParam<std::size_t> {};

TEST_P(ReplyReaderTest, SingleLine) {
  ReplyReader reader;
  reader.expect(Shape::Line);
  std::string wire = "+OK POP3 ready\r\nleftover";
  EXPECT_EQ(feedAll(reader, wire, GetParam()), 16u);
  EXPECT_TRUE(reader.complete());
  EXPECT_TRUE(reader.ok());
  EXPECT_EQ(reader.statusLine(), "+OK POP3 ready\r\n");
}

TEST_P(ReplyReaderTest, EmptyMultiLine) {
  ReplyReader reader;
  reader.expect(Shape::MultiLine, Body::Keep);
  std::string wire = "+OK 0 messages\r\n.\r\n";
  EXPECT_EQ(feedAll(reader, wire, GetParam()), wire.size());
  EXPECT_TRUE(reader.complete());
  EXPECT_EQ(reader.body(), ".\r\n");
  EXPECT_EQ(reader.bodyBytes(), 3u);
}

TEST_P(ReplyReaderTest, StuffedLinesAndNearMissesDoNotEndTheReply) {
  ReplyReader reader;
  reader.expect(Shape::MultiLine, Body::Keep);
  std::string body = "..stuffed\r\n.\r\r\n\r\n.x\r\n\r\r\n.\r\r\n..\r\nlast\r\n.\r\n";
  std::string wire = "+OK 42 octets\r\n" + body + "+OK next";
  EXPECT_EQ(feedAll(reader, wire, GetParam()), wire.size() - 8);
  EXPECT_TRUE(reader.complete());
  EXPECT_EQ(reader.body(), body);
}

TEST_P(ReplyReaderTest, CountedBodyIsNotKept) {
  ReplyReader reader;
  reader.expect(Shape::MultiLine, Body::Count);
  std::string body(100000, 'a');
  for (std::size_t i = 76; i < body.size(); i += 78) body.replace(i, 2, "\r\n");
  body += "\r\n.\r\n";
  std::string wire = "+OK\r\n" + body;
  EXPECT_EQ(feedAll(reader, wire, GetParam()), wire.size());
  EXPECT_TRUE(reader.complete());
  EXPECT_TRUE(reader.body().empty());
  EXPECT_EQ(reader.bodyBytes(), body.size());
}

TEST_P(ReplyReaderTest, ErrToAMultiLineCommandIsOneLine) {
  ReplyReader reader;
  reader.expect(Shape::MultiLine);
  std::string wire = "-ERR [IN-USE] locked\r\n.\r\n";
  EXPECT_EQ(feedAll(reader, wire, GetParam()), 22u);
  EXPECT_TRUE(reader.complete());
  EXPECT_FALSE(reader.ok());
}

TEST_P(ReplyReaderTest, EndlessStatusLineIsMalformed) {
  ReplyReader reader;
  reader.expect(Shape::Line);
  std::string wire(ReplyReader::kMaxStatusLine + 10, 'x');
  feedAll(reader, wire, GetParam());
  EXPECT_TRUE(reader.malformed());
}

INSTANTIATE_TEST_SUITE_P(Chunks, ReplyReaderTest, ::testing::Values(1, 2, 3, 5, 7, 11, 16, 4096));

}  // namespace
}  // namespace loadgen
