#pragma once
// A Mailbox that tells an observer how open() ended, then passes the answer on unchanged: how
// the oauth2 login mode learns that the store refused a token (to drop it from the cache, so the
// next login fetches a fresh one). Everything else goes straight through.

#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "backends/mailbox/Mailbox.h"

namespace popgate::login {

class ObservedMailbox final : public backends::Mailbox {
 public:
  using OnOpen = std::function<void(const Result<std::vector<backends::MessageRef>>&)>;

  ObservedMailbox(std::unique_ptr<backends::Mailbox> inner, OnOpen onOpen)
      : inner_(std::move(inner)), onOpen_(std::move(onOpen)) {}

  void open(const backends::Credentials& credentials, SnapshotDone done) override {
    inner_->open(credentials, [this, done = std::move(done)](
                                  Result<std::vector<backends::MessageRef>> snapshot) {
      if (onOpen_) std::exchange(onOpen_, nullptr)(snapshot);
      done(std::move(snapshot));
    });
  }
  void retrieve(const backends::MessageRef& message, std::optional<std::uint32_t> bodyLines,
                backends::BodySink& sink) override {
    inner_->retrieve(message, bodyLines, sink);
  }
  void pauseBody() override { inner_->pauseBody(); }
  void resumeBody() override { inner_->resumeBody(); }
  void commit(const std::vector<backends::MessageRef>& toDelete, Done done) override {
    inner_->commit(toDelete, std::move(done));
  }

 private:
  std::unique_ptr<backends::Mailbox> inner_;
  OnOpen onOpen_;
};

}  // namespace popgate::login
