#pragma once
// Base of the Mailbox decorators in proxy/server that see a retrieval's body on its way to the
// session (MeteredBackend's mailboxes, SessionInstruments'): retrieve() puts the decorator
// between the store and the session's sink, which a subclass reaches through sink() from its
// onBodyStart/onBodyData/onBodyEnd; back-pressure goes straight to the store.

#include <chrono>
#include <memory>
#include <utility>

#include "backends/mailbox/Mailbox.h"

namespace popgate::server {

class RelayingMailbox : public backends::Mailbox, protected backends::BodySink {
 public:
  explicit RelayingMailbox(std::unique_ptr<backends::Mailbox> inner) : inner_(std::move(inner)) {}

  void retrieve(const backends::MessageRef& message, std::optional<std::uint32_t> bodyLines,
                backends::BodySink& sink) final {
    sink_ = &sink;
    retrieveStart_ = std::chrono::steady_clock::now();
    inner_->retrieve(message, bodyLines, *this);
  }
  void pauseBody() final { inner_->pauseBody(); }
  void resumeBody() final { inner_->resumeBody(); }

 protected:
  backends::Mailbox& inner() { return *inner_; }
  backends::BodySink& sink() { return *sink_; }
  std::chrono::steady_clock::time_point retrieveStart() const { return retrieveStart_; }

 private:
  std::unique_ptr<backends::Mailbox> inner_;
  backends::BodySink* sink_ = nullptr;  // the retrieval's, while it runs
  std::chrono::steady_clock::time_point retrieveStart_;
};

}  // namespace popgate::server
