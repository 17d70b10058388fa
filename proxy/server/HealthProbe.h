#pragma once
// `popgate --health-check HOST:PORT`: the container's HEALTHCHECK, which must work without a
// shell or a POP3 client in the image. Healthy means what a client needs: the listener accepts
// and a session greets with +OK (a refusal over the connection limits, "-ERR [SYS/TEMP]", is
// unhealthy). It then says QUIT, so the probe leaves no session behind and deletes nothing.

#include <uv.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "lib/common/Result.h"

namespace popgate::server {

struct ProbeTarget {
  std::string host;
  int port = 0;
};

// "HOST:PORT", "[V6]:PORT"; an Invalid error says what is wrong.
Result<ProbeTarget> parseProbeTarget(std::string_view text);

// Runs one probe on `loop`; `done` gets success or the reason (for stderr). Bounded by timeout.
class HealthProbe {
 public:
  using Done = std::function<void(Status)>;
  HealthProbe(uv_loop_t* loop, ProbeTarget target, std::chrono::milliseconds timeout);
  ~HealthProbe();
  HealthProbe(const HealthProbe&) = delete;
  HealthProbe& operator=(const HealthProbe&) = delete;

  void start(Done done);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The whole command: a loop of its own, one probe; 0 when healthy, 1 (and a line on stderr) not.
int runHealthCheck(std::string_view target);

}  // namespace popgate::server
