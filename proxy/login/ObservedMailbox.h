#pragma once
// A Mailbox that shows an observer how open() ended, and lets it reword the outcome, before
// passing it on: how the master and oauth2 login modes learn that the store refused popgate's
// own credential (a token to drop from the cache; a refusal that is no fault of the client's, so
// not [AUTH]). Everything else goes straight through.

#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "proxy/login/ForwardingMailbox.h"

namespace popgate::login {

class ObservedMailbox final : public ForwardingMailbox {
 public:
  using OnOpen = std::function<void(Result<backends::MessageList>&)>;

  ObservedMailbox(std::unique_ptr<backends::Mailbox> inner, OnOpen onOpen)
      : ForwardingMailbox(std::move(inner)), onOpen_(std::move(onOpen)) {}

  void open(const backends::Credentials& credentials, SnapshotDone done) override {
    inner().open(credentials,
                 [this, done = std::move(done)](Result<backends::MessageList> snapshot) mutable {
                   if (onOpen_) std::exchange(onOpen_, nullptr)(snapshot);
                   done(std::move(snapshot));
                 });
  }

 private:
  OnOpen onOpen_;
};

}  // namespace popgate::login
