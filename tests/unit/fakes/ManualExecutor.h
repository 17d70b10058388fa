#pragma once
// An Executor the test drives: post() queues, runAll() runs what is queued (and what those tasks
// post) in order, like a loop turning until idle. A cancelled task is skipped; `cancelled`
// counts them, so a test can see that a session let go of a step it started. postAfter() queues
// the same way (time does not pass here) and records the delay asked for in `delays`.

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "lib/common/Executor.h"

namespace popgate::fakes {

class ManualExecutor final : public Executor {
 public:
  [[nodiscard]] Pending post(std::function<void()> task) override {
    auto slot = std::make_shared<Slot>(std::move(task));
    queue_.push_back(slot);
    return std::make_unique<Handle>(slot, cancelled);
  }

  [[nodiscard]] Pending postAfter(std::chrono::milliseconds delay,
                                  std::function<void()> task) override {
    delays.push_back(delay);
    return post(std::move(task));
  }

  // Returns how many tasks ran.
  int runAll() {
    int ran = 0;
    while (!queue_.empty()) {
      auto slot = std::move(queue_.front());
      queue_.pop_front();
      if (!slot->task) continue;  // cancelled
      auto task = std::move(slot->task);
      slot->task = nullptr;
      ++ran;
      task();
    }
    return ran;
  }
  std::size_t queued() const {
    std::size_t count = 0;
    for (const auto& slot : queue_) count += slot->task ? 1 : 0;
    return count;
  }

  int cancelled = 0;
  std::vector<std::chrono::milliseconds> delays;

 private:
  struct Slot {
    explicit Slot(std::function<void()> t) : task(std::move(t)) {}
    std::function<void()> task;  // empty once run or cancelled
  };
  class Handle final : public Cancelable {
   public:
    Handle(std::shared_ptr<Slot> slot, int& cancelled)
        : slot_(std::move(slot)), cancelled_(cancelled) {}
    ~Handle() override {
      if (slot_->task) {
        slot_->task = nullptr;
        ++cancelled_;
      }
    }

   private:
    std::shared_ptr<Slot> slot_;
    int& cancelled_;
  };

  std::deque<std::shared_ptr<Slot>> queue_;
};

}  // namespace popgate::fakes
