// nginx auth_http wire format: the request headers nginx 1.22 writes (its escaping included),
// and answers read from byte transcripts, fed one byte at a time through the HTTP parser.

#include <gtest/gtest.h>

#include "lib/http/HttpRequest.h"
#include "lib/http/HttpResponseParser.h"
#include "proxy/route/AuthHttpProtocol.h"

namespace popgate::route {
namespace {

using namespace std::chrono_literals;

struct HeadCatcher final : http::HttpResponseParser::Handler {
  std::optional<http::HttpResponseHead> head;
  void onHead(const http::HttpResponseHead& h) override { head = h; }
  void onBody(std::string_view) override {}
  void onComplete() override {}
};

http::HttpResponseHead headOf(std::string_view wire) {
  HeadCatcher catcher;
  http::HttpResponseParser parser(catcher);
  for (char c : wire) {
    auto fed = parser.feed(std::string_view(&c, 1));
    EXPECT_TRUE(fed.ok()) << fed.error().detail;
  }
  EXPECT_TRUE(catcher.head.has_value());
  return catcher.head.value_or(http::HttpResponseHead{});
}

Result<AuthHttpAnswer> parse(std::string_view wire, bool passRequired = false) {
  return parseAuthHttpAnswer(headOf(wire), passRequired);
}

std::string wireOf(const AuthHttpQuery& query) {
  http::HttpRequest request =
      http::HttpRequest::get(http::parseHttpUrl("http://127.0.0.1:9000/auth").value());
  request.headers = authHttpRequestHeaders(query).value();
  return http::serializeRequest(request, false);
}

TEST(AuthHttpEscape, EscapesWhatNginxEscapesAndNothingElse) {
  // NGX_ESCAPE_MAIL_AUTH: 0x00-0x1F, space, '%'. 8-bit bytes, DEL, '+', '"' and '\' go as they are.
  EXPECT_EQ(authHttpEscape("plain"), "plain");
  EXPECT_EQ(authHttpEscape("a b%c"), "a%20b%25c");
  EXPECT_EQ(authHttpEscape(std::string("\0\t\r\n\x1f", 5)), "%00%09%0D%0A%1F");
  EXPECT_EQ(authHttpEscape("p\xc3\xa4ss\x7f+\"\\:@"), "p\xc3\xa4ss\x7f+\"\\:@");
  EXPECT_EQ(authHttpUnescape("a%20b%25c%0d%0A%zz%4"), "a b%c\r\n%zz%4");
}

TEST(AuthHttpRequest, PlainLoginIsWrittenInNginxOrder) {
  AuthHttpQuery query;
  query.user = "bob";
  query.pass = "bob pass \"quoted\" \\ 100%";
  query.loginAttempt = 2;
  query.clientIp = "192.0.2.42";
  query.salt = "<1.2@host>";  // plain never sends a salt
  EXPECT_EQ(wireOf(query),
            "GET /auth HTTP/1.1\r\n"
            "Host: 127.0.0.1:9000\r\n"
            "Auth-Method: plain\r\n"
            "Auth-User: bob\r\n"
            "Auth-Pass: bob%20pass%20\"quoted\"%20\\%20100%25\r\n"
            "Auth-Protocol: pop3\r\n"
            "Auth-Login-Attempt: 2\r\n"
            "Client-IP: 192.0.2.42\r\n"
            "Accept: */*\r\n"  // the HTTP client's own two, which no auth_http service reads
            "User-Agent: popgate\r\n"
            "\r\n");
}

TEST(AuthHttpRequest, ApopSendsTheSaltAndTheDigest) {
  AuthHttpQuery query;
  query.method = "apop";
  query.user = "alice";
  query.pass = "c4c9334bac560ecc979e58001b3e22fb";
  query.salt = "<1896.697170952@dbc.mtview.ca.us>";
  query.clientIp = "::1";
  query.clientHost = "client.example.org";
  auto headers = authHttpRequestHeaders(query).value();
  http::HttpHeaders expected = {{"Auth-Method", "apop"},
                                {"Auth-User", "alice"},
                                {"Auth-Pass", "c4c9334bac560ecc979e58001b3e22fb"},
                                {"Auth-Salt", "<1896.697170952@dbc.mtview.ca.us>"},
                                {"Auth-Protocol", "pop3"},
                                {"Auth-Login-Attempt", "1"},
                                {"Client-IP", "::1"},
                                {"Client-Host", "client.example.org"}};
  EXPECT_EQ(headers, expected);
  EXPECT_TRUE(authHttpUsesSalt("cram-md5"));
  EXPECT_FALSE(authHttpUsesSalt("plain"));
}

TEST(AuthHttpRequest, NonAsciiAndControlBytesInTheUserCannotSplitTheHead) {
  AuthHttpQuery query;
  query.user = "j\xc3\xb6rg\r\nAuth-Status: OK";
  query.pass = "x";
  auto headers = authHttpRequestHeaders(query).value();
  EXPECT_EQ(headers.at(1).second, "j\xc3\xb6rg%0D%0AAuth-Status:%20OK");
  for (const auto& [name, value] : headers) EXPECT_TRUE(http::safeHeader(name, value)) << name;
}

TEST(AuthHttpRequest, RefusesUnknownMethodsAndUnsafeValues) {
  AuthHttpQuery query;
  query.method = "login";
  EXPECT_EQ(authHttpRequestHeaders(query).error().code, ErrorCode::Invalid);
  query.method = "apop";
  query.salt = "<a@b>\r\nX: y";
  EXPECT_EQ(authHttpRequestHeaders(query).error().code, ErrorCode::Invalid);
  query.salt = "<a@b>";
  query.clientHost = "evil\nhost";
  EXPECT_EQ(authHttpRequestHeaders(query).error().code, ErrorCode::Invalid);
}

TEST(AuthHttpAnswerParse, OkWithServerAndPort) {
  auto answer = parse(
      "HTTP/1.0 200 OK\r\nAuth-Status: OK\r\nAuth-Server: 198.51.100.1\r\nAuth-Port: 110\r\n\r\n");
  ASSERT_TRUE(answer.ok()) << answer.error().detail;
  EXPECT_TRUE(answer.value().ok);
  EXPECT_EQ(answer.value().server, "198.51.100.1");
  EXPECT_EQ(answer.value().port, 110);
  EXPECT_FALSE(answer.value().user.has_value());
  EXPECT_FALSE(answer.value().pass.has_value());
}

TEST(AuthHttpAnswerParse, OkWithUpstreamCredentialsAnyCaseAndLastHeaderWins) {
  auto answer = parse(
      "HTTP/1.1 200 OK\r\nauth-status: OK\r\nAUTH-SERVER: 10.0.0.1\r\nAuth-Server: ::1\r\n"
      "Auth-Port: 1110\r\nAuth-User: bob@store\r\nAuth-Pass: up%20stream\r\n"
      "Content-Length: 0\r\n\r\n",
      true);
  ASSERT_TRUE(answer.ok()) << answer.error().detail;
  EXPECT_EQ(answer.value().server, "::1");
  EXPECT_EQ(answer.value().user, "bob@store");
  EXPECT_EQ(answer.value().pass, "up%20stream");  // used as sent: nginx does not unescape
}

TEST(AuthHttpAnswerParse, RefusalCarriesTextWaitAndErrorCode) {
  auto answer = parse(
      "HTTP/1.0 200 OK\r\nAuth-Status: Invalid login or password\r\nAuth-Wait: 3\r\n"
      "Auth-Error-Code: 535 5.7.8\r\n\r\n");
  ASSERT_TRUE(answer.ok());
  EXPECT_FALSE(answer.value().ok);
  EXPECT_EQ(answer.value().errorText, "Invalid login or password");
  EXPECT_EQ(answer.value().wait, 3s);
  EXPECT_EQ(answer.value().errorCode, "535 5.7.8");
  EXPECT_FALSE(answer.value().temporary);
}

TEST(AuthHttpAnswerParse, RefusalWithoutWaitOrWithABadOneHasNoWait) {
  auto none = parse("HTTP/1.0 200 OK\r\nAuth-Status: No\r\n\r\n");
  EXPECT_FALSE(none.value().wait.has_value());
  auto bad = parse("HTTP/1.0 200 OK\r\nAuth-Status: No\r\nAuth-Wait: -1\r\n\r\n");
  EXPECT_FALSE(bad.value().wait.has_value());
  auto huge = parse("HTTP/1.0 200 OK\r\nAuth-Status: No\r\nAuth-Wait: 99999999\r\n\r\n");
  EXPECT_EQ(huge.value().wait, kMaxAuthHttpWait);
}

TEST(AuthHttpAnswerParse, TemporaryRefusalAndWaitStatus) {
  auto temp =
      parse("HTTP/1.0 200 OK\r\nAuth-Status: try later\r\nAuth-Error-Code: 451 4.3.0\r\n\r\n");
  EXPECT_TRUE(temp.value().temporary);
  auto wait = parse("HTTP/1.0 200 OK\r\nAuth-Status: WAIT\r\nAuth-Wait: 2\r\n\r\n");
  EXPECT_TRUE(wait.value().retry);
  EXPECT_EQ(wait.value().wait, 2s);
}

TEST(AuthHttpAnswerParse, ErrorTextIsBoundedAndHasNoControlBytes) {
  // The HTTP parser refuses most control bytes already; the answer checks again on its own.
  http::HttpResponseHead head;
  head.status = 200;
  head.headers = {{"Auth-Status", "bad\x01\x7f\t" + std::string(300, 'x')}};
  auto answer = parseAuthHttpAnswer(head, false);
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer.value().errorText.size(), kMaxAuthHttpErrorText);
  EXPECT_EQ(answer.value().errorText.substr(0, 7), "bad???x");
}

TEST(AuthHttpAnswerParse, BrokenServiceIsTemporaryNeverARefusal) {
  const char* broken[] = {
      "HTTP/1.1 500 Internal Server Error\r\nAuth-Status: OK\r\nAuth-Server: 10.0.0.1\r\n"
      "Auth-Port: 110\r\n\r\n",
      "HTTP/1.1 200 OK\r\nAuth-Server: 10.0.0.1\r\nAuth-Port: 110\r\n\r\n",
      "HTTP/1.1 200 OK\r\nAuth-Status: OK\r\nAuth-Port: 110\r\n\r\n",
      "HTTP/1.1 200 OK\r\nAuth-Status: OK\r\nAuth-Server: 10.0.0.1\r\n\r\n",
      "HTTP/1.1 200 OK\r\nAuth-Status: OK\r\nAuth-Server: mail.example.org\r\nAuth-Port: "
      "110\r\n\r\n",
      "HTTP/1.1 200 OK\r\nAuth-Status: OK\r\nAuth-Server: 10.0.0.1\r\nAuth-Port: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nAuth-Status: OK\r\nAuth-Server: 10.0.0.1\r\nAuth-Port: 65536\r\n\r\n",
      "HTTP/1.1 200 OK\r\nAuth-Status: OK\r\nAuth-Server: 10.0.0.1\r\nAuth-Port: 11x\r\n\r\n",
  };
  for (const char* wire : broken) {
    SCOPED_TRACE(wire);
    auto answer = parse(wire);
    ASSERT_FALSE(answer.ok());
    EXPECT_EQ(answer.error().code, ErrorCode::Temporary);
  }
}

TEST(AuthHttpAnswerParse, DigestLoginNeedsAuthPass) {
  std::string wire =
      "HTTP/1.0 200 OK\r\nAuth-Status: OK\r\nAuth-Server: 10.0.0.1\r\nAuth-Port: 110\r\n\r\n";
  EXPECT_TRUE(parse(wire, false).ok());
  EXPECT_EQ(parse(wire, true).error().code, ErrorCode::Temporary);
}

TEST(AuthHttpAnswerParse, OversizedValueIsRefusedWithoutQuotingIt) {
  std::string secret(kMaxAuthHttpValue + 1, 's');
  auto answer = parse(
      "HTTP/1.0 200 OK\r\nAuth-Status: OK\r\nAuth-Server: 10.0.0.1\r\n"
      "Auth-Port: 110\r\nAuth-Pass: " +
      secret + "\r\n\r\n");
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().detail.find("sss"), std::string::npos);
}

}  // namespace
}  // namespace popgate::route
