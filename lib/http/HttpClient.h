#pragma once
// The HTTP/1.1 client every REST store, the login lookup and OAuth2 share: one per event loop.
// It keeps a pool of kept-alive connections per origin (bounded in number and idle time), sends
// a request again on a fresh connection once when a pooled one turns out dead before answering
// (only a request marked resendable), follows redirects (bounded; https never to http; the
// Authorization header never to another origin), waits out 429/503 Retry-After within the
// request's budget, and streams response bodies with back-pressure. Bodies meant to be read
// whole (JSON) are bounded by the caller.

#include <uv.h>

#include <chrono>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "lib/common/Pending.h"
#include "lib/common/Result.h"
#include "lib/http/HttpConnection.h"
#include "lib/http/HttpConnector.h"
#include "lib/http/HttpRequest.h"
#include "lib/net/DeferredDeleter.h"
#include "lib/net/TlsContext.h"

namespace popgate::http {

struct HttpClientSettings {
  std::shared_ptr<const net::TlsClientContext> tls;  // null: https refused
  std::optional<HttpUrl> proxy;                      // an http:// proxy for every origin
  std::size_t maxConnectionsPerOrigin = 16;          // busy and idle; more requests queue
  std::size_t maxIdlePerOrigin = 8;
  std::chrono::milliseconds idleTimeout{60'000};
};

// Receives a streamed response: the final one, after redirects and Retry-After waits.
class HttpResponseHandler {
 public:
  virtual ~HttpResponseHandler() = default;
  virtual void onResponseHead(const HttpResponseHead& head) = 0;
  virtual void onResponseBody(std::string_view bytes) = 0;
  // Ends every exchange: Ok after the whole body, or why not (then without onResponseHead when
  // no response came). A body cut short always ends with an error, never with Ok.
  virtual void onResponseEnd(Status status) = 0;
};

// A request under way. Destroying it cancels the request (a connection with a response still
// coming is closed, never reused).
class HttpExchange : public Cancelable {
 public:
  virtual void pause() = 0;
  virtual void resume() = 0;
  // Where the request goes now: after redirects, the URL the response came from.
  virtual const HttpUrl& url() const = 0;
};

struct HttpResponse {
  HttpResponseHead head;
  std::string body;
  HttpUrl url;  // where it came from, after redirects
};

class HttpClient {
 public:
  HttpClient(uv_loop_t* loop, HttpClientSettings settings);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Streams the response to `handler`, which must outlive the returned exchange. No callback
  // fires from inside this call.
  [[nodiscard]] std::unique_ptr<HttpExchange> stream(HttpRequest request,
                                                     HttpResponseHandler& handler);

  // Reads the whole response, at most `maxBody` octets of body (more: an error, the
  // connection closed). Any status is a response; only transport trouble is an error.
  using Fetched = std::function<void(Result<HttpResponse>)>;
  [[nodiscard]] Pending fetch(HttpRequest request, std::size_t maxBody, Fetched done);

  std::size_t idleConnections() const;
  std::size_t openConnections() const;

 private:
  class Exchange;
  class Fetch;
  friend class Exchange;
  struct Origin {
    std::list<std::unique_ptr<HttpConnection>> idle;  // most recently used first
    std::size_t open = 0;                             // idle, busy and connecting
    std::list<Exchange*> waiting;
  };

  // An exchange asks for a connection: an idle one (reused), or a new one if the origin has
  // room, or it waits in line. The answer comes from the loop.
  void acquire(Exchange& exchange);
  void cancelWait(Exchange& exchange);
  // Gives back a connection after its response: pooled if reusable, else closed.
  void release(std::unique_ptr<HttpConnection> connection);
  // A connection that was being opened for an origin failed or was abandoned.
  void connectionGone(const std::string& origin);
  void serveWaiting(const std::string& origin);
  void retire(Origin& origin, std::list<std::unique_ptr<HttpConnection>>::iterator it);

  uv_loop_t* loop_;
  HttpClientSettings settings_;
  std::map<std::string, Origin> origins_;
  net::DeferredDeleter deleter_;
};

}  // namespace popgate::http
