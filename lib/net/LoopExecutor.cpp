#include "lib/net/LoopExecutor.h"

#include <memory>

#include "lib/net/Timer.h"

namespace popgate::net {

namespace {
class PostedTask final : public Cancelable {
 public:
  PostedTask(uv_loop_t* loop, std::chrono::milliseconds delay, std::function<void()> task)
      : timer_(loop) {
    // Timer moves the callback out before running it, so the task may destroy this handle.
    timer_.start(delay, std::move(task));
  }

 private:
  Timer timer_;  // closed (and the task with it) when the handle goes
};
}  // namespace

Pending LoopExecutor::post(std::function<void()> task) {
  return std::make_unique<PostedTask>(loop_, std::chrono::milliseconds(0), std::move(task));
}

Pending LoopExecutor::postAfter(std::chrono::milliseconds delay, std::function<void()> task) {
  return std::make_unique<PostedTask>(loop_, delay, std::move(task));
}

}  // namespace popgate::net
