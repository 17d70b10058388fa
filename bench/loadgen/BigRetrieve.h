#pragma once
// The big scenario: one session that retrieves one (large) message, reading at a limited rate
// like a client on a slow link. Reports the RETR's wall time; the gateway's memory is measured
// from outside (bench/run.sh reads /proc while this runs).

#include <uv.h>

#include <string>

#include "Options.h"
#include "Pop3Session.h"
#include "Stats.h"

namespace loadgen {

class BigRetrieve final : private Pop3Session::Listener {
 public:
  BigRetrieve(uv_loop_t* loop, const Options& options, sockaddr_in address);
  std::string run();  // the JSON report

 private:
  void onRetrieved(Pop3Session&, std::uint64_t) override {}
  void onFinished(Pop3Session& session, const SessionResult& result) override;

  uv_loop_t* loop_;
  const Options& options_;
  Pop3Session session_;
  SessionResult result_;
  CpuMeter cpu_;
};

}  // namespace loadgen
