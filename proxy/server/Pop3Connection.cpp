#include "proxy/server/Pop3Connection.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "lib/net/TlsStream.h"

namespace popgate::server {

Pop3Connection::Pop3Connection(uv_loop_t* loop, std::unique_ptr<net::ByteStream> stream,
                               login::Authenticator& authenticator,
                               login::MailboxLockService& locks, ConnectionSettings settings,
                               Release release)
    : loop_(loop),
      tls_(std::move(settings.tls)),
      stream_(std::move(stream)),
      idleTimer_(loop),
      idleTimeout_(settings.idleTimeout),
      loginTimer_(loop),
      loginTimeout_(settings.loginTimeout),
      slot_(std::move(settings.slot)),
      refusal_(std::move(settings.refusal)),
      release_(std::move(release)),
      peer_(stream_->peerAddress()),
      listener_(std::move(settings.listener)),
      metrics_(*settings.metrics),
      log_(std::move(settings.log)),
      started_(std::chrono::steady_clock::now()),
      instruments_(authenticator, locks, metrics_, log_),
      session_(*this, instruments_, instruments_, [&] {
        settings.session.peer = peer_;
        return std::move(settings.session);
      }()) {
  stream_->setHandler(this);
  metrics_.sessionsActive.labels({listener_}).add(1);
}

Pop3Connection::~Pop3Connection() {
  stream_->setHandler(nullptr);
  metrics_.sessionsActive.labels({listener_}).add(-1);
  metrics_.sessions.labels({listener_, outcome_ ? outcome_ : "dropped"}).inc();
}

void Pop3Connection::start() {
  LogScope scope = enter();
  if (!refusal_.empty()) {
    outcome_ = "refused";
    spdlog::debug("{}: refused: {}", peer_, refusal_);  // a flood must not flood the log too
    stream_->write("-ERR [SYS/TEMP] " + refusal_ + "\r\n");
    stream_->closeAfterFlush();
    dropAfterLinger(kCloseLinger);  // a refused client gets no more time than a timed-out one
    return;
  }
  spdlog::debug("{}: connected to {}", peer_, listener_);
  session_.start();
  stream_->startReading();
  touch();
  loginTimer_.start(loginTimeout_, [this] {
    LogScope timerScope = enter();
    if (session_.state() != pop3::Session::State::Authorization) return;
    outcome_ = "timeout";
    spdlog::info("{}: no login within {} s", peer_,
                 std::chrono::duration_cast<std::chrono::seconds>(loginTimeout_).count());
    closeTimedOut();
  });
}

void Pop3Connection::touch() {
  idleTimer_.start(idleTimeout_, [this] {
    LogScope scope = enter();
    outcome_ = "timeout";
    spdlog::info("{}: autologout after {} s idle", peer_,
                 std::chrono::duration_cast<std::chrono::seconds>(idleTimeout_).count());
    closeTimedOut();
  });
}

void Pop3Connection::closeTimedOut() {
  // Its time is up already: what it has not taken by now (the rest of a RETR it stopped
  // reading) is not worth another autologout period.
  lingerBounded_ = true;
  session_.onIdleTimeout();
}

void Pop3Connection::shutdown(bool now) {
  LogScope scope = enter();
  draining_ = true;
  lingerBounded_ = lingerBounded_ || now;
  if (released_) return;
  if (session_.state() == pop3::Session::State::Closed) {
    if (now) dropAfterLinger(kCloseLinger);  // closed before, and still flushing to its client
    return;
  }
  const char* before = std::exchange(outcome_, "shutdown");
  session_.shutdown(now);  // closing calls close() below
  if (session_.state() != pop3::Session::State::Closed) {
    outcome_ = before;  // the session goes on, and may still end with QUIT
  } else {
    spdlog::info("{}: closed, server shutting down", peer_);
  }
}

void Pop3Connection::dropAfterLinger(std::chrono::milliseconds linger) {
  uint64_t deadline = uv_now(loop_) + static_cast<uint64_t>(linger.count());
  if (!linger_) linger_ = std::make_unique<net::Timer>(loop_);
  if (linger_->active() && lingerDeadline_ <= deadline) return;  // only ever shortened
  lingerDeadline_ = deadline;
  linger_->start(linger, [this, linger] {
    LogScope scope = enter();
    if (released_) return;
    spdlog::info("{}: dropped: the client did not take the rest within {} s of the close", peer_,
                 std::chrono::duration_cast<std::chrono::seconds>(linger).count());
    released();
  });
}

void Pop3Connection::released() {
  released_ = true;
  if (refusal_.empty()) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started_);
    LogScope scope(log_, LogEvent{"session_end", ms.count()});
    spdlog::info("{}: session ended ({})", peer_, outcome_ ? outcome_ : "dropped");
  }
  release_(this);
}

void Pop3Connection::send(std::string bytes) {
  metrics_.clientBytesOut.inc(bytes.size());
  stream_->write(std::move(bytes));
}

void Pop3Connection::sendPieces(std::span<const std::string_view> pieces) {
  std::size_t size = 0;
  for (std::string_view piece : pieces) size += piece.size();
  metrics_.clientBytesOut.inc(size);
  stream_->writePieces(pieces);
}

void Pop3Connection::close() {
  if (!outcome_) outcome_ = "closed";  // the session ended it (QUIT, too many bad commands)
  idleTimer_.stop();
  loginTimer_.stop();
  stream_->closeAfterFlush();
  dropAfterLinger(lingerBounded_ ? std::chrono::milliseconds(kCloseLinger) : idleTimeout_);
}

void Pop3Connection::startTls() {
  // The "+OK" to STLS is already queued on the plain stream; TLS records follow it.
  stream_->setHandler(nullptr);
  stream_ = std::make_unique<net::TlsStream>(
      loop_, std::move(stream_), tls_->newSession(), net::TlsStream::Role::Server,
      [this](Status status) {
        LogScope handshakeScope = enter();
        metrics_.tlsHandshakes.labels({listener_, status ? "ok" : "failed"}).inc();
        if (status)
          session_.onTlsEstablished();
        else
          spdlog::info("{}: STLS handshake failed: {}", peer_, status.error().detail);
      });
  stream_->setHandler(this);
  stream_->startReading();
}

void Pop3Connection::onData(std::string_view bytes) {
  // During a drain, a session back in AUTHORIZATION (its login failed) gets no new login: it
  // closes before it reads the next command.
  LogScope scope = enter();
  metrics_.clientBytesIn.inc(bytes.size());
  if (draining_) shutdown(false);
  if (session_.state() == pop3::Session::State::Closed) return;
  touch();
  session_.onInput(bytes);
}

void Pop3Connection::onDrained() {
  LogScope scope = enter();
  // A client that keeps reading a long RETR is active even if it sends nothing.
  if (session_.state() != pop3::Session::State::Closed) touch();
  session_.onDrained();
}

void Pop3Connection::onClosed(Status reason) {
  idleTimer_.stop();
  loginTimer_.stop();
  if (linger_) linger_->stop();
  LogScope scope = enter();
  if (!reason) spdlog::debug("{}: connection error: {}", peer_, reason.error().detail);
  if (released_) return;
  released();
}

}  // namespace popgate::server
