#pragma once
// Glue between one client stream and one POP3 session: feeds bytes in, writes replies out,
// owns the autologout timer, and hands itself to its server for deferred release when done.

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "lib/net/ByteStream.h"
#include "lib/net/Timer.h"
#include "lib/net/TlsContext.h"
#include "proxy/pop3/Session.h"
#include "proxy/server/ConnectionLimits.h"
#include "proxy/server/ServerMetrics.h"
#include "proxy/server/SessionInstruments.h"

namespace popgate::server {

struct ConnectionSettings {
  std::chrono::milliseconds idleTimeout{600'000};
  std::chrono::milliseconds loginTimeout{120'000};  // from the greeting to a successful login
  // This connection's place in the process's counts; null when it is over a limit: then the
  // client gets `refusal` instead of a greeting, and the connection closes.
  std::unique_ptr<ConnectionLimits::Slot> slot;
  std::string refusal;
  pop3::SessionSettings session;
  // For STLS, and held by implicit-TLS connections (their SSL refers to it); null when plain.
  std::shared_ptr<const net::TlsServerContext> tls;
  std::string listener;              // its name, for the metrics
  ServerMetrics* metrics = nullptr;  // required
  std::shared_ptr<LogContext> log;   // the session's id and client address, for every log line
};

class Pop3Connection final : private pop3::SessionSink, private net::StreamHandler {
 public:
  using Release = std::function<void(Pop3Connection*)>;

  Pop3Connection(uv_loop_t* loop, std::unique_ptr<net::ByteStream> stream,
                 login::Authenticator& authenticator, login::MailboxLockService& locks,
                 ConnectionSettings settings, Release release);
  ~Pop3Connection() override;

  void start();
  const std::string& peer() const { return peer_; }
  // Graceful drain: `now` false when it starts, true at its timeout (Session::shutdown). From
  // then on the drain also refuses a new login, and after the timeout a client that does not
  // take what is queued for it is dropped after kCloseLinger.
  void shutdown(bool now);

 private:
  void send(std::string bytes) override;
  void sendPieces(std::span<const std::string_view> pieces) override;
  bool congested() const override { return stream_->congested(); }
  void pauseInput() override { stream_->stopReading(); }
  void resumeInput() override { stream_->startReading(); }
  void close() override;
  void startTls() override;

  void onData(std::string_view bytes) override;
  void onDrained() override;
  void onClosed(Status reason) override;

  void touch();
  void closeTimedOut();
  void dropAfterLinger(std::chrono::milliseconds linger);
  void released();  // logs the end and hands the connection back to its server
  LogScope enter() const { return LogScope(log_); }

  // A closing connection waits for its client to take what is queued (closeAfterFlush waits
  // for the kernel to accept it all), but not forever: a client that stopped reading would
  // hold its connection slot and up to kHighWater of output. It gets the autologout time
  // (RFC 1939 §3), or this long once the drain's timeout passed or it was closed for idling
  // already: a reader that stopped reading must not keep the process alive.
  static constexpr std::chrono::seconds kCloseLinger{5};

  uv_loop_t* loop_;
  std::shared_ptr<const net::TlsServerContext> tls_;  // outlives the TLS stream that uses it
  std::unique_ptr<net::ByteStream> stream_;
  net::Timer idleTimer_;
  std::chrono::milliseconds idleTimeout_;
  net::Timer loginTimer_;
  std::chrono::milliseconds loginTimeout_;
  std::unique_ptr<ConnectionLimits::Slot> slot_;
  std::string refusal_;
  Release release_;
  std::string peer_;
  std::string listener_;
  ServerMetrics& metrics_;
  std::shared_ptr<LogContext> log_;
  std::chrono::steady_clock::time_point started_;
  const char* outcome_ = nullptr;  // how it ended, once known (popgate_sessions_total)
  bool released_ = false;
  bool draining_ = false;
  bool lingerBounded_ = false;          // the drain's timeout passed, or a timeout closed it
  std::unique_ptr<net::Timer> linger_;  // only on closing connections
  uint64_t lingerDeadline_ = 0;         // uv_now() when linger_ drops the connection
  SessionInstruments instruments_;      // the session's login services: metrics and log context
  pop3::Session session_;  // last: destroyed first, while the stream it writes to still exists
};

}  // namespace popgate::server
