// HttpClient against a scripted server: requests on the wire, the pool, the one resend,
// redirects, Retry-After, deadlines, bounded bodies and back-pressure.

#include "lib/http/HttpClient.h"
#include "lib/http/HttpClientFixture.h"

namespace popgate::http {
namespace {

using namespace std::chrono_literals;

TEST_F(HttpClientTest, GetWritesAnOriginFormRequestAndReadsTheBody) {
  answerAll(ok("hello"));
  RecordingHandler handler;
  HttpRequest request = HttpRequest::get(url("/jmap/session?x=1"));
  request.headers.emplace_back("Authorization", "Basic YTpi");
  auto exchange = client().stream(std::move(request), handler);
  EXPECT_FALSE(handler.ended());  // never from inside the call
  runUntilEnded(handler);
  EXPECT_TRUE(handler.ok()) << handler.error();
  EXPECT_EQ(handler.head->status, 200);
  EXPECT_EQ(handler.body, "hello");
  const auto& sent = server_.requests().at(0);
  EXPECT_EQ(sent.method, "GET");
  EXPECT_EQ(sent.target, "/jmap/session?x=1");
  EXPECT_EQ(sent.header("Host"), "127.0.0.1:" + std::to_string(server_.port()));
  EXPECT_EQ(sent.header("Authorization"), "Basic YTpi");
}

TEST_F(HttpClientTest, PostSendsTheBodyWithItsLength) {
  answerAll(ok("{}"));
  std::optional<Result<HttpResponse>> got;
  auto pending = client().fetch(HttpRequest::post(url("/api"), "application/json", "{\"a\":1}"),
                                1024, [&](Result<HttpResponse> r) { got = std::move(r); });
  ASSERT_TRUE(runner_.runUntil([&] { return got.has_value(); }));
  ASSERT_TRUE(got->ok()) << got->error().detail;
  EXPECT_EQ(got->value().body, "{}");
  EXPECT_EQ(server_.requests().at(0).body, "{\"a\":1}");
  EXPECT_EQ(server_.requests().at(0).header("Content-Type"), "application/json");
}

TEST_F(HttpClientTest, KeptAliveConnectionIsReused) {
  answerAll(ok("1"));
  for (int i = 0; i < 3; ++i) {
    RecordingHandler handler;
    auto exchange = client().stream(HttpRequest::get(url()), handler);
    runUntilEnded(handler);
    EXPECT_TRUE(handler.ok());
  }
  EXPECT_EQ(server_.connections(), 1);
  EXPECT_EQ(client().idleConnections(), 1u);
}

TEST_F(HttpClientTest, ConnectionCloseIsNotReused) {
  answerAll(ok("1", "Connection: close\r\n"));
  for (int i = 0; i < 2; ++i) {
    RecordingHandler handler;
    auto exchange = client().stream(HttpRequest::get(url()), handler);
    runUntilEnded(handler);
  }
  EXPECT_EQ(server_.connections(), 2);
}

TEST_F(HttpClientTest, DeadPooledConnectionIsRetriedOnceForAResendableRequest) {
  answerAll(ok("1"));
  RecordingHandler first;
  auto a = client().stream(HttpRequest::get(url()), first);
  runUntilEnded(first);
  // The server closes the kept-alive connection without a word, but the client has not seen it
  // yet: the next request goes out on it and finds it dead.
  server_.setScript([this](const test::ScriptedHttpServer::Request& request) {
    if (request.connection == 1) return server_.close(1);
    server_.send(request.connection, ok("2"));
  });
  RecordingHandler second;
  auto b = client().stream(HttpRequest::get(url()), second);
  runUntilEnded(second);
  EXPECT_TRUE(second.ok()) << second.error();
  EXPECT_EQ(second.body, "2");
  EXPECT_EQ(server_.connections(), 2);
}

TEST_F(HttpClientTest, PostIsNeverResentOnADeadConnection) {
  answerAll(ok("1"));
  RecordingHandler first;
  auto a = client().stream(HttpRequest::get(url()), first);
  runUntilEnded(first);
  server_.setScript([this](const test::ScriptedHttpServer::Request& request) {
    server_.close(request.connection);
  });
  RecordingHandler second;
  auto b = client().stream(HttpRequest::post(url(), "application/json", "{}"), second);
  runUntilEnded(second);
  EXPECT_FALSE(second.ok());
  EXPECT_EQ(server_.requests().size(), 2u);
}

TEST_F(HttpClientTest, BodyCutShortEndsWithAnError) {
  server_.setScript([this](const test::ScriptedHttpServer::Request& request) {
    server_.send(request.connection, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
    server_.close(request.connection);
  });
  RecordingHandler handler;
  auto exchange = client().stream(HttpRequest::get(url()), handler);
  runUntilEnded(handler);
  EXPECT_FALSE(handler.ok());
  EXPECT_EQ(handler.body, "partial");
  EXPECT_EQ(client().openConnections(), 0u);
}

TEST_F(HttpClientTest, ChunkedBodySentOneByteAtATime) {
  std::string wire =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n";
  server_.setScript([this, wire](const test::ScriptedHttpServer::Request& request) {
    for (char c : wire) server_.send(request.connection, std::string(1, c));
  });
  RecordingHandler handler;
  auto exchange = client().stream(HttpRequest::get(url()), handler);
  runUntilEnded(handler);
  EXPECT_TRUE(handler.ok());
  EXPECT_EQ(handler.body, "abcdefg");
}

TEST_F(HttpClientTest, NoResponseInTimeIsAnError) {
  RecordingHandler handler;
  HttpRequest request = HttpRequest::get(url());
  request.deadlines.response = 200ms;
  auto exchange = client().stream(std::move(request), handler);
  runUntilEnded(handler);
  EXPECT_NE(handler.error().find("no response in time"), std::string::npos) << handler.error();
}

TEST_F(HttpClientTest, StalledBodyIsAnError) {
  server_.setScript([this](const test::ScriptedHttpServer::Request& request) {
    server_.send(request.connection, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
  });
  RecordingHandler handler;
  HttpRequest request = HttpRequest::get(url());
  request.deadlines.response = 200ms;
  auto exchange = client().stream(std::move(request), handler);
  runUntilEnded(handler);
  EXPECT_NE(handler.error().find("stalled"), std::string::npos) << handler.error();
}

TEST_F(HttpClientTest, TotalDeadlineCoversEverything) {
  server_.setScript([this](const test::ScriptedHttpServer::Request& request) {
    server_.send(request.connection, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
  });
  RecordingHandler handler;
  HttpRequest request = HttpRequest::get(url());
  request.deadlines.total = 200ms;
  auto exchange = client().stream(std::move(request), handler);
  runUntilEnded(handler);
  EXPECT_NE(handler.error().find("in time"), std::string::npos) << handler.error();
}

TEST_F(HttpClientTest, RefusedConnectionIsAnError) {
  HttpUrl closed = url();
  closed.port = 1;  // nothing listens on port 1 of the loopback
  RecordingHandler handler;
  auto exchange = client().stream(HttpRequest::get(closed), handler);
  runUntilEnded(handler);
  EXPECT_FALSE(handler.ok());
  EXPECT_FALSE(handler.head.has_value());
}

TEST_F(HttpClientTest, OversizedBodyFailsCleanlyAndClosesTheConnection) {
  answerAll(ok(std::string(2000, 'x')));
  std::optional<Result<HttpResponse>> got;
  auto pending = client().fetch(HttpRequest::get(url()), 1000,
                                [&](Result<HttpResponse> r) { got = std::move(r); });
  ASSERT_TRUE(runner_.runUntil([&] { return got.has_value(); }));
  ASSERT_FALSE(got->ok());
  EXPECT_NE(got->error().detail.find("larger than 1000"), std::string::npos);
  runner_.runFor(50ms);
  EXPECT_EQ(client().idleConnections(), 0u);
}

TEST_F(HttpClientTest, OversizedChunkedBodyFailsToo) {
  server_.setScript([this](const test::ScriptedHttpServer::Request& request) {
    std::string chunk(600, 'y');
    server_.send(request.connection, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 3; ++i) server_.send(request.connection, "258\r\n" + chunk + "\r\n");
  });
  std::optional<Result<HttpResponse>> got;
  auto pending = client().fetch(HttpRequest::get(url()), 1000,
                                [&](Result<HttpResponse> r) { got = std::move(r); });
  ASSERT_TRUE(runner_.runUntil([&] { return got.has_value(); }));
  EXPECT_FALSE(got->ok());
}

TEST_F(HttpClientTest, DroppingTheExchangeCancelsIt) {
  RecordingHandler handler;
  auto exchange = client().stream(HttpRequest::get(url()), handler);
  ASSERT_TRUE(runner_.runUntil([&] { return !server_.requests().empty(); }));
  exchange.reset();
  server_.send(1, ok("late"));
  runner_.runFor(50ms);
  EXPECT_FALSE(handler.ended());
  EXPECT_EQ(client().idleConnections(), 0u);  // a response was still coming: never reused
}

}  // namespace
}  // namespace popgate::http
