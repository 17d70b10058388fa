#pragma once
// An HttpClient on a test loop against a ScriptedHttpServer, and a handler that records a
// streamed response.

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "lib/http/HttpClient.h"
#include "support/LoopRunner.h"
#include "support/ScriptedHttpServer.h"

namespace popgate::http {

struct RecordingHandler final : HttpResponseHandler {
  std::optional<HttpResponseHead> head;
  std::string body;
  std::optional<Status> end;
  std::function<void(std::string_view)> onBodyHook;
  void onResponseHead(const HttpResponseHead& h) override { head = h; }
  void onResponseBody(std::string_view bytes) override {
    body.append(bytes);
    if (onBodyHook) onBodyHook(bytes);
  }
  void onResponseEnd(Status status) override { end = std::move(status); }
  bool ended() const { return end.has_value(); }
  bool ok() const { return end && end->ok(); }
  std::string error() const { return end && !end->ok() ? end->error().detail : ""; }
};

class HttpClientTest : public ::testing::Test {
 protected:
  HttpClientTest() : server_(runner_.loop()) {}

  void makeClient(HttpClientSettings settings = {}) {
    client_ = std::make_unique<HttpClient>(runner_.loop(), std::move(settings));
  }
  HttpClient& client() {
    if (!client_) makeClient();
    return *client_;
  }
  HttpUrl url(std::string_view path = "/") { return parseHttpUrl(server_.url(path)).value(); }

  // Answers every request with `response` on its own connection.
  void answerAll(std::string response) {
    server_.setScript([this, response](const test::ScriptedHttpServer::Request& request) {
      server_.send(request.connection, response);
    });
  }
  void runUntilEnded(RecordingHandler& handler) {
    ASSERT_TRUE(runner_.runUntil([&] { return handler.ended(); }));
  }

  imap::test::LoopRunner runner_;
  test::ScriptedHttpServer server_;
  std::unique_ptr<HttpClient> client_;
};

inline std::string ok(std::string_view body, std::string_view extra = "") {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         std::string(extra) + "\r\n" + std::string(body);
}

}  // namespace popgate::http
