#pragma once
// Runs a task later, on the caller's own thread and loop, never from inside post(): how a step
// that knows its answer at once (a static route, an in-process lock) still keeps the rule that
// callbacks never fire from the call that started them. The loop implementation is
// net::LoopExecutor; tests use a manual one and decide when tasks run.

#include <chrono>
#include <functional>

#include "lib/common/Pending.h"

namespace popgate {

class Executor {
 public:
  virtual ~Executor() = default;
  // Destroying the returned handle before the task ran cancels it.
  [[nodiscard]] virtual Pending post(std::function<void()> task) = 0;
  // The same, once `delay` has passed (the throttle's wait before a refusal).
  [[nodiscard]] virtual Pending postAfter(std::chrono::milliseconds delay,
                                          std::function<void()> task) = 0;
};

}  // namespace popgate
