// HttpResponseParser: framing of every body kind, fed whole, byte by byte and at every split,
// paused at every body callback; bounds and junk.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "lib/http/HttpResponseParser.h"

namespace popgate::http {
namespace {

// Records what the parser reports; can pause after every body callback.
struct Recorder final : HttpResponseParser::Handler {
  HttpResponseParser* parser = nullptr;
  bool pauseEveryBody = false;
  int heads = 0;
  int status = 0;
  std::optional<std::uint64_t> contentLength;
  std::string body;
  int completes = 0;
  void onHead(const HttpResponseHead& head) override {
    ++heads;
    status = head.status;
    contentLength = head.contentLength;
  }
  void onBody(std::string_view bytes) override {
    body.append(bytes);
    if (pauseEveryBody) parser->pause();
  }
  void onComplete() override { ++completes; }
};

struct Outcome {
  int heads = 0;
  int status = 0;
  std::string body;
  int completes = 0;
  bool keepAlive = false;
  std::size_t consumed = 0;  // of the whole input, when the response completed
  bool error = false;
};

// Feeds `wire` in pieces of `step` bytes (0: whole), resuming after every pause.
Outcome run(std::string_view wire, std::size_t step, bool pauses, bool closeAtEnd = false,
            bool head = false) {
  Recorder recorder;
  HttpResponseParser parser(recorder);
  parser.reset(head);
  recorder.parser = &parser;
  recorder.pauseEveryBody = pauses;
  Outcome out;
  std::size_t offset = 0;
  while (offset < wire.size() && !parser.complete()) {
    std::size_t size = step == 0 ? wire.size() - offset : std::min(step, wire.size() - offset);
    auto consumed = parser.feed(wire.substr(offset, size));
    if (!consumed) {
      out.error = true;
      return out;
    }
    offset += consumed.value();
    if (parser.paused()) parser.resume();
  }
  if (closeAtEnd && !parser.complete() && !parser.finish()) out.error = true;
  out.heads = recorder.heads;
  out.status = recorder.status;
  out.body = recorder.body;
  out.completes = recorder.completes;
  out.keepAlive = parser.head().keepAlive;
  out.consumed = offset;
  return out;
}

void expectEverySplit(std::string_view wire, std::string_view body, bool closeAtEnd = false) {
  for (bool pauses : {false, true}) {
    for (std::size_t step : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{7}}) {
      Outcome out = run(wire, step, pauses, closeAtEnd);
      EXPECT_FALSE(out.error) << "step " << step;
      EXPECT_EQ(out.heads, 1) << "step " << step;
      EXPECT_EQ(out.body, body) << "step " << step << " pauses " << pauses;
      EXPECT_EQ(out.completes, 1) << "step " << step;
    }
  }
}

TEST(HttpResponseParserTest, ContentLengthBody) {
  std::string wire =
      "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nContent-Type: text/plain\r\n\r\n"
      "hello world";
  expectEverySplit(wire, "hello world");
  Outcome out = run(wire, 0, false);
  EXPECT_EQ(out.status, 200);
  EXPECT_TRUE(out.keepAlive);
}

TEST(HttpResponseParserTest, ChunkedBodyWithExtensionsAndTrailers) {
  std::string wire =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n";
  expectEverySplit(wire, "hello world");
}

TEST(HttpResponseParserTest, CloseDelimitedBodyEndsAtTheClose) {
  std::string wire = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end";
  expectEverySplit(wire, "until the end", true);
  EXPECT_FALSE(run(wire, 0, false, true).keepAlive);
}

TEST(HttpResponseParserTest, EveryOneByteSplitOfAChunkedBodyGivesTheSameBytes) {
  std::string body;
  for (int i = 0; i < 300; ++i) body += static_cast<char>(i % 256);
  std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  wire += "64\r\n" + body.substr(0, 100) + "\r\n";
  wire += "C8\r\n" + body.substr(100) + "\r\n0\r\n\r\n";
  for (std::size_t split = 1; split < wire.size(); ++split) {
    Recorder recorder;
    HttpResponseParser parser(recorder);
    ASSERT_EQ(parser.feed(wire.substr(0, split)).value(), split);
    ASSERT_EQ(parser.feed(wire.substr(split)).value(), wire.size() - split);
    ASSERT_EQ(recorder.body, body) << "split at " << split;
    ASSERT_TRUE(parser.complete());
  }
}

TEST(HttpResponseParserTest, StopsAtTheEndOfTheResponse) {
  std::string first = "HTTP/1.1 204 No Content\r\n\r\n";
  Outcome out = run(first + "HTTP/1.1 200 OK\r\n", 0, false);
  EXPECT_EQ(out.completes, 1);
  EXPECT_EQ(out.consumed, first.size());
}

TEST(HttpResponseParserTest, InterimResponsesAreSkipped) {
  Outcome out =
      run("HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
          "HTTP/1.1 100 Continue\r\n\r\n"
          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
          3, false);
  EXPECT_EQ(out.heads, 1);
  EXPECT_EQ(out.status, 200);
  EXPECT_EQ(out.body, "ok");
}

TEST(HttpResponseParserTest, HeadResponseHasNoBody) {
  Outcome out = run("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", 0, false, false, true);
  EXPECT_EQ(out.completes, 1);
  EXPECT_EQ(out.body, "");
}

TEST(HttpResponseParserTest, KeepAliveFollowsVersionAndConnection) {
  EXPECT_FALSE(run("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 0, false).keepAlive);
  EXPECT_TRUE(
      run("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", 0, false)
          .keepAlive);
  EXPECT_FALSE(
      run("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 0, false).keepAlive);
}

TEST(HttpResponseParserTest, HeaderValuesAreTrimmedAndFoundInAnyCase) {
  struct Heads final : HttpResponseParser::Handler {
    HttpResponseHead head;
    void onHead(const HttpResponseHead& h) override { head = h; }
    void onBody(std::string_view) override {}
    void onComplete() override {}
  } heads;
  HttpResponseParser parser(heads);
  ASSERT_TRUE(parser.feed("HTTP/1.1 302 Found\r\nLOCATION:   /next \r\nContent-Length: 0\r\n\r\n"));
  ASSERT_NE(heads.head.header("location"), nullptr);
  EXPECT_EQ(*heads.head.header("Location"), "/next");
  EXPECT_EQ(heads.head.header("Retry-After"), nullptr);
  EXPECT_EQ(heads.head.contentLength, 0u);
}

// A kept-alive connection's parser reuses the header slots of the responses before: each head
// shows only its own headers, whatever the earlier ones held.
TEST(HttpResponseParserTest, EachResponseOnAConnectionHasOnlyItsOwnHeaders) {
  struct Heads final : HttpResponseParser::Handler {
    std::vector<HttpResponseHead> heads;
    void onHead(const HttpResponseHead& h) override { heads.push_back(h); }
    void onBody(std::string_view) override {}
    void onComplete() override {}
  } heads;
  HttpResponseParser parser(heads);
  for (std::string wire :
       {"HTTP/1.1 200 OK\r\nX-Long-Name-Of-A-Header: a value longer than fifteen\r\n"
        "Retry-After: 5\r\nSplit: x\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 503 No\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nA: 1\r\nB:  padded value  \r\nContent-Length: 0\r\n\r\n"}) {
    parser.reset();
    // Split (inside a value of the first): the pieces of one header join.
    std::size_t cut = std::min<std::size_t>(60, wire.size() / 2);
    ASSERT_TRUE(parser.feed(wire.substr(0, cut)));
    ASSERT_TRUE(parser.feed(wire.substr(cut)));
    ASSERT_TRUE(parser.complete());
  }
  ASSERT_EQ(heads.heads.size(), 3u);
  EXPECT_EQ(heads.heads[0].headers.size(), 4u);
  EXPECT_EQ(*heads.heads[0].header("x-long-name-of-a-header"), "a value longer than fifteen");
  EXPECT_EQ(*heads.heads[0].header("split"), "x");
  ASSERT_EQ(heads.heads[1].headers.size(), 1u);
  EXPECT_EQ(heads.heads[1].headers[0].first, "Content-Length");
  EXPECT_EQ(heads.heads[1].header("Retry-After"), nullptr);
  ASSERT_EQ(heads.heads[2].headers.size(), 3u);
  EXPECT_EQ(heads.heads[2].headers[0], (std::pair<std::string, std::string>{"A", "1"}));
  EXPECT_EQ(*heads.heads[2].header("b"), "padded value");
}

TEST(HttpResponseParserTest, CutShortIsAnErrorNeverAnEnd) {
  for (std::string wire : {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
                           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
                           "HTTP/1.1 200 OK\r\nContent-Le", ""}) {
    Recorder recorder;
    HttpResponseParser parser(recorder);
    ASSERT_TRUE(parser.feed(wire));
    EXPECT_FALSE(parser.finish()) << wire;
    EXPECT_EQ(recorder.completes, 0) << wire;
  }
}

TEST(HttpResponseParserTest, JunkAndOversizedHeadsAreErrors) {
  for (std::string wire :
       {std::string("SMTP/1.0 220 hello\r\n\r\n"),
        std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
        std::string("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
        "HTTP/1.1 200 OK\r\nX: " + std::string(70 * 1024, 'a') + "\r\n\r\n"}) {
    Recorder recorder;
    HttpResponseParser parser(recorder);
    EXPECT_FALSE(parser.feed(wire).ok()) << wire.substr(0, 40);
  }
}

}  // namespace
}  // namespace popgate::http
