#pragma once
// Owns a libuv loop for one test and runs it in bounded steps. On destruction it lets close
// callbacks and cancelled requests finish, and fails the test if a handle is still open.

#include <uv.h>

#include <chrono>
#include <functional>

namespace popgate::imap::test {

class LoopRunner {
 public:
  LoopRunner();
  ~LoopRunner();
  LoopRunner(const LoopRunner&) = delete;
  LoopRunner& operator=(const LoopRunner&) = delete;

  uv_loop_t* loop() { return &loop_; }
  // Runs until done() holds or `limit` passes; returns done(). A wait that succeeds returns as
  // soon as it does, so the default limit is there for a loaded machine (ctest -j, ASan), not
  // for speed: it only bounds how long a broken test hangs.
  bool runUntil(const std::function<bool()>& done,
                std::chrono::milliseconds limit = std::chrono::seconds(30));
  // Runs for `duration` of loop time (for "nothing happens" checks).
  void runFor(std::chrono::milliseconds duration);

 private:
  uv_loop_t loop_{};
  uv_timer_t guard_{};
};

}  // namespace popgate::imap::test
