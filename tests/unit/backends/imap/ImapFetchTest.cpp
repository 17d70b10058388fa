// parseFetch on responses framed by the real parser from Dovecot-like bytes.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "backends/imap/ImapFetch.h"
#include "lib/imap/ImapResponseParser.h"

namespace popgate::imap {
namespace {

// Frames exactly one response, with every literal in `mode`.
ImapResponse frame(std::string_view bytes, LiteralMode mode = LiteralMode::Buffer) {
  struct One final : ImapResponseParser::Handler {
    LiteralMode mode;
    std::vector<ImapResponse> responses;
    LiteralMode onLiteralStart(const ImapResponse&, std::uint64_t) override { return mode; }
    void onLiteralData(std::string_view) override {}
    void onLiteralEnd() override {}
    void onResponse(ImapResponse& response) override { responses.push_back(std::move(response)); }
  } handler;
  handler.mode = mode;
  ImapResponseParser parser;
  EXPECT_TRUE(parser.feed(bytes, handler));
  EXPECT_EQ(handler.responses.size(), 1u);
  return handler.responses.empty() ? ImapResponse{} : std::move(handler.responses[0]);
}

std::optional<FetchData> fetch(const ImapResponse& response) {
  return parseFetch(response, parseHead(response));
}

TEST(ParseFetch, UidAndSize) {
  ImapResponse response = frame("* 2 FETCH (UID 17 RFC822.SIZE 4321)\r\n");
  auto data = fetch(response);
  ASSERT_TRUE(data);
  EXPECT_EQ(data->sequence, 2u);
  EXPECT_EQ(data->uid, 17u);
  EXPECT_EQ(data->size, 4321u);
  EXPECT_TRUE(data->sections.empty());
}

TEST(ParseFetch, LowerCaseNamesAndZeroSize) {
  ImapResponse response = frame("* 1 fetch (rfc822.size 0 uid 4294967295)\r\n");
  auto data = fetch(response);
  ASSERT_TRUE(data);
  EXPECT_EQ(data->uid, 4294967295u);
  EXPECT_EQ(data->size, 0u);
}

TEST(ParseFetch, FlagsInternalDateAndEnvelopeAreSkipped) {
  ImapResponse response = frame(
      "* 3 FETCH (FLAGS (\\Seen \\Deleted) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" "
      "ENVELOPE (\"date\" \"subj\" ((NIL NIL \"a\" \"b.org\")) NIL NIL NIL NIL NIL NIL NIL) "
      "UID 9 MODSEQ (12) RFC822.SIZE 77)\r\n");
  auto data = fetch(response);
  ASSERT_TRUE(data);
  EXPECT_EQ(data->uid, 9u);
  EXPECT_EQ(data->size, 77u);
}

TEST(ParseFetch, BodyAsQuotedString) {
  ImapResponse response = frame("* 1 FETCH (UID 5 BODY[] \"Subject: x\\\\y\")\r\n");
  auto data = fetch(response);
  ASSERT_TRUE(data);
  ASSERT_EQ(data->sections.size(), 1u);
  EXPECT_EQ(data->sections[0].name, "BODY[]");
  EXPECT_FALSE(data->sections[0].nil);
  EXPECT_EQ(data->sections[0].literal, nullptr);
  EXPECT_EQ(data->sections[0].value, "Subject: x\\y");
}

TEST(ParseFetch, BodyNil) {
  ImapResponse response = frame("* 1 FETCH (UID 5 BODY[TEXT]<0> NIL)\r\n");
  auto data = fetch(response);
  ASSERT_TRUE(data);
  ASSERT_EQ(data->sections.size(), 1u);
  EXPECT_EQ(data->sections[0].name, "BODY[TEXT]<0>");
  EXPECT_TRUE(data->sections[0].nil);
}

TEST(ParseFetch, BufferedLiteralIsRead) {
  ImapResponse response =
      frame("* 4 FETCH (UID 8 BODY[HEADER] {22}\r\nSubject: hello\r\nA: b\r\n FLAGS (\\Seen))\r\n");
  auto data = fetch(response);
  ASSERT_TRUE(data);
  EXPECT_EQ(data->uid, 8u);
  ASSERT_EQ(data->sections.size(), 1u);
  EXPECT_EQ(data->sections[0].name, "BODY[HEADER]");
  EXPECT_EQ(data->sections[0].value, "Subject: hello\r\nA: b\r\n");
  EXPECT_EQ(data->sections[0].literal, &response.literals[0]);
}

TEST(ParseFetch, StreamedLiteralHasNoValue) {
  ImapResponse response = frame("* 4 FETCH (BODY[] {3}\r\nabc UID 8)\r\n", LiteralMode::Stream);
  auto data = fetch(response);
  ASSERT_TRUE(data);
  ASSERT_EQ(data->sections.size(), 1u);
  ASSERT_NE(data->sections[0].literal, nullptr);
  EXPECT_EQ(data->sections[0].literal->mode, LiteralMode::Stream);
  EXPECT_EQ(data->sections[0].value, "");
  EXPECT_EQ(data->uid, 8u);
}

TEST(ParseFetch, SeveralSections) {
  ImapResponse response =
      frame("* 4 FETCH (BODY[HEADER] {2}\r\nh\n BODY[TEXT]<0> \"t\" RFC822.HEADER NIL)\r\n");
  auto data = fetch(response);
  ASSERT_TRUE(data);
  ASSERT_EQ(data->sections.size(), 3u);
  EXPECT_EQ(data->sections[0].value, "h\n");
  EXPECT_EQ(data->sections[1].name, "BODY[TEXT]<0>");
  EXPECT_EQ(data->sections[1].value, "t");
  EXPECT_EQ(data->sections[2].name, "RFC822.HEADER");
  EXPECT_TRUE(data->sections[2].nil);
}

TEST(ParseFetch, EmptyList) {
  auto data = fetch(frame("* 4 FETCH ()\r\n"));
  ASSERT_TRUE(data);
  EXPECT_EQ(data->sequence, 4u);
  EXPECT_FALSE(data->uid);
}

TEST(ParseFetch, GarbageIsRejected) {
  for (std::string_view bytes : {
           "* 1 FETCH UID 5\r\n",              // no list
           "* FETCH (UID 5)\r\n",              // no sequence number
           "* 1 EXISTS\r\n",                   // not a FETCH
           "* 1 FETCH (UID five)\r\n",         // bad number
           "* 1 FETCH (UID -5)\r\n",           // bad number
           "* 1 FETCH (UID 4294967296)\r\n",   // out of range
           "* 1 FETCH (RFC822.SIZE 12x)\r\n",  // bad number
           "* 1 FETCH (UID 5\r\n",             // unterminated
           "* 1 FETCH (UID)\r\n",              // missing value
           "* 1 FETCH (BODY[] (a b))\r\n",     // a list is no body
           "* 1 FETCH (BODY[] abc)\r\n",       // an atom is no body
           "* 1 FETCH (FLAGS (\\Seen)\r\n",    // unterminated list
           "* 1 FETCH (\"UID\" 5)\r\n",        // attribute names are atoms
           "* 1 FETCH (BODY[] \"open)\r\n",    // unterminated string
           "* 1 FETCH (BODY[] {2} x)\r\n",     // a brace mid-line is no literal
       }) {
    EXPECT_FALSE(fetch(frame(bytes))) << bytes;
  }
}

TEST(ParseUidAndSize, SnapshotLines) {
  using Pair = std::pair<std::uint32_t, std::uint64_t>;
  EXPECT_EQ(parseUidAndSize("* 3 FETCH (UID 7 RFC822.SIZE 1234)"), Pair(7, 1234));
  EXPECT_EQ(parseUidAndSize("* 3 FETCH (rfc822.size 0 uid 4294967295)"), Pair(4294967295u, 0));
  for (std::string_view line : {
           "* 3 FETCH (UID 7)",                                // no size: the slow path
           "* 3 FETCH (UID 7 RFC822.SIZE 12 FLAGS (\\Seen))",  // more items
           "* 3 FETCH (UID 7 UID 8)",                          // twice
           "* 3 FETCH (UID 4294967296 RFC822.SIZE 1)",         // out of range
           "* 3 FETCH (UID 7 RFC822.SIZE 12x)",                // not a number
           "* 3 FETCH (UID  RFC822.SIZE 12)",                  // empty
           "* 3 FETCH (UID 7 RFC822.SIZE 12",                  // unterminated
       }) {
    EXPECT_FALSE(parseUidAndSize(line)) << line;
  }
}

// A partial response as the parser hands it over when a literal starts.
ImapResponse partial(std::vector<std::string> segments) {
  ImapResponse response;
  response.segments = std::move(segments);
  response.literals.resize(response.segments.size() - 1);
  return response;
}

TEST(UidBeforeLiteral, DovecotOrder) {
  EXPECT_EQ(uidBeforeLiteral(partial({"* 3 FETCH (UID 7 BODY[] {12}"})), 7u);
  EXPECT_EQ(uidBeforeLiteral(partial({"* 3 FETCH (FLAGS (\\Seen) uid 42 BODY[] {12}"})), 42u);
  EXPECT_TRUE(isBodyLiteral(partial({"* 3 FETCH (UID 7 BODY[] {12}"})));
  EXPECT_FALSE(isBodyLiteral(partial({"* 3 FETCH (UID 7 ENVELOPE (\"date\" {12}"})));
}

TEST(UidBeforeLiteral, InAnEarlierSegment) {
  EXPECT_EQ(uidBeforeLiteral(partial({"* 3 FETCH (UID 9 BODY[HEADER] {5}", ") BODY[] {12}"})), 9u);
}

TEST(UidBeforeLiteral, AbsentOrOnlyLookalikes) {
  EXPECT_FALSE(uidBeforeLiteral(partial({"* 3 FETCH (BODY[] {12}"})));
  EXPECT_FALSE(uidBeforeLiteral(partial({"* 3 FETCH (X-UID 5 BODY[] {12}"})));
  EXPECT_FALSE(uidBeforeLiteral(partial({"* 3 FETCH (ENVELOPE (\" UID 5\") BODY[] {12}"})));
  EXPECT_FALSE(uidBeforeLiteral(partial({"* 3 FETCH (BODY[HEADER.FIELDS (UID 5)] {12}"})));
  EXPECT_FALSE(uidBeforeLiteral(partial({"* 3 FETCH (UID 5x BODY[] {12}"})));
}

}  // namespace
}  // namespace popgate::imap
