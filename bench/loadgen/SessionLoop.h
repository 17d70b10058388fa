#pragma once
// The poll and bulk scenarios: `concurrency` clients, each running sessions back to back over
// the user list, for a warm-up and then a measured window (or a number of sessions). Sessions
// that end inside the window count; at its end no new session starts and those in flight
// finish (bounded by the session timeout) so that the servers see complete sessions.

#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "Options.h"
#include "Pop3Session.h"
#include "Stats.h"
#include "Timer.h"
#include "UserList.h"

namespace loadgen {

class SessionLoop final : private Pop3Session::Listener {
 public:
  SessionLoop(uv_loop_t* loop, const Options& options, UserList users, sockaddr_in address);

  // Runs the loop until done; returns the JSON report.
  std::string run();

 private:
  struct Totals {
    std::uint64_t sessions = 0;
    std::uint64_t messages = 0;
    std::uint64_t messageOctets = 0;
    std::uint64_t wireBytes = 0;
  };

  void onRetrieved(Pop3Session& session, std::uint64_t octets) override;
  void onFinished(Pop3Session& session, const SessionResult& result) override;
  void launch(Pop3Session& session);
  bool inWindow(double t) const { return t >= windowStart_ && t <= windowEnd_; }
  void endWindow();
  void stopTimers();
  std::string report(double wallSeconds);

  uv_loop_t* loop_;
  const Options& options_;
  UserList users_;
  std::vector<std::unique_ptr<Pop3Session>> sessions_;
  std::vector<Pop3Session*> waiting_;  // idle slots: no free user right now
  Timer windowTimer_;
  Timer drainTimer_;
  Timer retryTimer_;
  std::vector<Pop3Session*> retry_;  // slots whose last session failed: relaunched soon
  CpuMeter cpu_;
  double startedAt_ = 0;
  double windowStart_ = 0;
  double windowEnd_ = 0;
  bool stopping_ = false;
  int running_ = 0;
  Totals window_;
  Totals all_;
  LatencyRecorder latency_;
  ErrorTally errors_;
  std::vector<std::string> errorSamples_;
};

}  // namespace loadgen
