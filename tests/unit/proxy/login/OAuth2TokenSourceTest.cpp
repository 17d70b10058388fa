// OAuth2TokenSource on a real loop against a scripted token endpoint: caching until the margin,
// one request however many logins wait, refresh-token rotation saved to the file, failures
// answered to every waiter as [SYS/TEMP] with a short back-off, timeouts and cancellation.

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <sstream>

#include "lib/common/Base64.h"
#include "proxy/login/OAuth2TokenSource.h"
#include "support/LoopRunner.h"
#include "support/ScriptedHttpServer.h"

namespace popgate::login {
namespace {

using namespace std::chrono_literals;
using Request = http::test::ScriptedHttpServer::Request;
using Outcome = std::optional<Result<std::string>>;

std::string httpAnswer(int status, std::string_view body) {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + std::string(body);
}

std::string tokenAnswer(std::string_view token, int expiresIn = 3600,
                        std::string_view refresh = {}) {
  std::string body = R"({"access_token":")" + std::string(token) +
                     R"(","token_type":"Bearer","expires_in":)" + std::to_string(expiresIn);
  if (!refresh.empty()) body += R"(,"refresh_token":")" + std::string(refresh) + "\"";
  return httpAnswer(200, body + "}");
}

class OAuth2TokenSourceTest : public ::testing::Test {
 protected:
  OAuth2TokenSourceTest() : server_(runner_.loop()), client_(runner_.loop(), {}) {
    settings_.tokenUrl = http::parseHttpUrl(server_.url("/oauth2/token")).value();
    settings_.clientId = "popgate";
    settings_.clientSecret = "s3cret";
    settings_.scope = "https://outlook.office365.com/.default";
  }
  ~OAuth2TokenSourceTest() override {
    source_.reset();
    if (!tokenFile_.empty()) ::unlink(tokenFile_.c_str());
  }

  void makeSource(std::shared_ptr<RefreshTokenStore> store = nullptr) {
    source_ = std::make_unique<OAuth2TokenSource>(
        runner_.loop(), client_, std::make_shared<const OAuth2Settings>(settings_),
        std::move(store),
        [this] { return std::chrono::milliseconds(uv_now(runner_.loop())) + skew_; });
  }
  // Every request is answered by `answer(n, request)`, n counting from 1.
  void answer(std::function<std::string(int, const Request&)> answer) {
    server_.setScript([this, answer](const Request& request) {
      server_.send(request.connection,
                   answer(static_cast<int>(server_.requests().size()), request));
    });
  }
  Pending ask(const std::string& identity, Outcome& into) {
    return source_->token(identity, [&into](Result<std::string> r) { into = std::move(r); });
  }
  void wait(const Outcome& outcome) {
    ASSERT_TRUE(runner_.runUntil([&] { return outcome.has_value(); }));
  }
  std::string tokenOf(const std::string& identity) {
    Outcome outcome;
    auto pending = ask(identity, outcome);
    EXPECT_FALSE(outcome.has_value());  // never from inside token()
    EXPECT_TRUE(runner_.runUntil([&] { return outcome.has_value(); }));
    if (!outcome || !outcome->ok()) return outcome ? "error: " + outcome->error().detail : "none";
    return outcome->value();
  }
  std::size_t requests() const { return server_.requests().size(); }

  std::shared_ptr<RefreshTokenStore> storeWith(const std::string& json) {
    tokenFile_ = ::testing::TempDir() + "/popgate-oauth2-" + std::to_string(::getpid()) + ".json";
    std::ofstream(tokenFile_, std::ios::trunc) << json;
    auto store = std::make_shared<RefreshTokenStore>();
    EXPECT_TRUE(store->load(tokenFile_).ok());
    return store;
  }
  std::string fileText() const {
    std::ifstream in(tokenFile_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  imap::test::LoopRunner runner_;
  http::test::ScriptedHttpServer server_;
  http::HttpClient client_;
  OAuth2Settings settings_;
  std::chrono::milliseconds skew_{0};
  std::string tokenFile_;
  std::unique_ptr<OAuth2TokenSource> source_;
};

TEST_F(OAuth2TokenSourceTest, ClientCredentialsTokenIsFetchedOnceAndServesEveryUser) {
  makeSource();
  answer([](int n, const Request&) { return tokenAnswer("tok-" + std::to_string(n)); });
  EXPECT_EQ(tokenOf("john@example.com"), "tok-1");
  EXPECT_EQ(tokenOf("mary@example.com"), "tok-1");
  ASSERT_EQ(requests(), 1u);
  const Request& sent = server_.requests()[0];
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.target, "/oauth2/token");
  EXPECT_EQ(sent.header("Content-Type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(sent.body,
            "grant_type=client_credentials&scope=https%3A%2F%2Foutlook.office365.com%2F.default"
            "&client_id=popgate&client_secret=s3cret");
  EXPECT_EQ(source_->cachedTokens(), 1u);
}

TEST_F(OAuth2TokenSourceTest, TenWaitersShareOneRequest) {
  makeSource();
  server_.setScript([](const Request&) {});  // held until the test answers
  std::vector<Outcome> outcomes(10);
  std::vector<Pending> pending;
  for (int i = 0; i < 10; ++i) pending.push_back(ask("user" + std::to_string(i), outcomes[i]));
  ASSERT_TRUE(runner_.runUntil([&] { return requests() == 1; }));
  runner_.runFor(50ms);
  EXPECT_EQ(requests(), 1u);
  EXPECT_EQ(source_->requestsInFlight(), 1u);
  server_.send(server_.requests()[0].connection, tokenAnswer("shared"));
  ASSERT_TRUE(runner_.runUntil([&] {
    for (const auto& outcome : outcomes) {
      if (!outcome) return false;
    }
    return true;
  }));
  for (const auto& outcome : outcomes) EXPECT_EQ(outcome->value(), "shared");
  EXPECT_EQ(requests(), 1u);
}

TEST_F(OAuth2TokenSourceTest, ExpiredTokenIsAskedForOnceMoreAfterTheMargin) {
  settings_.refreshMargin = 60s;
  makeSource();
  answer([](int n, const Request&) { return tokenAnswer("tok-" + std::to_string(n), 3600); });
  EXPECT_EQ(tokenOf("a"), "tok-1");
  skew_ = 3539s;  // 3600 s less the 60 s margin, not yet reached
  EXPECT_EQ(tokenOf("a"), "tok-1");
  EXPECT_EQ(requests(), 1u);
  skew_ = 3541s;
  Outcome first, second;
  auto a = ask("a", first);
  auto b = ask("b", second);
  wait(first);
  wait(second);
  EXPECT_EQ(first->value(), "tok-2");
  EXPECT_EQ(second->value(), "tok-2");
  EXPECT_EQ(requests(), 2u);
}

TEST_F(OAuth2TokenSourceTest, TokenShorterThanTheMarginIsUsedForHalfItsLife) {
  settings_.refreshMargin = 60s;
  makeSource();
  answer([](int n, const Request&) { return tokenAnswer("tok-" + std::to_string(n), 40); });
  EXPECT_EQ(tokenOf("a"), "tok-1");
  skew_ = 19s;
  EXPECT_EQ(tokenOf("a"), "tok-1");
  skew_ = 21s;
  EXPECT_EQ(tokenOf("a"), "tok-2");
}

TEST_F(OAuth2TokenSourceTest, RefreshTokenGrantSavesTheRotatedTokenToTheFile) {
  settings_.grant = OAuth2Settings::Grant::RefreshToken;
  auto store = storeWith(R"({"john@example.com": "r-john-1", "mary@example.com": "r-mary"})");
  makeSource(store);
  answer([](int n, const Request& request) {
    if (request.body.find("r-john-1") != std::string::npos) {
      return tokenAnswer("at-john-" + std::to_string(n), 3600, "r-john-2");
    }
    return tokenAnswer("at-other-" + std::to_string(n), 3600);
  });
  EXPECT_EQ(tokenOf("john@example.com"), "at-john-1");
  EXPECT_NE(server_.requests()[0].body.find("grant_type=refresh_token&refresh_token=r-john-1&"),
            std::string::npos);
  EXPECT_EQ(store->get("john@example.com"), "r-john-2");
  EXPECT_NE(fileText().find("\"r-john-2\""), std::string::npos) << fileText();
  EXPECT_NE(fileText().find("\"r-mary\""), std::string::npos);
  EXPECT_EQ(fileText().find("r-john-1"), std::string::npos);
  ASSERT_TRUE(store->reload().ok());
  EXPECT_EQ(store->get("john@example.com"), "r-john-2");
  // Per user: Mary's token is her own request, and John's is still cached.
  EXPECT_EQ(tokenOf("mary@example.com"), "at-other-2");
  EXPECT_EQ(tokenOf("john@example.com"), "at-john-1");
  // Refused upstream: the next login uses the rotated refresh token.
  source_->invalidate("john@example.com", "at-john-1");
  EXPECT_EQ(tokenOf("john@example.com"), "at-other-3");
  EXPECT_NE(server_.requests()[2].body.find("refresh_token=r-john-2&"), std::string::npos);
}

TEST_F(OAuth2TokenSourceTest, UserWithoutARefreshTokenIsPermanentWithoutARequest) {
  settings_.grant = OAuth2Settings::Grant::RefreshToken;
  makeSource(storeWith(R"({"john@example.com": "r1"})"));
  Outcome outcome;
  auto pending = ask("nobody@example.com", outcome);
  EXPECT_FALSE(outcome.has_value());
  wait(outcome);
  ASSERT_FALSE(outcome->ok());
  EXPECT_EQ(outcome->error().code, ErrorCode::Permanent);
  EXPECT_EQ(requests(), 0u);
}

TEST_F(OAuth2TokenSourceTest, ErrorAnswerIsTemporaryForEveryWaiterThenBacksOffThenRecovers) {
  settings_.failureBackoff = 5s;
  makeSource();
  bool broken = true;
  answer([&broken](int, const Request&) {
    return broken ? httpAnswer(401, R"({"error":"invalid_client","error_description":"bad"})")
                  : tokenAnswer("fixed");
  });
  std::vector<Outcome> outcomes(3);
  std::vector<Pending> pending;
  for (auto& outcome : outcomes) pending.push_back(ask("x", outcome));
  for (auto& outcome : outcomes) {
    wait(outcome);
    ASSERT_FALSE(outcome->ok());
    EXPECT_EQ(outcome->error().code, ErrorCode::Temporary);
    EXPECT_NE(outcome->error().detail.find("HTTP 401 invalid_client (bad)"), std::string::npos)
        << outcome->error().detail;
  }
  EXPECT_EQ(requests(), 1u);
  broken = false;
  skew_ = 4s;  // within the back-off: the same answer, no request
  EXPECT_NE(tokenOf("x").find("invalid_client"), std::string::npos);
  EXPECT_EQ(requests(), 1u);
  skew_ = 6s;
  EXPECT_EQ(tokenOf("x"), "fixed");
  EXPECT_EQ(requests(), 2u);
}

TEST_F(OAuth2TokenSourceTest, ServerErrorAndMalformedJsonAreTemporary) {
  settings_.failureBackoff = 0ms;
  makeSource();
  answer([](int n, const Request&) {
    return n == 1 ? httpAnswer(503, "busy") : httpAnswer(200, R"({"access_token": "abc",)");
  });
  EXPECT_EQ(tokenOf("x"), "error: OAuth2 token endpoint: HTTP 503");
  std::string second = tokenOf("x");
  EXPECT_NE(second.find("not a JSON object"), std::string::npos) << second;
  EXPECT_EQ(requests(), 2u);
}

TEST_F(OAuth2TokenSourceTest, HangingEndpointTimesOutAsTemporary) {
  settings_.timeout = 200ms;
  makeSource();
  server_.setScript([](const Request&) {});
  Outcome outcome;
  auto pending = ask("x", outcome);
  wait(outcome);
  ASSERT_FALSE(outcome->ok());
  EXPECT_EQ(outcome->error().code, ErrorCode::Temporary);
  EXPECT_EQ(source_->requestsInFlight(), 0u);
}

TEST_F(OAuth2TokenSourceTest, CancellingOneWaiterLeavesTheOthersAndTheRequest) {
  makeSource();
  server_.setScript([](const Request&) {});
  Outcome cancelled, kept;
  auto a = ask("x", cancelled);
  auto b = ask("x", kept);
  ASSERT_TRUE(runner_.runUntil([&] { return requests() == 1; }));
  a.reset();
  server_.send(server_.requests()[0].connection, tokenAnswer("t"));
  wait(kept);
  EXPECT_EQ(kept->value(), "t");
  runner_.runFor(20ms);
  EXPECT_FALSE(cancelled.has_value());
}

TEST_F(OAuth2TokenSourceTest, AnswerNobodyWaitsForAnymoreIsStillCached) {
  makeSource();
  server_.setScript([](const Request&) {});
  Outcome outcome;
  auto pending = ask("x", outcome);
  ASSERT_TRUE(runner_.runUntil([&] { return requests() == 1; }));
  pending.reset();
  server_.send(server_.requests()[0].connection, tokenAnswer("late"));
  ASSERT_TRUE(runner_.runUntil([&] { return source_->cachedTokens() == 1; }));
  EXPECT_FALSE(outcome.has_value());
  answer([](int, const Request&) { return tokenAnswer("other"); });
  EXPECT_EQ(tokenOf("x"), "late");
  EXPECT_EQ(requests(), 1u);
}

TEST_F(OAuth2TokenSourceTest, CancellingACachedAnswerBeforeItRunsSilencesIt) {
  makeSource();
  answer([](int, const Request&) { return tokenAnswer("t"); });
  EXPECT_EQ(tokenOf("x"), "t");
  Outcome outcome;
  auto pending = ask("x", outcome);
  pending.reset();
  runner_.runFor(20ms);
  EXPECT_FALSE(outcome.has_value());
}

TEST_F(OAuth2TokenSourceTest, InvalidateDropsOnlyTheTokenThatWasRefused) {
  makeSource();
  answer([](int n, const Request&) { return tokenAnswer("tok-" + std::to_string(n)); });
  EXPECT_EQ(tokenOf("x"), "tok-1");
  source_->invalidate("x", "some-older-token");
  EXPECT_EQ(tokenOf("x"), "tok-1");
  source_->invalidate("x", "tok-1");
  EXPECT_EQ(tokenOf("x"), "tok-2");
}

TEST_F(OAuth2TokenSourceTest, BasicClientAuthSendsTheEncodedCredentialsInAHeader) {
  settings_.clientAuth = OAuth2Settings::ClientAuth::Basic;
  settings_.clientId = "pop:gate";
  settings_.clientSecret = "s e/cret";
  makeSource();
  answer([](int, const Request&) { return tokenAnswer("t"); });
  EXPECT_EQ(tokenOf("x"), "t");
  const Request& sent = server_.requests().at(0);
  EXPECT_EQ(sent.header("Authorization"), "Basic " + encodeBase64("pop%3Agate:s+e%2Fcret"));
  EXPECT_EQ(sent.body.find("client_id"), std::string::npos) << sent.body;
  EXPECT_EQ(sent.body.find("client_secret"), std::string::npos) << sent.body;
}

TEST_F(OAuth2TokenSourceTest, CacheIsBoundedAndDropsTheOldestFirst) {
  settings_.grant = OAuth2Settings::Grant::RefreshToken;
  settings_.maxCachedTokens = 2;
  makeSource(storeWith(R"({"a": "ra", "b": "rb", "c": "rc"})"));
  answer([](int n, const Request&) { return tokenAnswer("tok-" + std::to_string(n)); });
  EXPECT_EQ(tokenOf("a"), "tok-1");
  EXPECT_EQ(tokenOf("b"), "tok-2");
  EXPECT_EQ(tokenOf("c"), "tok-3");
  EXPECT_EQ(source_->cachedTokens(), 2u);
  EXPECT_EQ(tokenOf("c"), "tok-3");
  EXPECT_EQ(tokenOf("b"), "tok-2");
  EXPECT_EQ(tokenOf("a"), "tok-4");  // evicted
}

TEST_F(OAuth2TokenSourceTest, DestroyingTheSourceSilencesItsWaiters) {
  makeSource();
  server_.setScript([](const Request&) {});
  Outcome outcome;
  auto pending = ask("x", outcome);
  ASSERT_TRUE(runner_.runUntil([&] { return requests() == 1; }));
  source_.reset();
  runner_.runFor(20ms);
  EXPECT_FALSE(outcome.has_value());
  pending.reset();  // after its source: harmless
}

TEST_F(OAuth2TokenSourceTest, AWaiterMayDestroyTheSourceFromItsCallback) {
  makeSource();
  server_.setScript([](const Request&) {});
  Outcome second;
  Pending b;
  auto a = source_->token("x", [this](Result<std::string>) { source_.reset(); });
  b = ask("x", second);
  ASSERT_TRUE(runner_.runUntil([&] { return requests() == 1; }));
  server_.send(server_.requests()[0].connection, tokenAnswer("t"));
  ASSERT_TRUE(runner_.runUntil([&] { return source_ == nullptr; }));
  runner_.runFor(20ms);
  EXPECT_FALSE(second.has_value());
}

TEST_F(OAuth2TokenSourceTest, LogsNeverHoldASecretAndEscapeTheEndpointsWords) {
  std::ostringstream lines;
  auto previous = spdlog::default_logger();
  auto capture = std::make_shared<spdlog::logger>(
      "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(lines));
  capture->set_level(spdlog::level::trace);
  spdlog::set_default_logger(capture);
  settings_.grant = OAuth2Settings::Grant::RefreshToken;
  settings_.failureBackoff = 0ms;
  makeSource(storeWith(R"({"john@example.com": "r-john-1"})"));
  answer([](int n, const Request&) {
    return n == 1 ? tokenAnswer("at-secret", 3600, "r-john-2")
                  : httpAnswer(400,
                               R"({"error":"invalid_grant\u001b[31m","error_description":"x\ny"})");
  });
  EXPECT_EQ(tokenOf("john@example.com"), "at-secret");
  source_->invalidate("john@example.com", "at-secret");
  EXPECT_NE(tokenOf("john@example.com").find("invalid_grant"), std::string::npos);
  spdlog::set_default_logger(previous);
  std::string log = lines.str();
  for (const char* secret : {"s3cret", "r-john-1", "r-john-2", "at-secret"}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << secret << " in " << log;
  }
  EXPECT_EQ(log.find('\x1b'), std::string::npos) << log;
  EXPECT_NE(log.find("invalid_grant\\x1b[31m (x\\x0ay)"), std::string::npos) << log;
  EXPECT_NE(log.find("refresh token of john@example.com rotated and saved"), std::string::npos);
}

}  // namespace
}  // namespace popgate::login
