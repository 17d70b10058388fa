// HttpClient: redirects, Retry-After, the per-origin bound, back-pressure and a plain-HTTP proxy.

#include "lib/http/HttpClientFixture.h"

namespace popgate::http {
namespace {

using namespace std::chrono_literals;
using Request = test::ScriptedHttpServer::Request;

TEST_F(HttpClientTest, FollowsARedirectAndDropsCredentialsForAnotherOrigin) {
  test::ScriptedHttpServer other(runner_.loop());
  other.setScript([&](const Request& r) { other.send(r.connection, ok("moved here")); });
  server_.setScript([&](const Request& r) {
    if (r.target == "/a")
      return server_.send(r.connection,
                          "HTTP/1.1 307 Temporary\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n");
    server_.send(r.connection, "HTTP/1.1 302 Found\r\nLocation: " + other.url("/c") +
                                   "\r\nContent-Length: 3\r\n\r\nbye");
  });
  RecordingHandler handler;
  HttpRequest request = HttpRequest::get(url("/a"));
  request.headers.emplace_back("Authorization", "Bearer secret");
  auto exchange = client().stream(std::move(request), handler);
  runUntilEnded(handler);
  EXPECT_TRUE(handler.ok()) << handler.error();
  EXPECT_EQ(handler.body, "moved here");
  ASSERT_EQ(server_.requests().size(), 2u);
  EXPECT_EQ(server_.requests()[1].header("Authorization"), "Bearer secret");  // same origin
  ASSERT_EQ(other.requests().size(), 1u);
  EXPECT_EQ(other.requests()[0].header("Authorization"), "");
}

TEST_F(HttpClientTest, SeeOtherTurnsAPostIntoAGet) {
  server_.setScript([&](const Request& r) {
    if (r.method == "POST")
      return server_.send(
          r.connection, "HTTP/1.1 303 See Other\r\nLocation: /result\r\nContent-Length: 0\r\n\r\n");
    server_.send(r.connection, ok("done"));
  });
  RecordingHandler handler;
  auto exchange = client().stream(HttpRequest::post(url("/"), "text/plain", "x"), handler);
  runUntilEnded(handler);
  ASSERT_EQ(server_.requests().size(), 2u);
  EXPECT_EQ(server_.requests()[1].method, "GET");
  EXPECT_EQ(server_.requests()[1].body, "");
}

TEST_F(HttpClientTest, RedirectLoopStopsAtTheBound) {
  answerAll("HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n");
  RecordingHandler handler;
  HttpRequest request = HttpRequest::get(url());
  request.maxRedirects = 3;
  auto exchange = client().stream(std::move(request), handler);
  runUntilEnded(handler);
  EXPECT_NE(handler.error().find("more than 3 redirects"), std::string::npos) << handler.error();
  EXPECT_EQ(server_.requests().size(), 4u);
}

TEST_F(HttpClientTest, HttpsWithoutTlsSettingsIsRefused) {
  HttpUrl secure = url();
  secure.https = true;
  RecordingHandler handler;
  auto exchange = client().stream(HttpRequest::get(secure), handler);
  runUntilEnded(handler);  // no TLS settings: refused at once, from the loop
  EXPECT_NE(handler.error().find("https is not configured"), std::string::npos);
}

TEST_F(HttpClientTest, RetryAfterSecondsIsWaitedOutWithinTheBudget) {
  server_.setScript([&](const Request& r) {
    if (server_.requests().size() == 1) {
      return server_.send(
          r.connection, "HTTP/1.1 429 Too Many\r\nRetry-After: 0\r\nContent-Length: 4\r\n\r\nslow");
    }
    server_.send(r.connection, ok("now"));
  });
  RecordingHandler handler;
  HttpRequest request = HttpRequest::get(url());
  request.retryBudget = 5s;
  auto exchange = client().stream(std::move(request), handler);
  runUntilEnded(handler);
  EXPECT_EQ(handler.body, "now");
  EXPECT_EQ(server_.requests().size(), 2u);
}

TEST_F(HttpClientTest, RetryAfterDateInThePastRetriesAtOnce) {
  server_.setScript([&](const Request& r) {
    if (server_.requests().size() == 1) {
      return server_.send(r.connection,
                          "HTTP/1.1 503 Busy\r\nRetry-After: Sun, 06 Nov 1994 08:49:37 "
                          "GMT\r\nContent-Length: 0\r\n\r\n");
    }
    server_.send(r.connection, ok("now"));
  });
  RecordingHandler handler;
  HttpRequest request = HttpRequest::get(url());
  request.retryBudget = 1s;
  auto exchange = client().stream(std::move(request), handler);
  runUntilEnded(handler);
  EXPECT_EQ(handler.body, "now");
}

TEST_F(HttpClientTest, RetryAfterBeyondTheBudgetIsTheAnswer) {
  answerAll("HTTP/1.1 503 Busy\r\nRetry-After: 120\r\nContent-Length: 4\r\n\r\nbusy");
  RecordingHandler handler;
  HttpRequest request = HttpRequest::get(url());
  request.retryBudget = 10s;
  auto exchange = client().stream(std::move(request), handler);
  runUntilEnded(handler);
  EXPECT_TRUE(handler.ok());
  EXPECT_EQ(handler.head->status, 503);
  EXPECT_EQ(server_.requests().size(), 1u);
}

TEST_F(HttpClientTest, RequestsBeyondTheOriginBoundWaitForAConnection) {
  HttpClientSettings settings;
  settings.maxConnectionsPerOrigin = 2;
  makeClient(settings);
  std::vector<Request> held;
  server_.setScript([&](const Request& r) { held.push_back(r); });
  RecordingHandler handlers[4];
  std::vector<std::unique_ptr<HttpExchange>> exchanges;
  for (auto& handler : handlers)
    exchanges.push_back(client().stream(HttpRequest::get(url()), handler));
  ASSERT_TRUE(runner_.runUntil([&] { return held.size() == 2; }));
  runner_.runFor(50ms);
  EXPECT_EQ(server_.connections(), 2);
  EXPECT_EQ(held.size(), 2u);
  server_.setScript([&](const Request& r) { server_.send(r.connection, ok("later")); });
  for (const Request& r : held) server_.send(r.connection, ok("first"));
  ASSERT_TRUE(runner_.runUntil([&] {
    for (auto& handler : handlers) {
      if (!handler.ended()) return false;
    }
    return true;
  }));
  EXPECT_EQ(server_.connections(), 2);
  for (auto& handler : handlers) EXPECT_TRUE(handler.ok());
}

TEST_F(HttpClientTest, PausedBodyStopsReadingUntilResumed) {
  std::string big(4 * 1024 * 1024, 'b');
  answerAll(ok(big));
  RecordingHandler handler;
  auto exchange = client().stream(HttpRequest::get(url()), handler);
  handler.onBodyHook = [&](std::string_view) {
    if (handler.body.size() >= 100 * 1024) exchange->pause();
  };
  ASSERT_TRUE(runner_.runUntil([&] { return handler.body.size() >= 100 * 1024; }));
  runner_.runFor(100ms);
  // One read past the pause at most: the rest waits in the kernel and in the server's queue.
  EXPECT_LT(handler.body.size(), 400u * 1024);
  EXPECT_FALSE(handler.ended());
  handler.onBodyHook = nullptr;
  exchange->resume();
  runUntilEnded(handler);
  EXPECT_TRUE(handler.ok());
  EXPECT_EQ(handler.body.size(), big.size());
}

TEST_F(HttpClientTest, PlainHttpThroughAProxyUsesTheAbsoluteForm) {
  test::ScriptedHttpServer proxy(runner_.loop());
  proxy.setScript([&](const Request& r) { proxy.send(r.connection, ok("via proxy")); });
  HttpClientSettings settings;
  settings.proxy = parseHttpUrl(proxy.url()).value();
  makeClient(settings);
  RecordingHandler handler;
  auto exchange = client().stream(HttpRequest::get(url("/x?y")), handler);
  runUntilEnded(handler);
  EXPECT_EQ(handler.body, "via proxy");
  ASSERT_EQ(proxy.requests().size(), 1u);
  EXPECT_EQ(proxy.requests()[0].target, server_.url("/x?y"));
  EXPECT_TRUE(server_.requests().empty());
}

TEST_F(HttpClientTest, HeaderWithALineBreakIsRefused) {
  RecordingHandler handler;
  HttpRequest request = HttpRequest::get(url());
  request.headers.emplace_back("X-User", "evil\r\nInjected: 1");
  auto exchange = client().stream(std::move(request), handler);
  runUntilEnded(handler);
  EXPECT_FALSE(handler.ok());
  EXPECT_TRUE(server_.requests().empty());
}

}  // namespace
}  // namespace popgate::http
