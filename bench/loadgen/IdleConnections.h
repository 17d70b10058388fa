#pragma once
// The idle scenario: open N connections (at most --connect-batch connecting at once), read
// each greeting (after a TLS handshake with --tls), then hold them all until SIGUSR1, SIGTERM,
// SIGINT or --hold seconds. Once every attempt has ended it writes --ready-file, so that
// bench/run.sh measures the target's memory while the connections are held.

#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "Connection.h"
#include "Options.h"
#include "Stats.h"
#include "Timer.h"

namespace loadgen {

class IdleConnections {
 public:
  IdleConnections(uv_loop_t* loop, const Options& options, sockaddr_in address);
  ~IdleConnections();
  std::string run();  // the JSON report

 private:
  class Client;
  friend class Client;

  void openMore();
  void onGreeting(Client& client);
  void onFailed(Client& client, const char* why);
  void onDropped(Client& client, const char* why);
  void checkReady();
  void stop(const char* why);

  uv_loop_t* loop_;
  const Options& options_;
  sockaddr_in address_;
  std::vector<std::unique_ptr<Client>> clients_;
  uv_signal_t* signals_[3];
  Timer establishTimeout_;
  Timer holdTimer_;
  CpuMeter cpu_;
  double startedAt_ = 0;
  double readyAt_ = 0;
  double stoppedAt_ = 0;
  std::string stopReason_;
  int started_ = 0;
  int inFlight_ = 0;
  int established_ = 0;
  int failed_ = 0;
  int dropped_ = 0;
  bool ready_ = false;
  bool stopped_ = false;
  ErrorTally failures_;
};

}  // namespace loadgen
