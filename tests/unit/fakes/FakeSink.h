#pragma once
// A pop3::SessionSink that records the session's output as one transcript and lets the test
// decide when the client is congested. It fails the test when the session breaks the sink's
// contract: output or a second close after close(), unbalanced pause/resume of input.
// Before the test reads anything, `settle` (when set) runs what the loop has queued: a client
// sees the output only after the loop turned.

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <utility>

#include "proxy/pop3/SessionSink.h"

namespace popgate::fakes {

class FakeSink final : public pop3::SessionSink {
 public:
  void send(std::string bytes) override {
    EXPECT_FALSE(closed_) << "send() after close(): " << bytes;
    transcript_ += bytes;
    unread_ += bytes;
    ++sends_;
    if (sends_ == congestAt_) congested_ = true;
  }
  bool congested() const override { return congested_; }
  void pauseInput() override {
    EXPECT_FALSE(inputPaused_) << "pauseInput() twice";
    inputPaused_ = true;
    ++inputPauses_;
  }
  void resumeInput() override {
    EXPECT_TRUE(inputPaused_) << "resumeInput() without pauseInput()";
    inputPaused_ = false;
  }
  void close() override {
    EXPECT_FALSE(closed_) << "close() twice";
    closed_ = true;
  }

  void startTls() override {
    EXPECT_FALSE(closed_) << "startTls() after close()";
    ++tlsStarts_;
  }
  int tlsStarts() const { return tlsStarts_; }

  // What the session sent since the last take().
  std::string take() {
    run();
    return std::exchange(unread_, {});
  }
  const std::string& transcript() {
    run();
    return transcript_;
  }
  int sends() {
    run();
    return sends_;
  }

  void setCongested(bool congested) { congested_ = congested; }
  // Congested from the `more`th send() on (a client that stops reading mid-reply).
  void congestAfter(int more) {
    congested_ = false;
    congestAt_ = sends_ + more;
  }
  bool closed() {
    run();
    return closed_;
  }
  bool inputPaused() {
    run();
    return inputPaused_;
  }
  int inputPauses() {
    run();
    return inputPauses_;
  }

  std::function<void()> settle;

 private:
  void run() {
    if (settle) settle();
  }

  std::string transcript_;
  std::string unread_;
  int sends_ = 0;
  bool congested_ = false;
  int congestAt_ = -1;
  bool closed_ = false;
  bool inputPaused_ = false;
  int inputPauses_ = 0;
  int tlsStarts_ = 0;
};

}  // namespace popgate::fakes
