#include "lib/http/HttpConnector.h"

#include <utility>

#include "lib/net/TlsStream.h"

namespace popgate::http {

HttpConnector::HttpConnector(uv_loop_t* loop, const HttpUrl& target,
                             const std::optional<HttpUrl>& proxy,
                             std::shared_ptr<const net::TlsClientContext> tls,
                             std::chrono::milliseconds timeout, Done done)
    : loop_(loop),
      target_(target),
      viaProxy_(proxy.has_value()),
      tls_(std::move(tls)),
      done_(std::move(done)),
      deadline_(loop),
      tcp_(loop),
      tunnelParser_(*this) {
  deadline_.start(timeout, [this] {
    finish(Error{ErrorCode::Temporary, "could not connect to " + target_.origin() + " in time"});
  });
  const std::string& host = proxy ? proxy->host : target.host;
  int port = proxy ? proxy->port : target.port;
  // TcpConnector never answers from inside connect(); its own bound is ours.
  tcp_.connect(host, port, timeout, [this](Result<std::unique_ptr<net::TcpStream>> result) {
    connected(std::move(result));
  });
}

HttpConnector::~HttpConnector() {
  if (stream_) stream_->setHandler(nullptr);
}

void HttpConnector::connected(Result<std::unique_ptr<net::TcpStream>> result) {
  if (!result) return finish(result.error());
  // A server that writes a response's head and body in two packets with Nagle on (Cyrus's
  // httpd) would otherwise wait for our delayed ACK before every body (see TcpStream).
  result.value()->setQuickAck(true);
  stream_ = std::move(result.value());
  if (!target_.https) return finish(std::move(stream_));  // a plain-HTTP proxy takes it as is
  if (!viaProxy_) return startTls();
  step_ = Step::Tunnel;
  std::string authority = target_.host.find(':') != std::string::npos
                              ? "[" + target_.host + "]:" + std::to_string(target_.port)
                              : target_.host + ":" + std::to_string(target_.port);
  tunnelParser_.reset(true);  // a 2xx answer to CONNECT has no body: the tunnel follows
  stream_->setHandler(this);
  stream_->startReading();
  stream_->write("CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n");
}

void HttpConnector::onData(std::string_view bytes) {
  if (step_ != Step::Tunnel) return;
  auto consumed = tunnelParser_.feed(bytes);
  if (!consumed) return finish(Error{ErrorCode::Temporary, "proxy: " + consumed.error().detail});
  if (!tunnelParser_.complete()) return;
  if (tunnelStatus_ / 100 != 2) {
    return finish(Error{ErrorCode::Temporary, "proxy refused the tunnel to " + target_.origin() +
                                                  " with status " + std::to_string(tunnelStatus_)});
  }
  if (consumed.value() != bytes.size()) {
    // The origin's TLS cannot have spoken before our ClientHello.
    return finish(Error{ErrorCode::Temporary, "proxy sent bytes after its CONNECT answer"});
  }
  stream_->stopReading();
  startTls();
}

void HttpConnector::startTls() {
  if (!tls_) return finish(Error{ErrorCode::Invalid, "no TLS settings for " + target_.origin()});
  step_ = Step::Tls;
  stream_->setHandler(nullptr);
  auto tls = std::make_unique<net::TlsStream>(
      loop_, std::move(stream_), tls_->newSession(target_.host), net::TlsStream::Role::Client,
      [this](Status handshake) {
        if (!handshake) {
          return finish(Error{ErrorCode::Temporary,
                              "TLS with " + target_.origin() + ": " + handshake.error().detail});
        }
        stream_->stopReading();
        stream_->setHandler(nullptr);
        finish(std::move(stream_));
      });
  stream_ = std::move(tls);
  stream_->setHandler(this);
  stream_->startReading();
}

void HttpConnector::onClosed(Status reason) {
  finish(Error{ErrorCode::Temporary, "connection to " + target_.origin() + " closed" +
                                         (reason ? std::string() : ": " + reason.error().detail)});
}

void HttpConnector::finish(Result<std::unique_ptr<net::ByteStream>> result) {
  if (step_ == Step::Done) return;
  step_ = Step::Done;
  deadline_.stop();
  if (!result && stream_) stream_->setHandler(nullptr);
  std::exchange(done_, nullptr)(std::move(result));
}

}  // namespace popgate::http
