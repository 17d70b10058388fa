// The admin endpoint's request parser against byte transcripts, whole and cut at every byte.

#include <gtest/gtest.h>

#include <string>

#include "lib/http/HttpRequestParser.h"

namespace popgate::http {
namespace {

using Outcome = HttpRequestParser::Outcome;

constexpr std::string_view kScrape =
    "GET /metrics HTTP/1.1\r\n"
    "Host: 127.0.0.1:9100\r\n"
    "User-Agent: Prometheus/2.42.0\r\n"
    "Accept: text/plain;version=0.0.4;q=1,*/*;q=0.1\r\n"
    "\r\n";

TEST(HttpRequestParserTest, PrometheusScrape) {
  HttpRequestParser parser;
  ASSERT_EQ(parser.feed(kScrape), Outcome::Complete);
  EXPECT_EQ(parser.head().method, "GET");
  EXPECT_EQ(parser.head().target, "/metrics");
  EXPECT_EQ(parser.head().path(), "/metrics");
  EXPECT_EQ(parser.head().versionMinor, 1u);
  ASSERT_EQ(parser.head().headers.size(), 3u);
  EXPECT_EQ(parser.head().headers[1].first, "User-Agent");
  EXPECT_EQ(parser.head().headers[1].second, "Prometheus/2.42.0");
}

TEST(HttpRequestParserTest, AnySplitGivesTheSameRequest) {
  for (std::size_t cut = 0; cut <= kScrape.size(); ++cut) {
    HttpRequestParser parser;
    Outcome first = parser.feed(kScrape.substr(0, cut));
    if (cut < kScrape.size()) {
      ASSERT_EQ(first, Outcome::Incomplete) << cut;
      ASSERT_EQ(parser.feed(kScrape.substr(cut)), Outcome::Complete) << cut;
    } else {
      ASSERT_EQ(first, Outcome::Complete);
    }
    EXPECT_EQ(parser.head().target, "/metrics") << cut;
    EXPECT_EQ(parser.head().headers.size(), 3u) << cut;
  }
}

TEST(HttpRequestParserTest, QueryIsNotPartOfThePath) {
  HttpRequestParser parser;
  ASSERT_EQ(parser.feed("GET /readyz?verbose=1 HTTP/1.0\r\n\r\n"), Outcome::Complete);
  EXPECT_EQ(parser.head().path(), "/readyz");
  EXPECT_EQ(parser.head().versionMinor, 0u);
}

TEST(HttpRequestParserTest, BytesAfterTheRequestAreNotRead) {
  HttpRequestParser parser;
  ASSERT_EQ(parser.feed("HEAD /healthz HTTP/1.1\r\n\r\nGET /other HTTP/1.1\r\n\r\n"),
            Outcome::Complete);
  EXPECT_EQ(parser.head().method, "HEAD");
  EXPECT_EQ(parser.head().target, "/healthz");
}

TEST(HttpRequestParserTest, NotHttpIsInvalid) {
  HttpRequestParser parser;
  EXPECT_EQ(parser.feed("USER alice\r\n"), Outcome::Invalid);
  EXPECT_EQ(parser.feed("GET / HTTP/1.1\r\n\r\n"), Outcome::Invalid);  // stays refused
}

TEST(HttpRequestParserTest, RequestsBeyondTheBoundAreRefused) {
  HttpRequestParser parser;
  std::string big = "GET /metrics HTTP/1.1\r\nX-Pad: " + std::string(10000, 'a') + "\r\n\r\n";
  EXPECT_EQ(parser.feed(big), Outcome::TooLarge);
  HttpRequestParser slow;  // the same, a byte at a time
  Outcome outcome = Outcome::Incomplete;
  for (char c : big) {
    outcome = slow.feed(std::string_view(&c, 1));
    if (outcome != Outcome::Incomplete) break;
  }
  EXPECT_EQ(outcome, Outcome::TooLarge);
}

TEST(HttpRequestParserTest, BodyIsFramedAndSkipped) {
  HttpRequestParser parser;
  ASSERT_EQ(parser.feed("POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"),
            Outcome::Complete);
  EXPECT_EQ(parser.head().method, "POST");
}

}  // namespace
}  // namespace popgate::http
