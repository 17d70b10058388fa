#include "lib/net/ProxiedStream.h"

#include <utility>

namespace popgate::net {

ProxiedStream::ProxiedStream(uv_loop_t* loop, std::unique_ptr<ByteStream> inner)
    : inner_(std::move(inner)), timer_(loop) {
  inner_->setHandler(this);
}

ProxiedStream::~ProxiedStream() {
  inner_->setHandler(nullptr);
}

void ProxiedStream::readHeader(std::chrono::milliseconds timeout, HeaderDone done) {
  done_ = std::move(done);
  timer_.start(timeout, [this] {
    finishHeader(Error{ErrorCode::Temporary, "no PROXY protocol header in time"});
  });
  inner_->startReading();
}

void ProxiedStream::finishHeader(Status status) {
  timer_.stop();
  if (!reading_) inner_->stopReading();
  std::exchange(done_, nullptr)(std::move(status));
}

std::string ProxiedStream::peerAddress() const {
  return header_.source.empty() ? inner_->peerAddress() : header_.source;
}

void ProxiedStream::startReading() {
  reading_ = true;
  if (done_) return;  // still reading the header
  inner_->startReading();
  // What followed the header: handed on from the loop, not from inside this call.
  if (!received_.empty() && !timer_.active()) {
    timer_.start(std::chrono::milliseconds(0), [this] {
      if (!reading_ || received_.empty() || !handler_) return;
      handler_->onData(std::exchange(received_, std::string()));
    });
  }
}

void ProxiedStream::stopReading() {
  reading_ = false;
  if (!done_) inner_->stopReading();
}

void ProxiedStream::onData(std::string_view bytes) {
  if (!done_) {
    if (received_.empty()) {
      if (handler_) handler_->onData(bytes);
      return;
    }
    // The hand-over timer has not fired yet: keep the order.
    timer_.stop();
    received_.append(bytes);
    if (handler_) handler_->onData(std::exchange(received_, std::string()));
    return;
  }
  // Bound: the parser says Invalid before a header passes kMaxProxyHeaderBytes, so this holds
  // at most that plus one read of what follows the header.
  received_.append(bytes);
  ProxyParse parse = parseProxyHeader(received_);
  if (parse.status == ProxyParse::Status::NeedMore) return;  // never past kMaxProxyHeaderBytes
  if (parse.status == ProxyParse::Status::Invalid) {
    received_.clear();
    return finishHeader(Error{ErrorCode::Invalid, parse.error});
  }
  header_ = std::move(parse.header);
  received_.erase(0, header_.length);
  finishHeader(Ok{});
}

void ProxiedStream::onDrained() {
  if (handler_) handler_->onDrained();
}

void ProxiedStream::onClosed(Status reason) {
  if (done_) {
    return finishHeader(Error{ErrorCode::Temporary, "closed before its PROXY protocol header"});
  }
  if (handler_) handler_->onClosed(std::move(reason));
}

}  // namespace popgate::net
