#pragma once
// The admin endpoint (`admin: {address, port}`): minimal HTTP/1.1 on the main thread's loop,
// apart from the workers, so that a scrape never waits behind POP3 sessions and /readyz answers
// while the workers drain.
//   GET /metrics  the Prometheus text exposition format 0.0.4
//   GET /healthz  200: the process is alive and its main loop turns
//   GET /readyz   200 once every listener is up and while not draining; 503 otherwise
// HEAD as GET without a body; another method on these paths 405; any other path 404. One
// request per connection (`Connection: close`), bounded in size (HttpRequestParser), in time
// (kRequestTimeout) and in number (kMaxConnections).

#include <uv.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "lib/common/Result.h"
#include "lib/net/DeferredDeleter.h"
#include "lib/net/TcpListener.h"

namespace popgate::server {

class AdminServer {
 public:
  struct Handlers {
    std::function<std::string()> metrics;  // the exposition text
    std::function<bool()> ready;
  };

  static constexpr std::size_t kMaxConnections = 64;
  static constexpr std::chrono::seconds kRequestTimeout{10};

  AdminServer(uv_loop_t* loop, Handlers handlers);
  ~AdminServer();

  Status start(const std::string& address, int port);
  int boundPort() const { return listener_ ? listener_->boundPort() : 0; }

  // The answer to one request: status line, headers and body (pure, for the unit tests).
  struct Reply {
    int status;
    std::string contentType;
    std::string body;
    bool allowHeader = false;  // 405: Allow: GET, HEAD
  };
  static Reply answer(std::string_view method, std::string_view path, const Handlers& handlers);
  static std::string serialize(const Reply& reply, bool withBody);

 private:
  class Exchange;
  void accept(std::unique_ptr<net::TcpStream> stream);
  void release(Exchange* exchange);

  uv_loop_t* loop_;
  Handlers handlers_;
  net::DeferredDeleter deleter_;
  std::unique_ptr<net::TcpListener> listener_;
  std::unordered_map<Exchange*, std::unique_ptr<Exchange>> exchanges_;
};

}  // namespace popgate::server
