#pragma once
// Opens a connection to an origin for the HTTP client: TCP to the origin or to the configured
// proxy, a CONNECT tunnel through the proxy for https (RFC 9110 §9.3.6), then TLS with the
// origin's host as server name. One deadline covers all of it. Destroying the connector cancels
// the attempt; its callback never fires afterwards, nor from inside the constructor.

#include <uv.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "lib/common/Result.h"
#include "lib/http/HttpResponseParser.h"
#include "lib/http/HttpUrl.h"
#include "lib/net/ByteStream.h"
#include "lib/net/TcpConnector.h"
#include "lib/net/Timer.h"
#include "lib/net/TlsContext.h"

namespace popgate::http {

class HttpConnector final : private net::StreamHandler, private HttpResponseParser::Handler {
 public:
  using Done = std::function<void(Result<std::unique_ptr<net::ByteStream>>)>;

  // `tls` is required for https targets. `proxy`, when set, is an http:// URL.
  HttpConnector(uv_loop_t* loop, const HttpUrl& target, const std::optional<HttpUrl>& proxy,
                std::shared_ptr<const net::TlsClientContext> tls, std::chrono::milliseconds timeout,
                Done done);
  ~HttpConnector() override;
  HttpConnector(const HttpConnector&) = delete;
  HttpConnector& operator=(const HttpConnector&) = delete;

 private:
  void connected(Result<std::unique_ptr<net::TcpStream>> result);
  void startTls();
  void finish(Result<std::unique_ptr<net::ByteStream>> result);

  void onData(std::string_view bytes) override;
  void onDrained() override {}
  void onClosed(Status reason) override;
  void onHead(const HttpResponseHead& head) override { tunnelStatus_ = head.status; }
  void onBody(std::string_view) override {}
  void onComplete() override {}

  uv_loop_t* loop_;
  HttpUrl target_;
  bool viaProxy_;
  std::shared_ptr<const net::TlsClientContext> tls_;
  Done done_;
  net::Timer deadline_;
  net::TcpConnector tcp_;
  std::unique_ptr<net::ByteStream> stream_;
  HttpResponseParser tunnelParser_;
  int tunnelStatus_ = 0;
  enum class Step { Tcp, Tunnel, Tls, Done } step_ = Step::Tcp;
};

}  // namespace popgate::http
