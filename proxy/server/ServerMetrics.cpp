#include "proxy/server/ServerMetrics.h"

namespace popgate::server {

namespace {
// From a loopback IMAP round trip (under a millisecond) to a slow store's login (seconds).
const std::vector<double> kLatencyBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                             0.25,  0.5,    1,     2.5,  5,     10,   30};
}  // namespace

ServerMetrics::ServerMetrics(const login::LoginGuard& guard)
    : sessionsActive(registry.gauge("popgate_sessions_active",
                                    "POP3 connections open now, by listener.", {"listener"})),
      sessions(registry.counter(
          "popgate_sessions_total",
          "POP3 connections ended, by listener and outcome (closed: the session ended it, after "
          "QUIT or too many bad commands; dropped: the client went away; timeout; shutdown; "
          "refused: over a connection limit).",
          {"listener", "outcome"})),
      logins(registry.counter("popgate_logins_total",
                              "Logins by result and the RFC 3206/2449 code the client got.",
                              {"result", "code"})),
      upstream(registry.counter("popgate_upstream_operations_total",
                                "Mail store operations by backend, kind and result.",
                                {"backend", "kind", "result"})),
      upstreamSeconds(registry.histogram("popgate_upstream_operation_seconds",
                                         "Mail store operation latency by backend and kind "
                                         "(open: login and listing; retrieve: to the last byte).",
                                         kLatencyBuckets, {"backend", "kind"})),
      clientBytes(registry.counter("popgate_client_bytes_total",
                                   "Bytes from (in) and to (out) POP3 clients.", {"direction"})),
      clientBytesIn(clientBytes.labels({"in"})),
      clientBytesOut(clientBytes.labels({"out"})),
      upstreamBytes(registry.counter("popgate_upstream_message_bytes_total",
                                     "Message bytes relayed from each backend (RETR, TOP).",
                                     {"backend"})),
      tlsHandshakes(
          registry.counter("popgate_tls_handshakes_total",
                           "Client TLS handshakes (POP3S and STLS) by listener and result.",
                           {"listener", "result"})),
      commits(registry.counter("popgate_commits_total",
                               "QUIT commits (deletions upstream) by backend and result.",
                               {"backend", "result"})),
      deleted(registry.counter("popgate_messages_deleted_total",
                               "Messages removed upstream by confirmed commits, by backend.",
                               {"backend"})) {
  registry.counterFunction(
      "popgate_logins_throttled_total",
      "Logins slowed or refused by the failed-login limits (refused: an address over "
      "refuse_after, unchecked; delayed: a refusal answered after the delay).",
      {"action"}, [&guard] {
        return metrics::Registry::Samples{{{"refused"}, guard.refusedCount()},
                                          {{"delayed"}, guard.delayedCount()}};
      });
}

std::string_view resultLabel(const Error* error) {
  if (!error) return "ok";
  switch (error->code) {
    case ErrorCode::Auth:
      return "auth";
    case ErrorCode::Temporary:
      return "temporary";
    case ErrorCode::Permanent:
      return "permanent";
    case ErrorCode::InUse:
      return "in_use";
    case ErrorCode::Gone:
      return "gone";
    case ErrorCode::Invalid:
      return "invalid";
  }
  return "error";
}

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace popgate::server
