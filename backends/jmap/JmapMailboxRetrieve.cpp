// JmapMailbox, retrieval: RETR and TOP as one blob download each, streamed with back-pressure
// (TOP cut by MessageTop), and read-ahead of RETRs in order (JmapReadAhead).

#include <spdlog/spdlog.h>

#include <utility>

#include "backends/jmap/JmapMailbox.h"
#include "lib/common/LogText.h"

namespace popgate::jmap {

void JmapMailbox::retrieve(const backends::MessageRef& message,
                           std::optional<std::uint32_t> bodyLines, backends::BodySink& sink) {
  sink_ = &sink;
  top_.reset();
  if (bodyLines) top_.emplace(*bodyLines);
  expectedSize_ = message.size;
  received_ = 0;
  messageId_ = message.id;
  download_.reset();
  auto blob = blobOf_.find(message.id);
  if (blob == blobOf_.end()) {
    dropAhead();
    later_.start(std::chrono::milliseconds(0), [this] {
      endBody(Error{ErrorCode::Gone, "not in the snapshot"});
    });
    return;
  }
  index_ = blob->second.index;
  if (bodyLines) {
    // What is ahead is for RETRs in order; TOP reads its own download from the start.
    dropAhead();
    return startDownload();
  }
  bool inOrder = lastRetrieved_ && *lastRetrieved_ + 1 == index_;
  lastRetrieved_ = index_;
  download_ = takeAhead(index_);
  if (download_) {
    // What it kept is handed over from the loop, never from inside this call.
    later_.start(std::chrono::milliseconds(0), [this] { replayAhead(); });
  } else {
    startDownload();
  }
  if (inOrder) readAhead(index_);
}

Result<http::HttpRequest> JmapMailbox::downloadRequest(std::size_t index) {
  // The session is the one the login opened with, for as long as this mailbox lives.
  if (!downloadUrl_) downloadUrl_.emplace(account_.session);
  auto url = downloadUrl_->forBlob(byIndex_[index]->second.blobId);
  if (!url) return url.error();
  http::HttpRequest request = http::HttpRequest::get(std::move(url.value()));
  request.headers.emplace_back("Authorization", authorization_);
  request.headers.emplace_back("Accept", "message/rfc822");
  request.deadlines.connect = context_.settings.connectTimeout;
  request.deadlines.response = context_.settings.commandTimeout;
  request.retryBudget = context_.settings.retryBudget;
  return request;
}

void JmapMailbox::startDownload() {
  auto request = downloadRequest(index_);
  if (!request) {
    Error error = request.error();
    later_.start(std::chrono::milliseconds(0), [this, error] { endBody(error); });
    return;
  }
  download_ = std::make_unique<JmapDownload>(index_, expectedSize_, context_.downloadsInFlight);
  download_->attach(*this);
  download_->start(context_.client, std::move(request.value()));
}

void JmapMailbox::readAhead(std::size_t index) {
  Ahead now;
  now.next = ahead_.empty() ? index + 1 : ahead_.back()->index() + 1;
  now.count = ahead_.size();
  now.inFlight = context_.downloadsInFlight;
  for (const auto& download : ahead_) now.bytes += download->expected();
  auto sizeOf = [this](std::size_t i) { return byIndex_[i]->second.size; };
  for (std::size_t next :
       planReadAhead(byIndex_.size(), sizeOf, index, now, context_.settings.readAhead)) {
    auto request = downloadRequest(next);
    if (!request) break;
    ahead_.push_back(
        std::make_unique<JmapDownload>(next, sizeOf(next), context_.downloadsInFlight));
    ahead_.back()->start(context_.client, std::move(request.value()));
  }
}

std::unique_ptr<JmapDownload> JmapMailbox::takeAhead(std::size_t index) {
  // Those before it were skipped by the reader; after a jump back nothing ahead is of use.
  while (!ahead_.empty() && ahead_.front()->index() < index) ahead_.pop_front();
  if (ahead_.empty() || ahead_.front()->index() != index) {
    ahead_.clear();
    return nullptr;
  }
  std::unique_ptr<JmapDownload> taken = std::move(ahead_.front());
  ahead_.pop_front();
  return taken;
}

void JmapMailbox::dropAhead() {
  ahead_.clear();  // each exchange cancelled, its connection closed if a response was coming
  lastRetrieved_.reset();
}

void JmapMailbox::replayAhead() {
  if (!sink_ || !download_) return;
  if (download_->failed()) {
    // A fault, another status or more bytes than announced ahead of the reader: ask afresh,
    // so that the retrieval sees only what its own download says.
    download_.reset();
    return startDownload();
  }
  if (!download_->answered()) {
    download_->attach(*this);  // nothing came yet: the response streams through as it comes
    return;
  }
  if (!download_->ended()) {
    // Paused at its head: the rest comes into memory (at most its announced size), and this
    // runs again from the loop once it ended or failed.
    return download_->finish(
        [this] { later_.start(std::chrono::milliseconds(0), [this] { replayAhead(); }); });
  }
  std::string held = download_->takeHeld();
  download_.reset();
  sink_->onBodyStart();  // what onResponseHead does for the 200 the download kept
  if (sink_ && !held.empty()) onResponseBody(held);
  if (sink_) onResponseEnd(Ok{});
}

void JmapMailbox::onResponseHead(const http::HttpResponseHead& head) {
  if (head.status == 200) return sink_->onBodyStart();
  Error error{head.status == 404 ? ErrorCode::Gone : ErrorCode::Temporary,
              "HTTP " + std::to_string(head.status) + " for a message download"};
  if (head.status == 401 || head.status == 403) error.code = ErrorCode::Auth;
  endBody(error);
}

void JmapMailbox::onResponseBody(std::string_view bytes) {
  received_ += bytes.size();
  if (!top_) return sink_->onBodyData(bytes);
  std::string_view piece = top_->take(bytes);
  if (!piece.empty()) sink_->onBodyData(piece);
  // TOP has what it needs: the rest of the blob is not read (the connection is closed).
  if (top_ && top_->done() && sink_) endBody(Ok{});
}

void JmapMailbox::onResponseEnd(Status status) {
  if (status && !top_ && received_ != expectedSize_) {
    spdlog::warn("JMAP: message {} of {} is {} octets, its size said {}", logText(messageId_),
                 logText(user_), received_, expectedSize_);
  }
  endBody(std::move(status));
}

void JmapMailbox::endBody(Status status) {
  if (!sink_) return;
  backends::BodySink* sink = std::exchange(sink_, nullptr);
  top_.reset();
  // Inside its own callback the download may go: its handler call is the last thing it does.
  download_.reset();
  sink->onBodyEnd(std::move(status));
}

void JmapMailbox::pauseBody() {
  if (download_) download_->pause();
}

void JmapMailbox::resumeBody() {
  if (download_) download_->resume();
}

}  // namespace popgate::jmap
