// net::LoopExecutor on a real libuv loop: tasks run on a later loop iteration, never inside
// post(); a dropped handle cancels; a task may drop its own handle.

#include <gtest/gtest.h>
#include <uv.h>

#include <vector>

#include "lib/net/LoopExecutor.h"

namespace popgate::net {
namespace {

class LoopExecutorTest : public ::testing::Test {
 protected:
  LoopExecutorTest() { uv_loop_init(&loop_); }
  ~LoopExecutorTest() override {
    uv_run(&loop_, UV_RUN_DEFAULT);  // close callbacks
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }
  uv_loop_t loop_;
};

TEST_F(LoopExecutorTest, RunsLaterInOrder) {
  LoopExecutor executor(&loop_);
  std::vector<int> ran;
  Pending first = executor.post([&] { ran.push_back(1); });
  Pending second = executor.post([&] { ran.push_back(2); });
  EXPECT_TRUE(ran.empty());
  uv_run(&loop_, UV_RUN_DEFAULT);
  EXPECT_EQ(ran, (std::vector<int>{1, 2}));
}

TEST_F(LoopExecutorTest, DroppedHandleCancels) {
  LoopExecutor executor(&loop_);
  bool ran = false;
  Pending pending = executor.post([&] { ran = true; });
  pending.reset();
  uv_run(&loop_, UV_RUN_DEFAULT);
  EXPECT_FALSE(ran);
}

TEST_F(LoopExecutorTest, TaskMayDropItsOwnHandle) {
  LoopExecutor executor(&loop_);
  Pending pending;
  int ran = 0;
  pending = executor.post([&] {
    pending.reset();
    ++ran;
  });
  uv_run(&loop_, UV_RUN_DEFAULT);
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(pending, nullptr);
}

}  // namespace
}  // namespace popgate::net
