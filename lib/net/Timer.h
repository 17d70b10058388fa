#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>

#include "lib/net/UvHandle.h"

namespace popgate::net {

class Timer {
 public:
  explicit Timer(uv_loop_t* loop);
  // (Re)arms the timer; a pending expiry is replaced.
  void start(std::chrono::milliseconds timeout, std::function<void()> onExpiry);
  void stop();
  bool active() const;

 private:
  UvHandle<uv_timer_t> handle_;
  std::function<void()> onExpiry_;
};

}  // namespace popgate::net
