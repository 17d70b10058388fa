// ImapConnection over a fake ByteStream: tags, pipelining, continuation requests, routing of
// untagged data and literals, failures. The loop only serves the timers.

#include <gmock/gmock.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "lib/imap/ImapConnection.h"
#include "support/LoopRunner.h"

namespace popgate::imap::test {
namespace {

using ::testing::ElementsAre;

class FakeStream final : public net::ByteStream {
 public:
  void setHandler(net::StreamHandler* handler) override { handler_ = handler; }
  void startReading() override { reading = true; }
  void stopReading() override { reading = false; }
  void write(std::string bytes) override {
    written += bytes;
    // Like TcpStream when uv_write fails at once: the handler hears of it inside write().
    if (failWrites && handler_) handler_->onClosed(Error{ErrorCode::Temporary, "write failed"});
  }
  std::size_t queuedBytes() const override { return 0; }
  void closeAfterFlush() override {}
  std::string peerAddress() const override { return "fake"; }

  void receive(std::string_view bytes) { handler_->onData(bytes); }
  void close() { handler_->onClosed(Ok{}); }

  std::string written;
  bool reading = false;
  bool failWrites = false;

 private:
  net::StreamHandler* handler_ = nullptr;
};

class ImapConnectionTest : public ::testing::Test, private ImapConnection::Listener {
 protected:
  ImapConnectionTest() {
    auto stream = std::make_unique<FakeStream>();
    stream_ = stream.get();
    connection_ = std::make_unique<ImapConnection>(runner_.loop(), std::move(stream),
                                                   std::chrono::milliseconds(300),
                                                   static_cast<ImapConnection::Listener&>(*this));
  }

  void greet() {
    connection_->start([this](Result<ImapHead> greeting) {
      ASSERT_TRUE(greeting);
      greeted_ = true;
    });
    stream_->receive("* OK ready\r\n");
    ASSERT_TRUE(greeted_);
    ASSERT_THAT(log_, ElementsAre("listener saw * OK ready"));
    log_.clear();
  }

  // A command that logs its completion as "<name> <keyword or error>".
  ImapCommand command(std::vector<std::string> parts, std::string name) {
    ImapCommand c;
    c.parts = std::move(parts);
    c.onUntagged = [this, name](const ImapResponse& response, const ImapHead&) {
      log_.push_back(name + " saw " + response.segments[0]);
    };
    c.onDone = [this, name](Result<ImapHead> reply) {
      EXPECT_FALSE(inSend_) << name << " completed from inside send()";
      log_.push_back(name + " " + (reply ? reply.value().keyword : "error"));
    };
    return c;
  }

  void send(ImapCommand c) {
    inSend_ = true;
    connection_->send(std::move(c));
    inSend_ = false;
  }

  void onUntagged(const ImapResponse& response, const ImapHead&) override {
    log_.push_back("listener saw " + response.segments[0]);
  }

  LoopRunner runner_;
  FakeStream* stream_ = nullptr;
  std::unique_ptr<ImapConnection> connection_;
  std::vector<std::string> log_;
  bool greeted_ = false;
  bool inSend_ = false;
};

TEST_F(ImapConnectionTest, PipelinesWithIncreasingTags) {
  greet();
  send(command({"NOOP"}, "a"));
  send(command({"SELECT \"INBOX\""}, "b"));
  EXPECT_EQ(stream_->written, "p1 NOOP\r\np2 SELECT \"INBOX\"\r\n");
  stream_->receive("* 2 EXISTS\r\np1 OK done\r\n* 3 EXISTS\r\np2 NO nope\r\n");
  EXPECT_THAT(log_, ElementsAre("listener saw * 2 EXISTS", "a saw * 2 EXISTS", "a OK",
                                "listener saw * 3 EXISTS", "b saw * 3 EXISTS", "b NO"));
}

TEST_F(ImapConnectionTest, LiteralWaitsForContinuationAndHoldsBackLaterCommands) {
  greet();
  send(command({"LOGIN {4}\r\n", "user {2}\r\n", "pw"}, "login"));
  send(command({"NOOP"}, "noop"));
  EXPECT_EQ(stream_->written, "p1 LOGIN {4}\r\n");
  stream_->receive("+ OK\r\n");
  EXPECT_EQ(stream_->written, "p1 LOGIN {4}\r\nuser {2}\r\n");
  stream_->receive("+ go on\r\n");
  EXPECT_EQ(stream_->written, "p1 LOGIN {4}\r\nuser {2}\r\npw\r\np2 NOOP\r\n");
  stream_->receive("p1 OK\r\np2 OK\r\n");
  EXPECT_THAT(log_, ElementsAre("login OK", "noop OK"));
}

TEST_F(ImapConnectionTest, NoInsteadOfContinuationDropsTheRestOfThatCommand) {
  greet();
  send(command({"LOGIN {4}\r\n", "user \"pw\""}, "login"));
  send(command({"NOOP"}, "noop"));
  stream_->receive("p1 NO [LIMIT] literal too big\r\n");
  EXPECT_EQ(stream_->written, "p1 LOGIN {4}\r\np2 NOOP\r\n");
  stream_->receive("p2 OK\r\n");
  EXPECT_THAT(log_, ElementsAre("login NO", "noop OK"));
}

TEST_F(ImapConnectionTest, LiteralsGoToTheOldestCommand) {
  greet();
  std::string streamed;
  ImapCommand fetch = command({"UID FETCH 7 (BODY.PEEK[])"}, "fetch");
  fetch.onLiteral = [](const ImapResponse&, std::uint64_t size) {
    EXPECT_EQ(size, 5u);
    return LiteralMode::Stream;
  };
  fetch.onLiteralData = [&](std::string_view bytes) { streamed += bytes; };
  fetch.onLiteralEnd = [&] { log_.push_back("literal end"); };
  send(std::move(fetch));
  send(command({"NOOP"}, "noop"));
  stream_->receive("* 1 FETCH (UID 7 BODY[] {5}\r\nhel");
  stream_->receive("lo)\r\np1 OK\r\np2 OK\r\n");
  EXPECT_EQ(streamed, "hello");
  EXPECT_THAT(log_, ElementsAre("literal end", "listener saw * 1 FETCH (UID 7 BODY[] {5}",
                                "fetch saw * 1 FETCH (UID 7 BODY[] {5}", "fetch OK", "noop OK"));
}

TEST_F(ImapConnectionTest, UnknownTagFailsEverything) {
  greet();
  send(command({"NOOP"}, "a"));
  send(command({"NOOP"}, "b"));
  stream_->receive("x9 OK who?\r\n");
  EXPECT_THAT(log_, ElementsAre("a error", "b error"));
}

TEST_F(ImapConnectionTest, ClosedStreamFailsPendingCommandsInOrder) {
  greet();
  send(command({"NOOP"}, "a"));
  send(command({"NOOP"}, "b"));
  stream_->close();
  EXPECT_THAT(log_, ElementsAre("a error", "b error"));
}

TEST_F(ImapConnectionTest, CommandAfterFailureFailsFromTheLoop) {
  greet();
  stream_->close();
  send(command({"NOOP"}, "late"));
  EXPECT_TRUE(log_.empty());
  ASSERT_TRUE(runner_.runUntil([&] { return !log_.empty(); }));
  EXPECT_THAT(log_, ElementsAre("late error"));
  EXPECT_EQ(stream_->written, "");
}

TEST_F(ImapConnectionTest, SilenceTimesOut) {
  greet();
  send(command({"NOOP"}, "a"));
  // Loop time on both sides: the 300 ms timer always runs before the 2 s limit is checked,
  // however long the machine stalls in between.
  ASSERT_TRUE(runner_.runUntil([&] { return !log_.empty(); }, std::chrono::seconds(2)));
  EXPECT_THAT(log_, ElementsAre("a error"));
}

TEST_F(ImapConnectionTest, PausedReadingDoesNotTimeOut) {
  greet();
  send(command({"NOOP"}, "a"));
  connection_->pauseReading();
  EXPECT_FALSE(stream_->reading);
  runner_.runFor(std::chrono::milliseconds(600));
  EXPECT_TRUE(log_.empty());
  connection_->resumeReading();
  EXPECT_TRUE(stream_->reading);
  stream_->receive("p1 OK\r\n");
  EXPECT_THAT(log_, ElementsAre("a OK"));
}

TEST_F(ImapConnectionTest, GreetingMustBeUntaggedStatus) {
  std::optional<Result<ImapHead>> greeting;
  connection_->start([&](Result<ImapHead> result) { greeting = std::move(result); });
  stream_->receive("a1 OK hello\r\n");
  ASSERT_TRUE(greeting);
  EXPECT_FALSE(*greeting);
}

TEST_F(ImapConnectionTest, WriteFailingInsideSendCompletesLater) {
  greet();
  stream_->failWrites = true;
  send(command({"NOOP"}, "a"));
  runner_.runUntil([&] { return !log_.empty(); });
  EXPECT_THAT(log_, ElementsAre("a error"));
}

TEST_F(ImapConnectionTest, WriteFailingWhilePipeliningAfterContinuation) {
  greet();
  send(command({"LOGIN {2}\r\n", "pw"}, "login"));
  send(command({"NOOP"}, "a"));
  send(command({"NOOP"}, "b"));
  stream_->failWrites = true;
  stream_->receive("+ OK\r\n");
  runner_.runUntil([&] { return log_.size() == 3; });
  EXPECT_THAT(log_, ElementsAre("login error", "a error", "b error"));
}

// An AUTHENTICATE whose continuation handler records each challenge and answers from a list.
ImapCommand sasl(std::vector<std::string>& challenges, std::vector<std::string> answers) {
  ImapCommand c;
  c.parts = {"AUTHENTICATE XOAUTH2"};
  c.onContinuation = [&challenges, answers, next = std::size_t{0}](std::string_view text) mutable {
    challenges.emplace_back(text);
    return next < answers.size() ? answers[next++] : std::string("*");
  };
  return c;
}

TEST_F(ImapConnectionTest, SaslContinuationsGoToTheCommandAndItsLinesBack) {
  greet();
  std::vector<std::string> challenges;
  ImapCommand auth = sasl(challenges, {"dXNlcj1h", ""});
  auth.onDone = [this](Result<ImapHead> reply) {
    log_.push_back("auth " + (reply ? reply.value().keyword : "error"));
  };
  send(std::move(auth));
  send(command({"NOOP"}, "noop"));
  // RFC 3501 §6.2.2: every line until the tagged answer belongs to the exchange.
  EXPECT_EQ(stream_->written, "p1 AUTHENTICATE XOAUTH2\r\n");
  stream_->receive("+ \r\n");
  EXPECT_EQ(stream_->written, "p1 AUTHENTICATE XOAUTH2\r\ndXNlcj1h\r\n");
  stream_->receive("+ eyJzdGF0dXMiOiI0MDEifQ==\r\n");
  EXPECT_EQ(stream_->written, "p1 AUTHENTICATE XOAUTH2\r\ndXNlcj1h\r\n\r\n");
  EXPECT_THAT(challenges, ElementsAre("", "eyJzdGF0dXMiOiI0MDEifQ=="));
  stream_->receive("p1 NO [AUTHENTICATIONFAILED] nope\r\n");
  EXPECT_EQ(stream_->written, "p1 AUTHENTICATE XOAUTH2\r\ndXNlcj1h\r\n\r\np2 NOOP\r\n");
  stream_->receive("p2 OK\r\n");
  EXPECT_THAT(log_, ElementsAre("auth NO", "noop OK"));
}

TEST_F(ImapConnectionTest, SaslCommandWaitsBehindAnEarlierLiteral) {
  greet();
  std::vector<std::string> challenges;
  send(command({"LOGIN {2}\r\n", "pw"}, "login"));
  send(sasl(challenges, {"aGk="}));
  EXPECT_EQ(stream_->written, "p1 LOGIN {2}\r\n");
  stream_->receive("+ OK\r\n");  // the literal's, not the SASL exchange's
  EXPECT_TRUE(challenges.empty());
  EXPECT_EQ(stream_->written, "p1 LOGIN {2}\r\npw\r\np2 AUTHENTICATE XOAUTH2\r\n");
  stream_->receive("+ \r\n");
  EXPECT_THAT(challenges, ElementsAre(""));
  EXPECT_TRUE(stream_->written.ends_with("p2 AUTHENTICATE XOAUTH2\r\naGk=\r\n"));
}

TEST_F(ImapConnectionTest, TraceHidesTheInitialResponseAndEverySaslLine) {
  std::ostringstream trace;
  auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>(
      "trace", std::make_shared<spdlog::sinks::ostream_sink_st>(trace));
  logger->set_level(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  greet();
  std::vector<std::string> challenges;
  ImapCommand auth = sasl(challenges, {"c2VjcmV0LXNhc2wtbGluZQ==", "AQ=="});
  auth.parts = {"AUTHENTICATE OAUTHBEARER bixhPWFsaWNlLAFhdXRoPUJlYXJlciBzM2NyZXQBAQ=="};
  send(std::move(auth));
  stream_->receive("+ eyJzdGF0dXMiOiI0MDEifQ==\r\n+ \r\np1 NO failed\r\n");
  spdlog::set_default_logger(previous);
  std::string text = trace.str();
  EXPECT_THAT(text, ::testing::HasSubstr("C: p1 AUTHENTICATE OAUTHBEARER ***"));
  EXPECT_THAT(text, ::testing::HasSubstr("S: + eyJzdGF0dXMiOiI0MDEifQ=="));
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 7) << text;  // greeting, 3 C:, 3 S:
  for (const char* secret : {"bixhPWFsaWNl", "c2VjcmV0", "AQ=="}) {
    EXPECT_THAT(text, ::testing::Not(::testing::HasSubstr(secret))) << text;
  }
  std::size_t hidden = 0;
  for (std::size_t at = text.find("C: ***"); at != std::string::npos;
       at = text.find("C: ***", at + 1)) {
    ++hidden;
  }
  EXPECT_EQ(hidden, 2u) << text;
}

}  // namespace
}  // namespace popgate::imap::test
