// ImapResponseParser: byte transcripts of what Dovecot sends, each replayed whole, split at
// every byte position and one byte at a time; the events must be identical every time.

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "lib/imap/ImapResponseParser.h"

namespace popgate::imap {
namespace {

using Decide = std::function<LiteralMode(const ImapResponse&, std::uint64_t)>;

// Records parser events as text. Streamed bytes are merged into one "data" event so that the
// record does not depend on how the input was split.
class Recorder final : public ImapResponseParser::Handler {
 public:
  explicit Recorder(Decide decide) : decide_(std::move(decide)) {}

  LiteralMode onLiteralStart(const ImapResponse& partial, std::uint64_t size) override {
    events.push_back("start " + std::to_string(size) + " after [" + partial.segments.back() + "]");
    return decide_(partial, size);
  }
  void onLiteralData(std::string_view bytes) override {
    if (!events.empty() && events.back().starts_with("data ")) {
      events.back().append(bytes);
    } else {
      events.push_back("data " + std::string(bytes));
    }
  }
  void onLiteralEnd() override { events.push_back("end"); }
  void onResponse(ImapResponse& response) override {
    std::string text = "response " + response.segments[0];
    for (std::size_t i = 0; i < response.literals.size(); ++i) {
      const ImapLiteral& literal = response.literals[i];
      if (literal.mode == LiteralMode::Buffer) text += "<buffered " + literal.data + ">";
      if (literal.mode == LiteralMode::Stream)
        text += "<streamed " + std::to_string(literal.size) + ">";
      if (literal.mode == LiteralMode::Skip)
        text += "<skipped " + std::to_string(literal.size) + ">";
      EXPECT_TRUE(literal.mode == LiteralMode::Buffer || literal.data.empty());
      text += response.segments.at(i + 1);
    }
    events.push_back(text);
  }

  std::vector<std::string> events;

 private:
  Decide decide_;
};

Decide always(LiteralMode mode) {
  return [mode](const ImapResponse&, std::uint64_t) { return mode; };
}

std::vector<std::string> feedChunks(const std::vector<std::string_view>& chunks, Decide decide) {
  ImapResponseParser parser;
  Recorder recorder(std::move(decide));
  for (std::string_view chunk : chunks) {
    Status status = parser.feed(chunk, recorder);
    EXPECT_TRUE(status) << status.error().detail;
  }
  return recorder.events;
}

// Replays the transcript whole, at every split point and byte by byte; returns the events of
// the whole replay after checking that every other replay produced the same.
std::vector<std::string> replay(std::string_view bytes, Decide decide) {
  std::vector<std::string> whole = feedChunks({bytes}, decide);
  for (std::size_t split = 1; split < bytes.size(); ++split) {
    EXPECT_EQ(feedChunks({bytes.substr(0, split), bytes.substr(split)}, decide), whole)
        << "split at byte " << split;
  }
  std::vector<std::string_view> single;
  for (std::size_t i = 0; i < bytes.size(); ++i) single.push_back(bytes.substr(i, 1));
  EXPECT_EQ(feedChunks(single, decide), whole) << "one byte at a time";
  return whole;
}

using Events = std::vector<std::string>;

TEST(ImapResponseParser, DovecotGreetingWithCapabilities) {
  std::string greeting =
      "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS "
      "AUTH=PLAIN] Dovecot (Debian) ready.\r\n";
  EXPECT_EQ(replay(greeting, always(LiteralMode::Buffer)),
            Events{"response " + greeting.substr(0, greeting.size() - 2)});
}

TEST(ImapResponseParser, SelectAndStatusResponses) {
  std::string bytes =
      "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
      "* 3 EXISTS\r\n"
      "* 0 RECENT\r\n"
      "* OK [UIDVALIDITY 1700000000] UIDs valid\r\n"
      "p2 OK [READ-WRITE] Select completed (0.001 + 0.000 secs).\r\n"
      "* 2 EXPUNGE\r\n"
      "* 1 FETCH (UID 7 RFC822.SIZE 1234)\r\n"
      "p3 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"
      "p4 BAD Error in IMAP command: Unknown command.\r\n"
      "+ OK\r\n"
      "* BYE Logging out\r\n";
  EXPECT_EQ(replay(bytes, always(LiteralMode::Buffer)),
            (Events{"response * FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
                    "response * 3 EXISTS", "response * 0 RECENT",
                    "response * OK [UIDVALIDITY 1700000000] UIDs valid",
                    "response p2 OK [READ-WRITE] Select completed (0.001 + 0.000 secs).",
                    "response * 2 EXPUNGE", "response * 1 FETCH (UID 7 RFC822.SIZE 1234)",
                    "response p3 NO [AUTHENTICATIONFAILED] Authentication failed.",
                    "response p4 BAD Error in IMAP command: Unknown command.", "response + OK",
                    "response * BYE Logging out"}));
}

TEST(ImapResponseParser, BareLfEndsALineToo) {
  EXPECT_EQ(replay("* 3 EXISTS\n* 4 EXISTS\r\n", always(LiteralMode::Buffer)),
            (Events{"response * 3 EXISTS", "response * 4 EXISTS"}));
}

TEST(ImapResponseParser, StreamedBodyGivesTheHandlerExactlyTheLiteralBytes) {
  std::string body = "From: a@example.org\r\nSubject: hi\r\n\r\nline one\r\nline two\r\n";
  std::string bytes = "* 1 FETCH (UID 7 BODY[] {" + std::to_string(body.size()) + "}\r\n" + body +
                      ")\r\np5 OK Fetch completed.\r\n";
  EXPECT_EQ(replay(bytes, always(LiteralMode::Stream)),
            (Events{"start " + std::to_string(body.size()) + " after [* 1 FETCH (UID 7 BODY[] {" +
                        std::to_string(body.size()) + "}]",
                    "data " + body, "end",
                    "response * 1 FETCH (UID 7 BODY[] {" + std::to_string(body.size()) +
                        "}<streamed " + std::to_string(body.size()) + ">)",
                    "response p5 OK Fetch completed."}));
}

TEST(ImapResponseParser, LiteralThatLooksLikeResponsesIsOpaque) {
  // CRLFs, a fake tagged completion, a fake literal announcement and a lone CR inside the body.
  std::string body = "p5 OK Fetch completed.\r\n* 2 FETCH (BODY[] {3}\r\n\r\nabc\rdef\r\n";
  std::string bytes = "* 1 FETCH (BODY[] {" + std::to_string(body.size()) + "}\r\n" + body +
                      " UID 9)\r\np5 OK done\r\n";
  Events events = replay(bytes, always(LiteralMode::Stream));
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[1], "data " + body);
  EXPECT_EQ(events[2], "end");
  EXPECT_EQ(events[3], "response * 1 FETCH (BODY[] {" + std::to_string(body.size()) +
                           "}<streamed " + std::to_string(body.size()) + "> UID 9)");
  EXPECT_EQ(events[4], "response p5 OK done");
}

TEST(ImapResponseParser, EmptyLiterals) {
  Events streamed = replay("* 1 FETCH (BODY[] {0}\r\n)\r\n", always(LiteralMode::Stream));
  EXPECT_EQ(streamed, (Events{"start 0 after [* 1 FETCH (BODY[] {0}]", "end",
                              "response * 1 FETCH (BODY[] {0}<streamed 0>)"}));
  Events buffered = replay("* 1 FETCH (BODY[] {0}\r\n)\r\n", always(LiteralMode::Buffer));
  EXPECT_EQ(buffered, (Events{"start 0 after [* 1 FETCH (BODY[] {0}]",
                              "response * 1 FETCH (BODY[] {0}<buffered >)"}));
  // A literal of size 0 at the very end of the response line.
  EXPECT_EQ(replay("* 1 FETCH (BODY[] {0}\r\n\r\n", always(LiteralMode::Buffer)),
            (Events{"start 0 after [* 1 FETCH (BODY[] {0}]",
                    "response * 1 FETCH (BODY[] {0}<buffered >"}));
}

TEST(ImapResponseParser, SeveralLiteralsInOneResponse) {
  std::string bytes =
      "* 4 FETCH (UID 12 BODY[HEADER] {9}\r\nSubj: x\r\n BODY[TEXT]<0> {5}\r\nhello"
      " BODY[1] {0}\r\n)\r\np6 OK Fetch completed.\r\n";
  Decide decide = [](const ImapResponse& partial, std::uint64_t) {
    return partial.literals.size() == 1 ? LiteralMode::Stream : LiteralMode::Buffer;
  };
  EXPECT_EQ(replay(bytes, decide),
            (Events{"start 9 after [* 4 FETCH (UID 12 BODY[HEADER] {9}]",
                    "start 5 after [ BODY[TEXT]<0> {5}]", "data hello", "end",
                    "start 0 after [ BODY[1] {0}]",
                    "response * 4 FETCH (UID 12 BODY[HEADER] {9}<buffered Subj: x\r\n> "
                    "BODY[TEXT]<0> {5}<streamed 5> BODY[1] {0}<buffered >)",
                    "response p6 OK Fetch completed."}));
}

TEST(ImapResponseParser, PartialResponseShowsEarlierSegmentsAndLiterals) {
  std::vector<std::size_t> seen;
  Decide decide = [&seen](const ImapResponse& partial, std::uint64_t) {
    EXPECT_EQ(partial.literals.size() + 1, partial.segments.size());
    seen.push_back(partial.segments.size());
    return LiteralMode::Buffer;
  };
  feedChunks({"* 1 FETCH (A {1}\r\nx B {1}\r\ny)\r\n"}, decide);
  EXPECT_EQ(seen, (std::vector<std::size_t>{1, 2}));
}

TEST(ImapResponseParser, SkippedLiteralKeepsOnlyItsSize) {
  EXPECT_EQ(replay("* 1 FETCH (BODY[] {6}\r\nsecret UID 3)\r\n", always(LiteralMode::Skip)),
            (Events{"start 6 after [* 1 FETCH (BODY[] {6}]",
                    "response * 1 FETCH (BODY[] {6}<skipped 6> UID 3)"}));
}

TEST(ImapResponseParser, OversizedBufferedLiteralIsSkipped) {
  std::string body(ImapResponseParser::kMaxBufferedLiteral + 1, 'x');
  std::string bytes =
      "* 1 FETCH (BODY[] {" + std::to_string(body.size()) + "}\r\n" + body + ")\r\n";
  Events events = feedChunks({bytes}, always(LiteralMode::Buffer));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1], "response * 1 FETCH (BODY[] {" + std::to_string(body.size()) + "}<skipped " +
                           std::to_string(body.size()) + ">)");
}

TEST(ImapResponseParser, OverlongLineIsAnError) {
  ImapResponseParser parser;
  Recorder recorder(always(LiteralMode::Buffer));
  std::string line = "* OK " + std::string(ImapResponseParser::kMaxLine, 'a');
  // Fed in pieces without a line end: the bound holds across calls.
  Status status = Ok{};
  for (std::size_t pos = 0; pos < line.size() && status; pos += 4096) {
    status = parser.feed(std::string_view(line).substr(pos, 4096), recorder);
  }
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::Temporary);
  // The parser stays failed.
  EXPECT_FALSE(parser.feed("* 1 EXISTS\r\n", recorder));
  EXPECT_TRUE(recorder.events.empty());
}

TEST(ImapResponseParser, LongLiteralIsNotALongLine) {
  std::string body(ImapResponseParser::kMaxLine * 2, 'b');
  std::string bytes =
      "* 1 FETCH (BODY[] {" + std::to_string(body.size()) + "}\r\n" + body + ")\r\n";
  Events events = feedChunks({bytes}, always(LiteralMode::Stream));
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[1].size(), body.size() + 5);
}

TEST(ImapResponseParser, AbortStopsConsumingTheCurrentChunk) {
  struct Aborting final : ImapResponseParser::Handler {
    ImapResponseParser* parser = nullptr;
    std::vector<std::string> lines;
    LiteralMode onLiteralStart(const ImapResponse&, std::uint64_t) override {
      return LiteralMode::Buffer;
    }
    void onLiteralData(std::string_view) override {}
    void onLiteralEnd() override {}
    void onResponse(ImapResponse& response) override {
      lines.push_back(response.segments[0]);
      parser->abort();
    }
  } handler;
  ImapResponseParser parser;
  handler.parser = &parser;
  EXPECT_TRUE(parser.feed("* 1 EXISTS\r\n* 2 EXISTS\r\n", handler));
  EXPECT_EQ(handler.lines, (std::vector<std::string>{"* 1 EXISTS"}));
  // A later feed works again.
  EXPECT_TRUE(parser.feed("* 3 EXISTS\r\n", handler));
  EXPECT_EQ(handler.lines.back(), "* 3 EXISTS");
}

TEST(TrailingLiteralSize, Accepts) {
  EXPECT_EQ(trailingLiteralSize("* 1 FETCH (BODY[] {0}"), 0u);
  EXPECT_EQ(trailingLiteralSize("{12}"), 12u);
  EXPECT_EQ(trailingLiteralSize("x {12+}"), 12u);
  EXPECT_EQ(trailingLiteralSize("{9999999999999999999}"), 9999999999999999999u);
  EXPECT_EQ(trailingLiteralSize("a {1} b {2}"), 2u);
}

TEST(TrailingLiteralSize, Rejects) {
  for (std::string_view junk :
       {"", "}", "{}", "{+}", "{12", "12}", "{1a}", "{-1}", "{ 1}", "{1 }", "{12++}", "{+12}",
        "{12} ", "{12}\r", "{99999999999999999999}", "* OK done"}) {
    EXPECT_EQ(trailingLiteralSize(junk), std::nullopt) << "[" << junk << "]";
  }
}

}  // namespace
}  // namespace popgate::imap

namespace popgate::imap {
namespace {

// A hostile server cannot grow one response without bound: buffered literals beyond the total
// are skipped, and too many literals end the connection.
TEST(ImapResponseParserBoundsTest, BufferedLiteralsAreCappedPerResponse) {
  const std::string literal(ImapResponseParser::kMaxBufferedLiteral, 'x');
  std::string input = "* 1 FETCH (";
  int count = 6;  // 6 MiB offered, 4 MiB kept at most
  for (int i = 0; i < count; ++i) {
    input += "X" + std::to_string(i) + " {" + std::to_string(literal.size()) + "}\r\n" + literal;
  }
  input += ")\r\n";
  ImapResponseParser parser;
  std::uint64_t kept = 0;
  int skipped = 0;
  class Counter final : public ImapResponseParser::Handler {
   public:
    Counter(std::uint64_t& keptBytes, int& skippedCount)
        : kept_(keptBytes), skipped_(skippedCount) {}
    LiteralMode onLiteralStart(const ImapResponse&, std::uint64_t) override {
      return LiteralMode::Buffer;
    }
    void onLiteralData(std::string_view) override {}
    void onLiteralEnd() override {}
    void onResponse(ImapResponse& response) override {
      for (const ImapLiteral& l : response.literals) {
        kept_ += l.data.size();
        if (l.mode == LiteralMode::Skip) ++skipped_;
      }
    }

   private:
    std::uint64_t& kept_;
    int& skipped_;
  } counter(kept, skipped);
  ASSERT_TRUE(parser.feed(input, counter));
  EXPECT_LE(kept, ImapResponseParser::kMaxBufferedResponse);
  EXPECT_EQ(skipped, 2);
}

TEST(ImapResponseParserBoundsTest, TooManyLiteralsIsAnError) {
  std::string input = "* 1 FETCH (";
  for (std::size_t i = 0; i <= ImapResponseParser::kMaxLiterals; ++i) input += "A {1}\r\nz";
  input += ")\r\n";
  ImapResponseParser parser;
  Recorder recorder(always(LiteralMode::Buffer));
  EXPECT_FALSE(parser.feed(input, recorder));
}

}  // namespace
}  // namespace popgate::imap
