// DotStuffer: message bytes -> RFC 1939 §3 multi-line body. Every input is also replayed split
// at every byte position (and one byte at a time): chunking must never change the output.

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "proxy/pop3/DotStuffer.h"
#include "reference/ReferenceStuffing.h"

namespace popgate::pop3 {
namespace {

std::string stuffChunks(const std::vector<std::string_view>& chunks) {
  DotStuffer stuffer;
  std::string out;
  for (std::string_view chunk : chunks) stuffer.append(chunk, out);
  stuffer.finish(out);
  return out;
}

// The pieces form (views into each chunk, used for large RETR chunks) joined up.
std::string stuffChunksAsPieces(const std::vector<std::string_view>& chunks) {
  DotStuffer stuffer;
  std::string out;
  for (std::string_view chunk : chunks) {
    std::vector<std::string_view> pieces;
    stuffer.append(chunk, pieces);
    for (std::string_view piece : pieces) {
      EXPECT_FALSE(piece.empty());
      out.append(piece);
    }
  }
  stuffer.finish(out);
  return out;
}

// Stuffs `message` in one chunk and checks that every other way of cutting it into chunks
// (one byte at a time, two pieces at every position, three pieces at every pair of positions,
// empty chunks in between) gives the same bytes.
std::string stuff(std::string_view message) {
  std::string whole = stuffChunks({message});

  std::vector<std::string_view> bytewise;
  for (std::size_t i = 0; i < message.size(); ++i) {
    bytewise.push_back(message.substr(i, 1));
    bytewise.push_back({});
  }
  EXPECT_EQ(stuffChunks(bytewise), whole) << "one byte at a time";

  EXPECT_EQ(stuffChunksAsPieces({message}), whole) << "as pieces";
  EXPECT_EQ(stuffChunksAsPieces(bytewise), whole) << "as pieces, one byte at a time";

  for (std::size_t a = 0; a <= message.size(); ++a) {
    EXPECT_EQ(stuffChunks({message.substr(0, a), message.substr(a)}), whole) << "split at " << a;
    EXPECT_EQ(stuffChunksAsPieces({message.substr(0, a), message.substr(a)}), whole)
        << "as pieces, split at " << a;
    for (std::size_t b = a; b <= message.size(); ++b) {
      EXPECT_EQ(stuffChunks({message.substr(0, a), message.substr(a, b - a), message.substr(b)}),
                whole)
          << "split at " << a << " and " << b;
    }
  }
  return whole;
}

TEST(DotStufferTest, EmptyMessageIsJustTheTerminator) {
  EXPECT_EQ(stuff(""), ".\r\n");
}

TEST(DotStufferTest, CrlfMessagePassesThrough) {
  EXPECT_EQ(stuff("Subject: hi\r\n\r\nbody\r\n"), "Subject: hi\r\n\r\nbody\r\n.\r\n");
}

TEST(DotStufferTest, DoublesLeadingDots) {
  EXPECT_EQ(stuff(".\r\n"), "..\r\n.\r\n");
  EXPECT_EQ(stuff("..x\r\n"), "...x\r\n.\r\n");
  EXPECT_EQ(stuff("a\r\n.b\r\n.\r\nc"), "a\r\n..b\r\n..\r\nc\r\n.\r\n");
}

TEST(DotStufferTest, LeavesDotsInsideLinesAlone) {
  EXPECT_EQ(stuff("a.b.\r\n x.\r\n"), "a.b.\r\n x.\r\n.\r\n");
}

TEST(DotStufferTest, StuffsChunkStartingWithDotAfterChunkEndingInLf) {
  DotStuffer stuffer;
  std::string out;
  stuffer.append("first\r\n", out);
  stuffer.append(".second\n", out);
  stuffer.append(".", out);
  stuffer.append("\n", out);
  stuffer.finish(out);
  EXPECT_EQ(out, "first\r\n..second\r\n..\r\n.\r\n");
}

TEST(DotStufferTest, TurnsBareLfIntoCrlf) {
  EXPECT_EQ(stuff("a\nb\n"), "a\r\nb\r\n.\r\n");
  EXPECT_EQ(stuff("\n\n"), "\r\n\r\n.\r\n");
  EXPECT_EQ(stuff("mixed\r\nbare\n.dot\n"), "mixed\r\nbare\r\n..dot\r\n.\r\n");
}

TEST(DotStufferTest, CrAndLfSplitAcrossChunksStayOneCrlf) {
  DotStuffer stuffer;
  std::string out;
  stuffer.append("line\r", out);
  stuffer.append("\n", out);
  stuffer.append("\r", out);
  stuffer.append("\n.x\r", out);
  stuffer.append("\nend", out);
  stuffer.finish(out);
  EXPECT_EQ(out, "line\r\n\r\n..x\r\nend\r\n.\r\n");
}

TEST(DotStufferTest, KeepsBareCr) {
  EXPECT_EQ(stuff("a\rb\r\n"), "a\rb\r\n.\r\n");
  EXPECT_EQ(stuff("\r.x\r\n"), "\r.x\r\n.\r\n");  // after a bare CR a '.' starts no line
  EXPECT_EQ(stuff("a\r\rb\n"), "a\r\rb\r\n.\r\n");
}

TEST(DotStufferTest, AddsFinalCrlfWhenMissing) {
  EXPECT_EQ(stuff("no newline"), "no newline\r\n.\r\n");
  EXPECT_EQ(stuff("a\r\nlast"), "a\r\nlast\r\n.\r\n");
  EXPECT_EQ(stuff("."), "..\r\n.\r\n");
}

TEST(DotStufferTest, TrailingBareCrIsKeptAndTerminated) {
  // The bare CR is message content (kept, as everywhere else), then the line is ended.
  EXPECT_EQ(stuff("a\r"), "a\r\r\n.\r\n");
}

TEST(DotStufferTest, FinishResetsForTheNextMessage) {
  DotStuffer stuffer;
  std::string out;
  stuffer.append("x\r", out);
  stuffer.finish(out);
  stuffer.append("\n.y", out);  // a new message: its LF is bare, its '.' starts its 2nd line
  stuffer.finish(out);
  EXPECT_EQ(out, "x\r\r\n.\r\n\r\n..y\r\n.\r\n");
}

TEST(DotStufferTest, ResetForgetsAHalfStuffedMessage) {
  DotStuffer stuffer;
  std::string out;
  stuffer.append("partial", out);
  stuffer.reset();
  out.clear();
  stuffer.append(".z", out);
  stuffer.finish(out);
  EXPECT_EQ(out, "..z\r\n.\r\n");
}

TEST(DotStufferTest, RealisticMessageIsChunkingIndependent) {
  const std::string message =
      "Return-Path: <a@example.org>\r\n"
      "Subject: dots\n"
      "\r\n"
      ".leading\r\n"
      "..two\n"
      ".\r\n"
      "bare\rcr\r\n"
      "\n"
      ". \n"
      "end.";
  EXPECT_EQ(stuff(message),
            "Return-Path: <a@example.org>\r\n"
            "Subject: dots\r\n"
            "\r\n"
            "..leading\r\n"
            "...two\r\n"
            "..\r\n"
            "bare\rcr\r\n"
            "\r\n"
            ".. \r\n"
            "end.\r\n"
            ".\r\n");
}

TEST(DotStufferTest, LongMessagesMatchTheByteByByteRules) {
  // Lengths well past the 16- and 64-byte blocks, with the bytes that matter at every offset
  // of a block (dense enough that most blocks hold several), cut into random chunks.
  std::mt19937 random(20261201);
  const std::string alphabet = "ab.\r\n\n.";
  for (int round = 0; round < 2000; ++round) {
    std::size_t length = random() % 400;
    int density = 1 + static_cast<int>(random() % 30);  // 1 in `density` bytes is special
    std::string message;
    for (std::size_t i = 0; i < length; ++i) {
      bool special = static_cast<int>(random() % static_cast<unsigned>(density)) == 0;
      message.push_back(special ? alphabet[random() % alphabet.size()] : 'x');
    }
    std::vector<std::string_view> chunks;
    for (std::size_t at = 0; at < message.size();) {
      std::size_t size = std::min<std::size_t>(message.size() - at, random() % 150);
      chunks.push_back(std::string_view(message).substr(at, size));
      at += size;
    }
    std::string expected = reference::stuff(message);
    ASSERT_EQ(stuffChunks({message}), expected) << "round " << round;
    ASSERT_EQ(stuffChunks(chunks), expected) << "round " << round << ", chunked";
    ASSERT_EQ(stuffChunksAsPieces(chunks), expected) << "round " << round << ", as pieces";
  }
}

TEST(DotStufferTest, LongCrlfMessageIsOnePiecePerChunk) {
  std::string message;
  for (int line = 0; line < 200; ++line) message += std::string(76, 'Q') + "\r\n";
  DotStuffer stuffer;
  std::vector<std::string_view> pieces;
  stuffer.append(message, pieces);
  ASSERT_EQ(pieces.size(), 1u);
  EXPECT_EQ(pieces[0].data(), message.data());
  EXPECT_EQ(pieces[0].size(), message.size());
}

TEST(DotStufferTest, OutputNeverContainsTheTerminatorEarly) {
  const std::string message = "a\n.\n.\r\n\r\n.\r\n";
  std::string out = stuff(message);
  EXPECT_EQ(out.find("\r\n.\r\n"), out.size() - 5);
}

}  // namespace
}  // namespace popgate::pop3
