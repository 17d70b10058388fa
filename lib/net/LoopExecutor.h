#pragma once
// Executor on a libuv loop: each task runs from a zero-length timer on the next loop iteration.
// A task's handle owns its timer, so cancelling is closing that timer; nothing is shared
// between tasks, and the executor may go before the handles it gave out.

#include <uv.h>

#include "lib/common/Executor.h"

namespace popgate::net {

class LoopExecutor final : public Executor {
 public:
  explicit LoopExecutor(uv_loop_t* loop) : loop_(loop) {}
  [[nodiscard]] Pending post(std::function<void()> task) override;
  [[nodiscard]] Pending postAfter(std::chrono::milliseconds delay,
                                  std::function<void()> task) override;

 private:
  uv_loop_t* loop_;
};

}  // namespace popgate::net
