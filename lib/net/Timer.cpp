#include "lib/net/Timer.h"

#include <utility>

namespace popgate::net {

Timer::Timer(uv_loop_t* loop) {
  uv_timer_init(loop, handle_.get());
  handle_.markInitialized();
  handle_.get()->data = this;
}

void Timer::start(std::chrono::milliseconds timeout, std::function<void()> onExpiry) {
  onExpiry_ = std::move(onExpiry);
  uv_timer_start(
      handle_.get(),
      [](uv_timer_t* t) {
        auto* self = static_cast<Timer*>(t->data);
        if (!self) return;
        // Out of its slot first (a moved-from std::function need not be empty): the callback
        // may re-arm or destroy this timer.
        std::exchange(self->onExpiry_, nullptr)();
      },
      static_cast<std::uint64_t>(timeout.count()), 0);
}

void Timer::stop() {
  uv_timer_stop(handle_.get());
}

bool Timer::active() const {
  return uv_is_active(handle_.raw()) != 0;
}

}  // namespace popgate::net
