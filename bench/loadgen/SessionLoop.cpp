#include "SessionLoop.h"

#include <cstdio>
#include <limits>

namespace loadgen {

namespace {
constexpr std::size_t kErrorSamples = 5;
constexpr double kDrainS = 30;
}  // namespace

SessionLoop::SessionLoop(uv_loop_t* loop, const Options& options, UserList users,
                         sockaddr_in address)
    : loop_(loop),
      options_(options),
      users_(std::move(users)),
      windowTimer_(loop),
      drainTimer_(loop),
      retryTimer_(loop) {
  Pop3Session::Settings settings;
  settings.script = options.scenario == Scenario::Bulk ? Script::Bulk : Script::Poll;
  settings.address = address;
  settings.timeoutS = options.sessionTimeoutS;
  for (int i = 0; i < options.concurrency; ++i) {
    sessions_.push_back(
        std::make_unique<Pop3Session>(loop, static_cast<Listener&>(*this), settings));
  }
}

std::string SessionLoop::run() {
  startedAt_ = nowSeconds();
  windowStart_ = startedAt_ + options_.warmupS;
  windowEnd_ = options_.sessions > 0 ? std::numeric_limits<double>::infinity()
                                     : windowStart_ + options_.durationS;
  // With --sessions the duration still bounds the run (a target that refuses every session
  // must not keep it going forever).
  windowTimer_.start(options_.warmupS + options_.durationS, [this] { endWindow(); });
  for (auto& session : sessions_) launch(*session);
  uv_run(loop_, UV_RUN_DEFAULT);
  return report(nowSeconds() - startedAt_);
}

void SessionLoop::launch(Pop3Session& session) {
  if (stopping_) return;
  auto user = users_.take();
  if (!user) {
    waiting_.push_back(&session);
    return;
  }
  session.userIndex = *user;
  ++running_;
  session.start(users_[*user].name, users_[*user].password);
}

void SessionLoop::onRetrieved(Pop3Session&, std::uint64_t octets) {
  double now = nowSeconds();
  ++all_.messages;
  all_.messageOctets += octets;
  if (inWindow(now)) {
    ++window_.messages;
    window_.messageOctets += octets;
  }
}

void SessionLoop::onFinished(Pop3Session& session, const SessionResult& result) {
  --running_;
  users_.giveBack(session.userIndex);
  all_.wireBytes += result.wireBytes;
  if (result.ok) {
    ++all_.sessions;
    if (inWindow(result.endedAt)) {
      ++window_.sessions;
      window_.wireBytes += result.wireBytes;
      latency_.add(result.endedAt - result.startedAt);
      if (options_.sessions > 0 && window_.sessions >= options_.sessions) endWindow();
    }
  } else {
    errors_.add(result.error);
    if (errorSamples_.size() < kErrorSamples) {
      errorSamples_.push_back(result.error + ": " + result.errorDetail);
      std::fprintf(stderr, "loadgen: %s (%s): %s\n", result.error.c_str(),
                   users_[session.userIndex].name.c_str(), result.errorDetail.c_str());
    }
  }
  if (!waiting_.empty()) {
    Pop3Session* next = waiting_.back();
    waiting_.pop_back();
    launch(*next);
  }
  if (stopping_) {
    if (running_ == 0) stopTimers();
    return;
  }
  if (result.ok) return launch(session);
  // A failing target (refused, -ERR) must not turn into a busy loop: retry a little later.
  retry_.push_back(&session);
  if (retry_.size() == 1) {
    retryTimer_.start(0.01, [this] {
      std::vector<Pop3Session*> again;
      again.swap(retry_);
      for (auto* next : again) launch(*next);
    });
  }
}

void SessionLoop::stopTimers() {
  windowTimer_.stop();
  drainTimer_.stop();
  retryTimer_.stop();
}

void SessionLoop::endWindow() {
  if (stopping_) return;
  stopping_ = true;
  if (options_.sessions > 0) windowEnd_ = nowSeconds();
  waiting_.clear();
  retry_.clear();
  if (running_ == 0) return stopTimers();
  // In-flight sessions finish on their own; this only bounds the wait.
  drainTimer_.start(kDrainS, [this] { uv_stop(loop_); });
}

std::string SessionLoop::report(double wallSeconds) {
  double window = windowEnd_ - windowStart_;
  JsonWriter json;
  json.beginObject()
      .field("scenario", scenarioName(options_.scenario))
      .field("label", options_.label)
      .field("port", options_.port)
      .field("concurrency", options_.concurrency)
      .field("users", static_cast<std::uint64_t>(users_.size()))
      .field("warmup_s", options_.warmupS)
      .field("window_s", window)
      .field("sessions", window_.sessions)
      .field("sessions_per_s", window > 0 ? static_cast<double>(window_.sessions) / window : 0.0)
      .field("messages", window_.messages)
      .field("message_bytes", window_.messageOctets)
      .field("mb_per_s",
             window > 0 ? static_cast<double>(window_.messageOctets) / window / 1e6 : 0.0)
      .field("wire_bytes", window_.wireBytes)
      .field("errors_total", errors_.total());
  latency_.write(json, "latency_ms");
  errors_.write(json, "errors");
  json.beginObject("error_samples");
  for (std::size_t i = 0; i < errorSamples_.size(); ++i) {
    json.field(std::to_string(i), errorSamples_[i]);
  }
  json.endObject();
  json.beginObject("run_totals")
      .field("sessions", all_.sessions)
      .field("messages", all_.messages)
      .field("message_bytes", all_.messageOctets)
      .field("wire_bytes", all_.wireBytes)
      .field("unfinished_sessions", static_cast<std::uint64_t>(running_))
      .endObject();
  cpu_.write(json, "loadgen_cpu", wallSeconds);
  json.endObject();
  return json.text();
}

}  // namespace loadgen
