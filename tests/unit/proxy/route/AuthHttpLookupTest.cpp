// AuthHttpLookup against a scripted auth_http service on a real loop: answers, refusals with
// Auth-Wait, the cache, a hanging or failing service, malformed answers, and what arrives.

#include <gtest/gtest.h>

#include <optional>

#include "lib/http/HttpClient.h"
#include "proxy/route/AuthHttpLookup.h"
#include "support/LoopRunner.h"
#include "support/ScriptedHttpServer.h"

namespace popgate::route {
namespace {

using namespace std::chrono_literals;
using Request = http::test::ScriptedHttpServer::Request;

std::string answer(std::string_view headers, std::string_view status = "200 OK") {
  return "HTTP/1.1 " + std::string(status) + "\r\n" + std::string(headers) +
         "Content-Length: 0\r\n\r\n";
}

const std::string kOk = answer("Auth-Status: OK\r\nAuth-Server: 127.0.0.1\r\nAuth-Port: 1110\r\n");

class AuthHttpLookupTest : public ::testing::Test {
 protected:
  AuthHttpLookupTest() : server_(runner_.loop()), client_(runner_.loop(), {}) {}

  AuthHttpLookup& lookup(std::chrono::milliseconds timeout = 2000ms) {
    if (!lookup_) {
      auto settings = std::make_shared<AuthHttpSettings>();
      settings->url = http::parseHttpUrl(server_.url("/auth?x=1")).value();
      settings->timeout = timeout;
      lookup_ = std::make_unique<AuthHttpLookup>(runner_.loop(), client_, settings);
      lookup_->setClock([this] { return now_; });
    }
    return *lookup_;
  }
  void answerAll(std::string response) {
    server_.setScript(
        [this, response](const Request& request) { server_.send(request.connection, response); });
  }
  Result<AuthHttpAnswer> run(AuthHttpQuery query) {
    std::optional<Result<AuthHttpAnswer>> got;
    Pending pending =
        lookup().lookup(std::move(query), [&](Result<AuthHttpAnswer> r) { got = std::move(r); });
    EXPECT_FALSE(got.has_value());  // never from inside lookup()
    EXPECT_TRUE(runner_.runUntil([&] { return got.has_value(); }));
    if (!got) return Error{ErrorCode::Invalid, "no answer"};
    return std::move(*got);
  }
  static AuthHttpQuery plain(std::string user, std::string pass) {
    AuthHttpQuery q;
    q.user = std::move(user);
    q.pass = std::move(pass);
    q.clientIp = "192.0.2.7";
    return q;
  }

  imap::test::LoopRunner runner_;
  http::test::ScriptedHttpServer server_;
  http::HttpClient client_;
  std::unique_ptr<AuthHttpLookup> lookup_;
  AuthHttpCache::Clock::time_point now_{};
};

TEST_F(AuthHttpLookupTest, OkAnswerAndTheRequestNginxWouldSend) {
  answerAll(
      answer("Auth-Status: OK\r\nAuth-Server: 127.0.0.1\r\nAuth-Port: 1110\r\n"
             "Auth-User: bob@store\r\nAuth-Pass: upstream\r\n"));
  auto got = run(plain("bob", "bob pass"));
  ASSERT_TRUE(got.ok()) << got.error().detail;
  EXPECT_TRUE(got.value().ok);
  EXPECT_EQ(got.value().server, "127.0.0.1");
  EXPECT_EQ(got.value().port, 1110);
  EXPECT_EQ(got.value().user, "bob@store");
  EXPECT_EQ(got.value().pass, "upstream");
  const Request& sent = server_.requests().at(0);
  EXPECT_EQ(sent.method, "GET");
  EXPECT_EQ(sent.target, "/auth?x=1");
  EXPECT_EQ(sent.header("Auth-Method"), "plain");
  EXPECT_EQ(sent.header("Auth-User"), "bob");
  EXPECT_EQ(sent.header("Auth-Pass"), "bob%20pass");
  EXPECT_EQ(sent.header("Auth-Protocol"), "pop3");
  EXPECT_EQ(sent.header("Auth-Login-Attempt"), "1");
  EXPECT_EQ(sent.header("Client-IP"), "192.0.2.7");
  EXPECT_EQ(sent.head.find("Auth-Salt"), std::string::npos);
  EXPECT_EQ(sent.head.find("Client-Host"), std::string::npos);
}

TEST_F(AuthHttpLookupTest, EscapesSpacesPercentAndControlBytesButNotEightBit) {
  answerAll(kOk);
  auto got = run(plain("j\xc3\xb6rg 100%", "p\xc3\xa4ss w\x01rd%"));
  ASSERT_TRUE(got.ok());
  const Request& sent = server_.requests().at(0);
  EXPECT_EQ(sent.header("Auth-User"), "j\xc3\xb6rg%20100%25");
  EXPECT_EQ(sent.header("Auth-Pass"), "p\xc3\xa4ss%20w%01rd%25");
}

TEST_F(AuthHttpLookupTest, RefusalWithTextAndWaitIsAValue) {
  answerAll(answer("Auth-Status: Invalid login or password\r\nAuth-Wait: 3\r\n"));
  auto got = run(plain("bob", "wrong"));
  ASSERT_TRUE(got.ok()) << got.error().detail;
  EXPECT_FALSE(got.value().ok);
  EXPECT_EQ(got.value().errorText, "Invalid login or password");
  EXPECT_EQ(got.value().wait, 3s);
}

TEST_F(AuthHttpLookupTest, CacheHitMissExpiryAndNegative) {
  answerAll(kOk);
  ASSERT_TRUE(run(plain("alice", "pw")).value().ok);
  ASSERT_TRUE(run(plain("alice", "pw")).value().ok);  // hit
  EXPECT_EQ(server_.requests().size(), 1u);
  ASSERT_TRUE(run(plain("alice", "other")).ok());  // another password: miss
  EXPECT_EQ(server_.requests().size(), 2u);
  now_ += 61s;  // the positive TTL (60 s) is over
  ASSERT_TRUE(run(plain("alice", "pw")).ok());
  EXPECT_EQ(server_.requests().size(), 3u);

  answerAll(answer("Auth-Status: nope\r\n"));
  EXPECT_FALSE(run(plain("mallory", "x")).value().ok);
  EXPECT_FALSE(run(plain("mallory", "x")).value().ok);  // negative hit
  EXPECT_EQ(server_.requests().size(), 4u);
  now_ += 11s;  // the negative TTL (10 s) is over
  EXPECT_FALSE(run(plain("mallory", "x")).value().ok);
  EXPECT_EQ(server_.requests().size(), 5u);
}

TEST_F(AuthHttpLookupTest, ApopIsNeverCachedAndNeedsAuthPass) {
  answerAll(
      answer("Auth-Status: OK\r\nAuth-Server: 127.0.0.1\r\nAuth-Port: 1110\r\n"
             "Auth-Pass: plain-password\r\n"));
  AuthHttpQuery q = plain("alice", "c4c9334bac560ecc979e58001b3e22fb");
  q.method = "apop";
  q.salt = "<1896.697170952@dbc.mtview.ca.us>";
  ASSERT_TRUE(run(q).value().ok);
  ASSERT_TRUE(run(q).value().ok);
  EXPECT_EQ(server_.requests().size(), 2u);
  EXPECT_EQ(server_.requests().at(0).header("Auth-Salt"), "<1896.697170952@dbc.mtview.ca.us>");
  EXPECT_EQ(server_.requests().at(0).header("Auth-Method"), "apop");
}

TEST_F(AuthHttpLookupTest, HangingServiceTimesOutAsTemporary) {
  lookup(300ms);  // the script answers nothing
  auto got = run(plain("alice", "pw"));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ErrorCode::Temporary);
}

TEST_F(AuthHttpLookupTest, ServerErrorIsTemporaryAndNotCached) {
  answerAll(answer("Auth-Status: OK\r\nAuth-Server: 127.0.0.1\r\nAuth-Port: 1110\r\n",
                   "500 Internal Server Error"));
  for (int i = 0; i < 2; ++i) {
    auto got = run(plain("alice", "pw"));
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error().code, ErrorCode::Temporary);
    EXPECT_NE(got.error().detail.find("500"), std::string::npos) << got.error().detail;
  }
  EXPECT_EQ(server_.requests().size(), 2u);
}

TEST_F(AuthHttpLookupTest, MalformedAnswersAreTemporary) {
  const std::string cases[] = {
      answer("Auth-Server: 127.0.0.1\r\nAuth-Port: 1110\r\n"),                        // no status
      answer("Auth-Status: OK\r\nAuth-Server: mail.example\r\nAuth-Port: 1110\r\n"),  // a name
      answer("Auth-Status: OK\r\nAuth-Server: 127.0.0.1\r\n"),                        // no port
      "this is not HTTP\r\n\r\n",
  };
  for (const auto& wire : cases) {
    SCOPED_TRACE(wire);
    answerAll(wire);
    auto got = run(plain("alice", "pw"));
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error().code, ErrorCode::Temporary);
  }
}

TEST_F(AuthHttpLookupTest, ServiceDownIsTemporary) {
  auto settings = std::make_shared<AuthHttpSettings>();
  settings->url = http::parseHttpUrl("http://127.0.0.1:1/auth").value();
  lookup_ = std::make_unique<AuthHttpLookup>(runner_.loop(), client_, settings);
  auto got = run(plain("alice", "pw"));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ErrorCode::Temporary);
}

TEST_F(AuthHttpLookupTest, WaitStatusAsksAgainThenGivesUp) {
  int asked = 0;
  server_.setScript([&](const Request& request) {
    ++asked;
    server_.send(request.connection,
                 asked == 1 ? answer("Auth-Status: WAIT\r\nAuth-Wait: 0\r\n") : kOk);
  });
  auto got = run(plain("alice", "pw"));
  ASSERT_TRUE(got.ok()) << got.error().detail;
  EXPECT_TRUE(got.value().ok);
  EXPECT_EQ(asked, 2);
  EXPECT_EQ(server_.requests().at(1).header("Auth-Login-Attempt"), "1");

  answerAll(answer("Auth-Status: WAIT\r\n"));
  auto never = run(plain("bob", "pw"));
  ASSERT_FALSE(never.ok());
  EXPECT_EQ(never.error().code, ErrorCode::Temporary);
  EXPECT_EQ(server_.requests().size(), 2u + 1u + AuthHttpLookup::kMaxWaitRounds);
}

TEST_F(AuthHttpLookupTest, DroppingTheHandleCancels) {
  bool fired = false;
  Pending pending =
      lookup().lookup(plain("alice", "pw"), [&](Result<AuthHttpAnswer>) { fired = true; });
  ASSERT_TRUE(runner_.runUntil([&] { return !server_.requests().empty(); }));
  pending.reset();
  server_.send(1, kOk);
  runner_.runFor(50ms);
  EXPECT_FALSE(fired);
  // A cache hit that is dropped before its turn never fires either.
  answerAll(kOk);
  ASSERT_TRUE(run(plain("bob", "pw")).ok());
  Pending hit = lookup().lookup(plain("bob", "pw"), [&](Result<AuthHttpAnswer>) { fired = true; });
  hit.reset();
  runner_.runFor(20ms);
  EXPECT_FALSE(fired);
}

TEST_F(AuthHttpLookupTest, NoSecretInErrorDetails) {
  answerAll(
      answer("Auth-Status: OK\r\nAuth-Server: 127.0.0.1\r\nAuth-Port: 1110\r\n"
             "Auth-Pass: " +
             std::string(2000, 'S') + "\r\n"));
  auto got = run(plain("alice", "hunter2-secret"));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().detail.find("hunter2"), std::string::npos);
  EXPECT_EQ(got.error().detail.find("SSS"), std::string::npos);
}

}  // namespace
}  // namespace popgate::route
