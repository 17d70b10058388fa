#include "proxy/server/Pop3Connection.h"

#include <spdlog/spdlog.h>

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
      session_(*this, authenticator, locks, [&] {
        settings.session.peer = peer_;
        return std::move(settings.session);
      }()) {
  stream_->setHandler(this);
}

Pop3Connection::~Pop3Connection() {
  stream_->setHandler(nullptr);
}

void Pop3Connection::start() {
  if (!refusal_.empty()) {
    spdlog::debug("{}: refused: {}", peer_, refusal_);  // a flood must not flood the log too
    stream_->write("-ERR [SYS/TEMP] " + refusal_ + "\r\n");
    stream_->closeAfterFlush();
    dropAfterLinger(kCloseLinger);  // a refused client gets no more time than a timed-out one
    return;
  }
  spdlog::debug("{}: connected", peer_);
  session_.start();
  stream_->startReading();
  touch();
  loginTimer_.start(loginTimeout_, [this] {
    if (session_.state() != pop3::Session::State::Authorization) return;
    spdlog::info("{}: no login within {} s", peer_,
                 std::chrono::duration_cast<std::chrono::seconds>(loginTimeout_).count());
    closeTimedOut();
  });
}

void Pop3Connection::touch() {
  idleTimer_.start(idleTimeout_, [this] {
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
  draining_ = true;
  lingerBounded_ = lingerBounded_ || now;
  if (released_) return;
  if (session_.state() == pop3::Session::State::Closed) {
    if (now) dropAfterLinger(kCloseLinger);  // closed before, and still flushing to its client
    return;
  }
  session_.shutdown(now);  // closing calls close() below
  if (session_.state() == pop3::Session::State::Closed)
    spdlog::info("{}: closed, server shutting down", peer_);
}

void Pop3Connection::dropAfterLinger(std::chrono::milliseconds linger) {
  uint64_t deadline = uv_now(loop_) + static_cast<uint64_t>(linger.count());
  if (!linger_) linger_ = std::make_unique<net::Timer>(loop_);
  if (linger_->active() && lingerDeadline_ <= deadline) return;  // only ever shortened
  lingerDeadline_ = deadline;
  linger_->start(linger, [this, linger] {
    if (released_) return;
    spdlog::info("{}: dropped: the client did not take the rest within {} s of the close", peer_,
                 std::chrono::duration_cast<std::chrono::seconds>(linger).count());
    released_ = true;
    release_(this);
  });
}

void Pop3Connection::send(std::string bytes) {
  stream_->write(std::move(bytes));
}

void Pop3Connection::sendPieces(std::span<const std::string_view> pieces) {
  stream_->writePieces(pieces);
}

void Pop3Connection::close() {
  idleTimer_.stop();
  loginTimer_.stop();
  stream_->closeAfterFlush();
  dropAfterLinger(lingerBounded_ ? std::chrono::milliseconds(kCloseLinger) : idleTimeout_);
}

void Pop3Connection::startTls() {
  // The "+OK" to STLS is already queued on the plain stream; TLS records follow it.
  stream_->setHandler(nullptr);
  stream_ = std::make_unique<net::TlsStream>(loop_, std::move(stream_), tls_->newSession(),
                                             net::TlsStream::Role::Server, [this](Status status) {
                                               if (status)
                                                 session_.onTlsEstablished();
                                               else
                                                 spdlog::info("{}: STLS handshake failed: {}",
                                                              peer_, status.error().detail);
                                             });
  stream_->setHandler(this);
  stream_->startReading();
}

void Pop3Connection::onData(std::string_view bytes) {
  // During a drain, a session back in AUTHORIZATION (its login failed) gets no new login: it
  // closes before it reads the next command.
  if (draining_) shutdown(false);
  if (session_.state() == pop3::Session::State::Closed) return;
  touch();
  session_.onInput(bytes);
}

void Pop3Connection::onDrained() {
  // A client that keeps reading a long RETR is active even if it sends nothing.
  if (session_.state() != pop3::Session::State::Closed) touch();
  session_.onDrained();
}

void Pop3Connection::onClosed(Status reason) {
  idleTimer_.stop();
  loginTimer_.stop();
  if (linger_) linger_->stop();
  if (!reason) spdlog::debug("{}: connection error: {}", peer_, reason.error().detail);
  if (released_) return;
  released_ = true;
  release_(this);
}

}  // namespace popgate::server
