#include "support/LoopRunner.h"

#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <thread>

namespace popgate::imap::test {

namespace {
constexpr std::uint64_t kTick = 5;  // ms

// libuv writes with write(2), so a peer that closed first raises SIGPIPE; popgate's main()
// ignores it, and so must this test binary (the scripted server writes to clients that left).
const bool kSigpipeIgnored = [] {
  std::signal(SIGPIPE, SIG_IGN);
  return true;
}();
}  // namespace

LoopRunner::LoopRunner() {
  uv_loop_init(&loop_);
  uv_timer_init(&loop_, &guard_);
}

LoopRunner::~LoopRunner() {
  uv_close(reinterpret_cast<uv_handle_t*>(&guard_), nullptr);
  // Close callbacks, cancelled connects and thread-pool requests (getaddrinfo) complete here.
  for (int round = 0; round < 2000 && uv_loop_alive(&loop_); ++round) {
    uv_run(&loop_, UV_RUN_NOWAIT);
    if (uv_loop_alive(&loop_)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  uv_walk(
      &loop_,
      [](uv_handle_t* handle, void*) {
        if (uv_is_closing(handle)) return;
        ADD_FAILURE() << "libuv handle left open: "
                      << uv_handle_type_name(uv_handle_get_type(handle));
        uv_close(handle, nullptr);  // its owner is gone or leaked; only unblocks the loop
      },
      nullptr);
  uv_run(&loop_, UV_RUN_NOWAIT);
  int rc = uv_loop_close(&loop_);
  EXPECT_EQ(rc, 0) << "loop still busy: " << uv_strerror(rc);
}

bool LoopRunner::runUntil(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  // A callback may finish the wait and leave uv_run blocked in poll until the next event, so a
  // short repeating tick bounds every step.
  uv_update_time(&loop_);
  std::uint64_t deadline = uv_now(&loop_) + static_cast<std::uint64_t>(limit.count());
  uv_timer_start(
      &guard_, [](uv_timer_t*) {}, kTick, kTick);
  while (!done() && uv_now(&loop_) < deadline) uv_run(&loop_, UV_RUN_ONCE);
  uv_timer_stop(&guard_);
  return done();
}

void LoopRunner::runFor(std::chrono::milliseconds duration) {
  runUntil([] { return false; }, duration);
}

}  // namespace popgate::imap::test
