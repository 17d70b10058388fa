#pragma once
// One HTTP/1.1 connection, already open (TCP, or TLS over TCP, possibly through a proxy's
// tunnel): writes one request at a time and frames its response. No pipelining: a request goes
// out only when the previous response is complete, so a response can never be matched to the
// wrong request. The response timer bounds the wait for the head and every silence in the body
// while the reader wants more.

#include <uv.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "lib/common/Result.h"
#include "lib/http/HttpResponseParser.h"
#include "lib/net/ByteStream.h"
#include "lib/net/Timer.h"

namespace popgate::http {

class HttpConnection final : private net::StreamHandler, private HttpResponseParser::Handler {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void onHead(const HttpResponseHead& head) = 0;
    virtual void onBody(std::string_view bytes) = 0;
    virtual void onComplete() = 0;
    // The connection is dead. `unanswered`: not one byte of a response had come, so a request
    // that may be resent can go out again on another connection.
    virtual void onFailed(const Error& error, bool unanswered) = 0;
  };

  HttpConnection(uv_loop_t* loop, std::unique_ptr<net::ByteStream> stream, std::string origin);
  ~HttpConnection() override;
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Writes `wire` (a serialized request) and reports its response to `listener`.
  void send(std::string wire, bool headRequest, std::chrono::milliseconds responseTimeout,
            Listener& listener);
  // Back-pressure for the body: no more onBody until resume().
  void pause();
  void resume();

  // The listener is going away mid-response: nothing more is reported, and the connection is
  // dead (its response can never be matched to another request).
  void abandon();

  // Out of the pool for a request: the idle watch ends (a close meanwhile still marks it dead).
  void leavePool();
  // While idle in the pool: `onLost` fires if the server closes it or sends anything.
  void idle(std::chrono::milliseconds timeout, std::function<void()> onLost);

  // A complete response that allows another request, and nothing received after it.
  bool reusable() const { return reusable_ && !dead_; }
  bool dead() const { return dead_; }
  const std::string& origin() const { return origin_; }

 private:
  void onData(std::string_view bytes) override;
  void onDrained() override {}
  void onClosed(Status reason) override;

  void onHead(const HttpResponseHead& head) override;
  void onBody(std::string_view bytes) override;
  void onComplete() override;

  void pump();
  // Parses `bytes` until the parser pauses or completes, dropping what it took; false when
  // it failed (the connection has failed then).
  bool feed(std::string_view& bytes);
  void fail(Error error);
  void armResponseTimer();

  std::unique_ptr<net::ByteStream> stream_;
  std::string origin_;
  net::Timer timer_;
  net::Timer resumeLater_;  // feeds what a pause left unparsed, from the loop
  HttpResponseParser parser_;
  Listener* listener_ = nullptr;
  std::function<void()> onLost_;
  std::string unparsed_;  // bytes read while paused (at most one read)
  std::chrono::milliseconds responseTimeout_{0};
  bool received_ = false;
  bool reusable_ = false;
  bool dead_ = false;
  bool busy_ = false;
  bool pumping_ = false;
  bool closed_ = false;  // the server closed; unparsed_ may still hold the response's end
  std::optional<Error> closedReason_;
};

}  // namespace popgate::http
