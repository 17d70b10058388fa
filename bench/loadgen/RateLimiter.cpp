#include "RateLimiter.h"

#include "Stats.h"

namespace loadgen {

void RateLimiter::start(Connection* connection) {
  connection_ = connection;
  startedAt_ = nowSeconds();
  bytes_ = 0;
}

void RateLimiter::stop() {
  timer_.stop();
  // The last chunk may have paused reading; the replies after the limited one are read freely.
  if (connection_) connection_->resumeReading();
  connection_ = nullptr;
}

void RateLimiter::consumed(std::size_t bytes) {
  if (rate_ == 0 || !connection_) return;
  bytes_ += bytes;
  double due = startedAt_ + static_cast<double>(bytes_) / static_cast<double>(rate_);
  double ahead = due - nowSeconds();
  if (ahead <= 0.001) return;
  connection_->pauseReading();
  timer_.start(ahead, [this] {
    if (connection_) connection_->resumeReading();
  });
}

}  // namespace loadgen
