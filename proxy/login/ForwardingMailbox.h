#pragma once
// A Mailbox wrapped by the login step, for decorators that change only how open() ends
// (ObservedMailbox, the guard's mailbox in GuardedAuthenticator.cpp): everything else goes
// straight to the store's own mailbox.

#include <memory>
#include <utility>
#include <vector>

#include "backends/mailbox/Mailbox.h"

namespace popgate::login {

class ForwardingMailbox : public backends::Mailbox {
 public:
  explicit ForwardingMailbox(std::unique_ptr<backends::Mailbox> inner) : inner_(std::move(inner)) {}

  void retrieve(const backends::MessageRef& message, std::optional<std::uint32_t> bodyLines,
                backends::BodySink& sink) override {
    inner_->retrieve(message, bodyLines, sink);
  }
  void pauseBody() override { inner_->pauseBody(); }
  void resumeBody() override { inner_->resumeBody(); }
  void commit(const std::vector<backends::MessageRef>& toDelete, Done done) override {
    inner_->commit(toDelete, std::move(done));
  }

 protected:
  backends::Mailbox& inner() { return *inner_; }

 private:
  std::unique_ptr<backends::Mailbox> inner_;
};

}  // namespace popgate::login
