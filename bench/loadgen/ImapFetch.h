#pragma once
// The floor of the big scenario: the same message fetched straight from the IMAP server
// (LOGIN, SELECT INBOX, UID FETCH uid BODY.PEEK[], LOGOUT) at the same read rate. A gateway's
// RETR cannot beat this: it has to read the same literal from the same server.

#include <uv.h>

#include <memory>
#include <string>

#include "Connection.h"
#include "Options.h"
#include "RateLimiter.h"
#include "Stats.h"
#include "Timer.h"

namespace loadgen {

class ImapFetch final : private Connection::Handler {
 public:
  ImapFetch(uv_loop_t* loop, const Options& options, sockaddr_in address);
  std::string run();  // the JSON report

 private:
  enum class Step { Greeting, Login, Select, Fetch, Logout, Done };

  void onConnected() override {}
  void onData(const char* data, std::size_t size) override;
  void onClosed(const char* why) override;
  void onLine(std::string_view line);
  void finish(std::string error);

  uv_loop_t* loop_;
  const Options& options_;
  sockaddr_in address_;
  Connection connection_;
  RateLimiter limiter_;
  Timer timeout_;
  CpuMeter cpu_;
  Step step_ = Step::Greeting;
  std::string line_;
  std::uint64_t literalLeft_ = 0;
  std::uint64_t literalBytes_ = 0;
  std::uint64_t wireBytes_ = 0;
  double fetchStartedAt_ = 0;
  double fetchEndedAt_ = 0;
  std::string error_;
};

}  // namespace loadgen
