#include "lib/http/HttpConnection.h"

#include <utility>

namespace popgate::http {

HttpConnection::HttpConnection(uv_loop_t* loop, std::unique_ptr<net::ByteStream> stream,
                               std::string origin)
    : stream_(std::move(stream)),
      origin_(std::move(origin)),
      timer_(loop),
      resumeLater_(loop),
      parser_(*this) {
  stream_->setHandler(this);
}

HttpConnection::~HttpConnection() {
  stream_->setHandler(nullptr);
}

void HttpConnection::send(std::string wire, bool headRequest,
                          std::chrono::milliseconds responseTimeout, Listener& listener) {
  listener_ = &listener;
  onLost_ = nullptr;
  parser_.reset(headRequest);
  unparsed_.clear();
  responseTimeout_ = responseTimeout;
  received_ = false;
  reusable_ = false;
  busy_ = true;
  armResponseTimer();
  stream_->startReading();
  stream_->write(std::move(wire));
}

void HttpConnection::pause() {
  if (!busy_ || parser_.paused()) return;
  parser_.pause();
  stream_->stopReading();
  timer_.stop();  // a reader that takes its time is not a silent server
}

void HttpConnection::resume() {
  if (!busy_ || !parser_.paused()) return;
  parser_.resume();
  stream_->startReading();
  armResponseTimer();
  // What the pause left unparsed goes out from the loop, never from inside resume().
  resumeLater_.start(std::chrono::milliseconds(0), [this] { pump(); });
}

void HttpConnection::leavePool() {
  onLost_ = nullptr;
  timer_.stop();
}

void HttpConnection::abandon() {
  listener_ = nullptr;
  onLost_ = nullptr;
  timer_.stop();
  if (!busy_) return;
  busy_ = false;
  dead_ = true;
  reusable_ = false;
  timer_.stop();
  resumeLater_.stop();
  stream_->stopReading();
}

void HttpConnection::idle(std::chrono::milliseconds timeout, std::function<void()> onLost) {
  listener_ = nullptr;
  onLost_ = std::move(onLost);
  timer_.start(timeout, [this] {
    dead_ = true;
    if (onLost_) std::exchange(onLost_, nullptr)();
  });
  stream_->startReading();  // so that a close by the server is seen at once
}

void HttpConnection::armResponseTimer() {
  timer_.start(responseTimeout_, [this] {
    fail(Error{ErrorCode::Temporary,
               parser_.headComplete() ? "response body stalled" : "no response in time"});
  });
}

void HttpConnection::onData(std::string_view bytes) {
  if (dead_) return;
  if (!busy_) {
    // Nothing may come between responses: the connection cannot be trusted any more.
    dead_ = true;
    timer_.stop();
    if (onLost_) std::exchange(onLost_, nullptr)();
    return;
  }
  if (!bytes.empty()) received_ = true;
  if (!parser_.paused()) armResponseTimer();
  // Parsed straight from the read buffer: a body streams without a copy; only what the parser
  // leaves (it paused, or a response ended before the read did) is kept.
  if (unparsed_.empty() && !pumping_ && !feed(bytes)) return;
  unparsed_.append(bytes);
  pump();
}

bool HttpConnection::feed(std::string_view& bytes) {
  pumping_ = true;
  while (busy_ && !parser_.paused() && !parser_.complete() && !bytes.empty()) {
    auto consumed = parser_.feed(bytes);
    if (!consumed) {
      pumping_ = false;
      fail(consumed.error());
      return false;
    }
    bytes.remove_prefix(consumed.value());
  }
  pumping_ = false;
  return true;
}

void HttpConnection::onClosed(Status reason) {
  if (dead_) return;
  dead_ = true;
  if (!busy_) {
    timer_.stop();
    if (onLost_) std::exchange(onLost_, nullptr)();
    return;
  }
  closedReason_ = reason ? std::optional<Error>() : std::optional<Error>(reason.error());
  closed_ = true;
  pump();
}

void HttpConnection::pump() {
  if (pumping_ || !busy_) return;
  std::string_view rest = unparsed_;
  if (!feed(rest)) return;
  unparsed_.erase(0, unparsed_.size() - rest.size());
  if (!busy_) return;
  if (!parser_.complete() && closed_ && unparsed_.empty() && !parser_.paused()) {
    // The server closed: the end of a close-delimited body, or a response cut short.
    if (auto end = parser_.finish(); !end) {
      return fail(closedReason_ ? Error{ErrorCode::Temporary,
                                        end.error().detail + " (" + closedReason_->detail + ")"}
                                : end.error());
    }
  }
  if (!parser_.complete()) return;
  busy_ = false;
  timer_.stop();
  reusable_ = !closed_ && !dead_ && parser_.head().keepAlive && unparsed_.empty();
  if (!reusable_) {
    dead_ = true;
    stream_->stopReading();
  }
  // A reusable connection goes on reading: in the pool it must see a close at once anyway,
  // and stopping and restarting the read cost two epoll_ctl calls per response.
  std::exchange(listener_, nullptr)->onComplete();
}

void HttpConnection::fail(Error error) {
  dead_ = true;
  reusable_ = false;
  timer_.stop();
  resumeLater_.stop();
  stream_->stopReading();
  if (!busy_) return;
  busy_ = false;
  std::exchange(listener_, nullptr)->onFailed(error, !received_);
}

void HttpConnection::onHead(const HttpResponseHead& head) {
  if (listener_) listener_->onHead(head);
}

void HttpConnection::onBody(std::string_view bytes) {
  if (listener_) listener_->onBody(bytes);
}

void HttpConnection::onComplete() {
  // Reported by pump() once the parser has returned.
}

}  // namespace popgate::http
