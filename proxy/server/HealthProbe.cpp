#include "proxy/server/HealthProbe.h"

#include <charconv>
#include <cstdio>

#include "lib/common/LogText.h"
#include "lib/net/TcpConnector.h"
#include "lib/net/TcpStream.h"
#include "lib/net/Timer.h"

namespace popgate::server {

namespace {

constexpr std::size_t kMaxGreeting = 512;  // RFC 2449 section 4: a response line fits in 512

Error invalid(std::string detail) {
  return Error{ErrorCode::Invalid, std::move(detail)};
}

}  // namespace

Result<ProbeTarget> parseProbeTarget(std::string_view text) {
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0)
    return invalid("expected HOST:PORT, got '" + logText(text) + "'");
  std::string_view host = text.substr(0, colon);
  if (host.starts_with('[') && host.ends_with(']'))
    host = host.substr(1, host.size() - 2);
  else if (host.find(':') != std::string_view::npos)
    return invalid("write an IPv6 address in brackets: [::1]:PORT");
  std::string_view portText = text.substr(colon + 1);
  int port = 0;
  auto [end, error] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
  if (host.empty() || error != std::errc() || end != portText.data() + portText.size() ||
      port < 1 || port > 65535)
    return invalid("expected HOST:PORT with a port from 1 to 65535, got '" + logText(text) + "'");
  return ProbeTarget{std::string(host), port};
}

// One connection's worth of state, so that the connector, the stream and the timer are owned in
// one place and destroyed together (the stream's callbacks then never fire).
struct HealthProbe::State : net::StreamHandler {
  State(uv_loop_t* loop, ProbeTarget where, std::chrono::milliseconds limit)
      : connector(loop), timer(loop), target(std::move(where)), timeout(limit) {}

  void finish(Status status) {
    if (!done) return;
    timer.stop();
    Done callback = std::move(done);
    done = nullptr;
    if (stream && !streamClosed) {
      stream->setHandler(nullptr);
      stream->closeAfterFlush();
    }
    callback(std::move(status));
  }

  // The greeting decides; then QUIT, and its answer (or the server's close) is awaited, so that
  // the server never writes to a socket already closed here (a reset in its log).
  void onData(std::string_view bytes) override {
    line.append(bytes.substr(0, kMaxGreeting - std::min(kMaxGreeting, line.size())));
    std::size_t end = line.find("\r\n");
    if (end == std::string::npos) {
      if (line.size() >= kMaxGreeting) finish(invalid("no greeting line within 512 octets"));
      return;
    }
    if (greeted) {
      finish(Ok{});
      return;
    }
    std::string greeting = line.substr(0, end);
    if (!greeting.starts_with("+OK")) {
      finish(Error{ErrorCode::Temporary, "greeting: " + logText(greeting)});
      return;
    }
    greeted = true;
    line.clear();
    stream->write("QUIT\r\n");
  }
  void onDrained() override {}
  void onClosed(Status reason) override {
    streamClosed = true;  // the stream ended itself; it is destroyed with this state, later
    if (reason)
      finish(Error{ErrorCode::Temporary, "closed before a greeting"});
    else
      finish(std::move(reason));
  }

  using Done = HealthProbe::Done;
  net::TcpConnector connector;
  net::Timer timer;
  ProbeTarget target;
  std::chrono::milliseconds timeout;
  std::unique_ptr<net::TcpStream> stream;
  bool streamClosed = false;
  bool greeted = false;
  std::string line;
  Done done;
};

HealthProbe::HealthProbe(uv_loop_t* loop, ProbeTarget target, std::chrono::milliseconds timeout)
    : state_(std::make_unique<State>(loop, std::move(target), timeout)) {}

HealthProbe::~HealthProbe() = default;

void HealthProbe::start(Done done) {
  State* state = state_.get();
  state->done = std::move(done);
  state->timer.start(state->timeout, [state] {
    state->finish(Error{ErrorCode::Temporary,
                        "no greeting within " + std::to_string(state->timeout.count()) + " ms"});
  });
  state->connector.connect(state->target.host, state->target.port, state->timeout,
                           [state](Result<std::unique_ptr<net::TcpStream>> connected) {
                             if (!connected) {
                               state->finish(connected.error());
                               return;
                             }
                             state->stream = std::move(connected.value());
                             state->stream->setHandler(state);
                             state->stream->startReading();
                           });
}

int runHealthCheck(std::string_view text) {
  auto target = parseProbeTarget(text);
  if (!target) {
    std::fprintf(stderr, "--health-check: %s\n", target.error().detail.c_str());
    return 2;
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  Status outcome = Error{ErrorCode::Temporary, "the probe did not finish"};
  {
    HealthProbe probe(&loop, target.value(), std::chrono::seconds(5));
    probe.start([&outcome](Status status) { outcome = std::move(status); });
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  uv_run(&loop, UV_RUN_DEFAULT);  // the close callbacks of the probe's handles
  uv_loop_close(&loop);
  if (outcome) return 0;
  std::fprintf(stderr, "unhealthy: %s:%d: %s\n", target.value().host.c_str(), target.value().port,
               outcome.error().detail.c_str());
  return 1;
}

}  // namespace popgate::server
