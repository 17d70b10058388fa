#pragma once
// One request through the HttpClient, from the first connection to the end of the final
// response: redirects, the one resend on a dead pooled connection and Retry-After waits happen
// here, unseen by the handler. Private to the client (lib/http).

#include <chrono>
#include <memory>
#include <optional>

#include "lib/http/HttpClient.h"
#include "lib/net/Timer.h"

namespace popgate::http {

class HttpClient::Exchange final : public HttpExchange, private HttpConnection::Listener {
 public:
  Exchange(HttpClient& client, HttpRequest request, HttpResponseHandler& handler);
  ~Exchange() override;

  void start();
  void pause() override;
  void resume() override;
  const HttpUrl& url() const override { return request_.url; }

  // From the client: a connection for this exchange (from the pool: `reused`), or a new one to
  // open; both from the loop.
  void grantLater(std::unique_ptr<HttpConnection> pooled);
  void open();
  const std::string& originKey() const { return originKey_; }
  bool wantsFresh() const { return wantsFresh_; }

 private:
  enum class Divert { None, Redirect, RetryAfter };

  void begin();
  void send();
  void end(Status status);
  void dropConnection();
  void followUp();
  std::optional<std::chrono::milliseconds> retryAfter(const HttpResponseHead& head) const;

  void onHead(const HttpResponseHead& head) override;
  void onBody(std::string_view bytes) override;
  void onComplete() override;
  void onFailed(const Error& error, bool unanswered) override;

  HttpClient& client_;
  HttpRequest request_;
  HttpResponseHandler& handler_;
  std::string originKey_;
  std::unique_ptr<HttpConnection> connection_;
  std::unique_ptr<HttpConnector> connector_;
  std::optional<net::Timer> total_;
  net::Timer later_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::milliseconds waited_{0};
  Divert divert_ = Divert::None;
  std::optional<HttpUrl> location_;
  std::chrono::milliseconds retryWait_{0};
  std::size_t discarded_ = 0;
  int redirects_ = 0;
  int redirectStatus_ = 0;
  bool reused_ = false;
  bool resent_ = false;
  bool wantsFresh_ = false;
  bool waiting_ = false;
  bool paused_ = false;
  bool done_ = false;
};

}  // namespace popgate::http
