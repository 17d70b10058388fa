#pragma once
// popgate's metrics (docs/design.md, "Metrics"): one registry per process, shared by every
// worker, rendered by the admin endpoint. The families are registered here, once; the code that
// counts (the connection, the decorators around the login step and the mailboxes) only adds.

#include <chrono>
#include <string>
#include <string_view>

#include "lib/common/Result.h"
#include "lib/metrics/Metrics.h"
#include "proxy/login/LoginGuard.h"

namespace popgate::server {

struct ServerMetrics {
  explicit ServerMetrics(const login::LoginGuard& guard);
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

  metrics::Registry registry;
  metrics::GaugeFamily& sessionsActive;       // listener
  metrics::CounterFamily& sessions;           // listener, outcome (at close)
  metrics::CounterFamily& logins;             // result (ok, failed), code (RFC 3206, or empty)
  metrics::CounterFamily& upstream;           // backend, kind (open, retrieve, commit), result
  metrics::HistogramFamily& upstreamSeconds;  // backend, kind
  metrics::CounterFamily& clientBytes;        // direction (in: from clients, out: to clients)
  metrics::Counter& clientBytesIn;            // its two series, looked up once
  metrics::Counter& clientBytesOut;
  metrics::CounterFamily& upstreamBytes;  // backend: message bytes relayed from the store
  metrics::CounterFamily& tlsHandshakes;  // listener, result (ok, failed)
  metrics::CounterFamily& commits;        // backend, result
  metrics::CounterFamily& deleted;        // backend: messages removed upstream by a commit
};

// A label for how an upstream step ended: "ok" (null), or the kind of error.
std::string_view resultLabel(const Error* error);
// Seconds since `start`, for a histogram.
double secondsSince(std::chrono::steady_clock::time_point start);

}  // namespace popgate::server
