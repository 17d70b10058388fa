#pragma once
// The JmapMailbox tests' fixture: a fake JMAP server on a scripted HTTP server on the test's
// loop, a mailbox on it, and helpers that run the loop until an operation ends.

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "backends/jmap/FakeJmapServer.h"
#include "backends/jmap/JmapMailbox.h"
#include "fakes/MessageLists.h"
#include "support/LoopRunner.h"

namespace popgate::jmap {

using namespace std::chrono_literals;
using backends::MessageRef;

struct Sink final : backends::BodySink {
  int starts = 0;
  std::string data;
  std::optional<Status> end;
  std::function<void()> afterData;
  void onBodyStart() override { ++starts; }
  void onBodyData(std::string_view bytes) override {
    data.append(bytes);
    if (afterData) afterData();
  }
  void onBodyEnd(Status status) override { end = std::move(status); }
};

class JmapMailboxTest : public ::testing::Test {
 protected:
  JmapMailboxTest() : http_(runner_.loop()), server_(http_) {
    settings_.sessionUrl = http::parseHttpUrl(server_.sessionUrl()).value();
    settings_.commandTimeout = 10s;
    for (int i = 1; i <= 5; ++i) {
      server_.emails.push_back({"E" + std::to_string(i), "Subject: " + std::to_string(i) +
                                                             "\r\n\r\nline one\r\nline two\r\n"});
    }
  }

  JmapContext& context() {
    if (!context_) {
      http::HttpClientSettings client;
      context_.emplace(runner_.loop(), settings_, client);
    }
    return context_->value;
  }
  std::unique_ptr<JmapMailbox> mailbox() { return std::make_unique<JmapMailbox>(context()); }

  Result<std::vector<MessageRef>> open(JmapMailbox& mailbox, std::string password = "secret") {
    std::optional<Result<std::vector<MessageRef>>> got;
    mailbox.open({"alice", backends::PasswordCredential{std::move(password)}},
                 [&](Result<backends::MessageList> r) { got = fakes::refsOf(r); });
    EXPECT_FALSE(got.has_value());  // never from inside the call
    EXPECT_TRUE(runner_.runUntil([&] { return got.has_value(); }));
    return got ? std::move(*got)
               : Result<std::vector<MessageRef>>(Error{ErrorCode::Temporary, "none"});
  }
  void retrieve(JmapMailbox& mailbox, const MessageRef& message, std::optional<std::uint32_t> lines,
                Sink& sink) {
    mailbox.retrieve(message, lines, sink);
    ASSERT_TRUE(runner_.runUntil([&] { return sink.end.has_value(); }));
  }
  Status commit(JmapMailbox& mailbox, const std::vector<MessageRef>& messages) {
    std::optional<Status> got;
    mailbox.commit(messages, [&](Status s) { got = std::move(s); });
    EXPECT_FALSE(got.has_value());
    EXPECT_TRUE(runner_.runUntil([&] { return got.has_value(); }));
    return got ? *got : Status(Error{ErrorCode::Temporary, "none"});
  }

  // JmapContext holds a reference and a non-movable client: built in place.
  struct Holder {
    Holder(uv_loop_t* loop, const JmapSettings& settings, const http::HttpClientSettings& client)
        : value{loop, settings, http::HttpClient(loop, client), {}, {}} {}
    JmapContext value;
  };

  imap::test::LoopRunner runner_;
  http::test::ScriptedHttpServer http_;
  test::FakeJmapServer server_;
  JmapSettings settings_;
  std::optional<Holder> context_;
};

}  // namespace popgate::jmap
