#pragma once
// Makes a connection read at most `bytesPerSecond` (a slow client): after each chunk, if the
// bytes so far are ahead of the allowance, reading pauses until the allowance catches up.
// The kernel's receive window then pushes back on the server, as a slow link would.

#include <uv.h>

#include <cstdint>

#include "Connection.h"
#include "Timer.h"

namespace loadgen {

class RateLimiter {
 public:
  // bytesPerSecond 0: no limit.
  RateLimiter(uv_loop_t* loop, std::uint64_t bytesPerSecond)
      : rate_(bytesPerSecond), timer_(loop) {}

  void start(Connection* connection);  // the allowance starts now
  void consumed(std::size_t bytes);    // call after each chunk read
  void stop();                         // reading resumes

 private:
  std::uint64_t rate_;
  Timer timer_;
  Connection* connection_ = nullptr;
  double startedAt_ = 0;
  std::uint64_t bytes_ = 0;
};

}  // namespace loadgen
