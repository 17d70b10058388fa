#include "lib/net/TcpConnector.h"

#include <cstring>

#include "lib/net/TcpListener.h"

namespace popgate::net {

struct TcpConnector::Resolve {
  uv_getaddrinfo_t req;
  TcpConnector* owner;
};

struct TcpConnector::Attempt {
  uv_connect_t req;
  TcpConnector* owner;
};

TcpConnector::TcpConnector(uv_loop_t* loop) : loop_(loop), timer_(loop) {}

TcpConnector::~TcpConnector() {
  // Requests in flight outlive us; they find no owner when they complete.
  if (resolving_) {
    resolving_->owner = nullptr;
    uv_cancel(reinterpret_cast<uv_req_t*>(&resolving_->req));
  }
  if (attempt_) attempt_->owner = nullptr;
}

void TcpConnector::connect(const std::string& host, int port, std::chrono::milliseconds timeout,
                           Callback done) {
  done_ = std::move(done);
  target_ = host + ":" + std::to_string(port);
  timer_.start(timeout, [this] {
    finish(Error{ErrorCode::Temporary, "connect to " + target_ + " timed out"});
  });
  if (auto literal = parseAddress(host, port)) {
    // An address needs no resolver (and no thread-pool hop): connect at once. uv_tcp_connect
    // reports through the loop; only a synchronous refusal is deferred by finish().
    addresses_.push_back(literal.value());
    starting_ = true;
    tryNext();
    starting_ = false;
    return;
  }
  auto resolve = std::make_unique<Resolve>();
  resolve->owner = this;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  std::string service = std::to_string(port);
  int rc = uv_getaddrinfo(
      loop_, &resolve->req,
      [](uv_getaddrinfo_t* req, int status, addrinfo* res) {
        std::unique_ptr<Resolve> r(reinterpret_cast<Resolve*>(req));
        if (r->owner) r->owner->resolved(status, res);
        uv_freeaddrinfo(res);
      },
      host.c_str(), service.c_str(), &hints);
  if (rc != 0) {
    lastError_ = uv_strerror(rc);
    return;  // the timer reports the failure; no synchronous callback
  }
  resolving_ = resolve.release();
}

void TcpConnector::resolved(int status, addrinfo* result) {
  resolving_ = nullptr;
  if (status < 0) {
    return finish(
        Error{ErrorCode::Temporary, "cannot resolve " + target_ + ": " + uv_strerror(status)});
  }
  for (addrinfo* ai = result; ai; ai = ai->ai_next) {
    sockaddr_storage storage{};
    std::memcpy(&storage, ai->ai_addr, ai->ai_addrlen);
    addresses_.push_back(storage);
  }
  tryNext();
}

void TcpConnector::tryNext() {
  if (next_ >= addresses_.size()) {
    return finish(Error{ErrorCode::Temporary, "cannot connect to " + target_ + ": " + lastError_});
  }
  const sockaddr_storage& addr = addresses_[next_++];
  stream_ = std::make_unique<TcpStream>(loop_);
  auto attempt = std::make_unique<Attempt>();
  attempt->owner = this;
  int rc =
      uv_tcp_connect(&attempt->req, stream_->handle(), reinterpret_cast<const sockaddr*>(&addr),
                     [](uv_connect_t* req, int status) {
                       std::unique_ptr<Attempt> a(reinterpret_cast<Attempt*>(req));
                       if (a->owner) a->owner->connected(status);
                     });
  if (rc != 0) {
    lastError_ = uv_strerror(rc);
    return tryNext();
  }
  attempt_ = attempt.release();
}

void TcpConnector::connected(int status) {
  attempt_ = nullptr;
  if (status < 0) {
    lastError_ = uv_strerror(status);
    return tryNext();
  }
  stream_->setConnected();
  finish(std::move(stream_));
}

void TcpConnector::finish(Result<std::unique_ptr<TcpStream>> result) {
  if (starting_) {
    // Still inside connect(): callbacks never fire from the call that started the operation.
    auto pending = std::make_shared<Result<std::unique_ptr<TcpStream>>>(std::move(result));
    timer_.start(std::chrono::milliseconds(0), [this, pending] { finish(std::move(*pending)); });
    return;
  }
  timer_.stop();
  if (attempt_) {
    attempt_->owner = nullptr;
    attempt_ = nullptr;
  }
  if (resolving_) {
    resolving_->owner = nullptr;
    uv_cancel(reinterpret_cast<uv_req_t*>(&resolving_->req));
    resolving_ = nullptr;
  }
  if (!done_) return;
  auto done = std::move(done_);
  done_ = nullptr;
  if (!result) stream_.reset();
  done(std::move(result));
}

}  // namespace popgate::net
