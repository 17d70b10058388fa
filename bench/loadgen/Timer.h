#pragma once
// A one-shot libuv timer owned by one object: the handle is freed in its close callback, and
// the callback never runs after the Timer is destroyed.

#include <uv.h>

#include <cstdint>
#include <functional>

namespace loadgen {

class Timer {
 public:
  explicit Timer(uv_loop_t* loop) : timer_(new uv_timer_t) {
    uv_timer_init(loop, timer_);
    timer_->data = this;
  }
  ~Timer() {
    uv_timer_stop(timer_);
    timer_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(timer_),
             [](uv_handle_t* handle) { delete reinterpret_cast<uv_timer_t*>(handle); });
  }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Runs `callback` once after `seconds` (0: on the next loop iteration).
  void start(double seconds, std::function<void()> callback) {
    callback_ = std::move(callback);
    uv_timer_start(timer_, onTimer, static_cast<std::uint64_t>(seconds * 1e3), 0);
  }
  void stop() { uv_timer_stop(timer_); }

 private:
  static void onTimer(uv_timer_t* timer) {
    if (auto* self = static_cast<Timer*>(timer->data)) self->callback_();
  }

  uv_timer_t* timer_;
  std::function<void()> callback_;
};

}  // namespace loadgen
