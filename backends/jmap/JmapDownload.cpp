#include "backends/jmap/JmapDownload.h"

#include <utility>

namespace popgate::jmap {

void JmapDownload::start(http::HttpClient& client, http::HttpRequest request) {
  exchange_ = client.stream(std::move(request), *this);
}

void JmapDownload::pause() {
  if (exchange_) exchange_->pause();
}

void JmapDownload::resume() {
  if (exchange_) exchange_->resume();
}

void JmapDownload::finish(std::function<void()> settled) {
  settled_ = std::move(settled);
  if (ended_ || failed_) return settle();
  resume();
}

void JmapDownload::settle() {
  if (settled_) std::exchange(settled_, nullptr)();
}

void JmapDownload::fail() {
  failed_ = true;
  std::string().swap(held_);
  // Inside its own callback the exchange may go: its handler call is the last thing it does.
  exchange_.reset();
  settle();
}

void JmapDownload::onResponseHead(const http::HttpResponseHead& head) {
  if (attached_) return attached_->onResponseHead(head);
  if (failed_) return;
  if (head.status != 200) return fail();
  answered_ = true;
  pause();  // until its RETR comes (see the header)
}

void JmapDownload::onResponseBody(std::string_view bytes) {
  if (attached_) return attached_->onResponseBody(bytes);
  if (failed_) return;
  // The announced size bounds what is kept: more means the store changed its mind about the
  // message, and the retrieval will ask again.
  if (held_.size() + bytes.size() > expected_) return fail();
  if (held_.empty()) held_.reserve(expected_);
  held_.append(bytes);
}

void JmapDownload::onResponseEnd(Status status) {
  if (attached_) return attached_->onResponseEnd(std::move(status));
  if (failed_) return;
  if (!status) return fail();
  ended_ = true;
  exchange_.reset();
  settle();
}

}  // namespace popgate::jmap
