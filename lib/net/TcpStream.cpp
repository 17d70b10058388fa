#include "lib/net/TcpStream.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <memory>
#include <utility>
#include <vector>

namespace popgate::net {

namespace {
// Reads are consumed synchronously in the read callback, so one buffer per loop thread serves
// every connection: an idle connection costs no read buffer.
thread_local std::array<char, 64 * 1024> readBuffer;

struct WriteRequest {
  uv_write_t req;
  std::vector<std::string> parts;
  std::size_t bytes = 0;
};

struct ShutdownRequest {
  uv_shutdown_t req;
};
}  // namespace

TcpStream::TcpStream(uv_loop_t* loop) {
  uv_tcp_init(loop, handle_.get());
  handle_.markInitialized();
  handle_.get()->data = this;
}

TcpStream::~TcpStream() {
  if (pending_.empty() || closed_ || uv_stream_get_write_queue_size(handle_.stream()) > 0) return;
  for (std::string& part : pending_) {
    uv_buf_t buf = uv_buf_init(part.data(), static_cast<unsigned>(part.size()));
    if (uv_try_write(handle_.stream(), &buf, 1) != static_cast<int>(part.size())) break;
  }
}

void TcpStream::setConnected() {
  uv_tcp_nodelay(handle_.get(), 1);
  if (quickAck_) rearmQuickAck();
}

void TcpStream::expectAtLeast(std::size_t bytes) {
  // A 100 MiB RETR from Dovecot wakes popgate 132 times instead of 489, and popgate spends about
  // 24 ms of CPU on it instead of 28 (strace -c, /proc; the big scenario of bench/run.sh).
  if (bytes < kReadBatch) {
    if (lowWater_ > 1) setLowWater(1);
    if (batchTimer_) batchTimer_->stop();
    return;
  }
  if (lowWater_ != kReadBatch) setLowWater(kReadBatch);
  if (!batchTimer_) batchTimer_ = std::make_unique<Timer>(handle_.get()->loop);
  // Lowering the mark makes the kernel report what is already there (tcp_set_rcvlowat).
  batchTimer_->start(kBatchWait, [this] { setLowWater(1); });
}

void TcpStream::setLowWater(std::size_t bytes) {
  uv_os_fd_t fd;
  if (uv_fileno(reinterpret_cast<const uv_handle_t*>(handle_.get()), &fd) != 0) return;
  int value = static_cast<int>(bytes);
  if (setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &value, sizeof(value)) == 0) lowWater_ = bytes;
}

void TcpStream::startReading() {
  if (reading_ || closed_) return;
  reading_ = true;
  uv_read_start(
      handle_.stream(),
      [](uv_handle_t*, size_t, uv_buf_t* buf) {
        *buf = uv_buf_init(readBuffer.data(), static_cast<unsigned>(readBuffer.size()));
      },
      &TcpStream::onRead);
}

void TcpStream::stopReading() {
  if (!reading_) return;
  reading_ = false;
  uv_read_stop(handle_.stream());
}

void TcpStream::onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<TcpStream*>(stream->data);
  if (!self || nread == 0) return;
  if (nread < 0) {
    self->fail(nread == UV_EOF
                   ? Status(Ok{})
                   : Status(Error{ErrorCode::Temporary, uv_strerror(static_cast<int>(nread))}));
    return;
  }
  if (self->quickAck_) self->rearmQuickAck();
  if (self->handler_)
    self->handler_->onData(std::string_view(buf->base, static_cast<std::size_t>(nread)));
}

void TcpStream::rearmQuickAck() {
  uv_os_fd_t fd;
  if (uv_fileno(reinterpret_cast<const uv_handle_t*>(handle_.get()), &fd) != 0) return;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

void TcpStream::write(std::string bytes) {
  if (closed_ || closing_ || deferredFailure_ || bytes.empty()) return;
  queued_ += bytes.size();
  pendingBytes_ += bytes.size();
  pending_.push_back(std::move(bytes));
  if (queued_ > kHighWater) wasCongested_ = true;
  if (pendingBytes_ >= kFlushBytes) return flush();
  if (pending_.size() > 1) return;  // already scheduled
  if (!flushTimer_) flushTimer_ = std::make_unique<Timer>(handle_.get()->loop);
  flushTimer_->start(std::chrono::milliseconds(0), [this] { flush(); });
}

void TcpStream::writePieces(std::span<const std::string_view> pieces) {
  if (closed_ || closing_ || deferredFailure_) return;
  std::size_t total = 0;
  for (std::string_view piece : pieces) total += piece.size();
  // Small, or too many pieces for one writev (IOV_MAX), or the kernel already behind: copy.
  if (total < kFlushBytes || pieces.size() + pending_.size() > kMaxIovecs ||
      uv_stream_get_write_queue_size(handle_.stream()) > 0) {
    return write(concatenate(pieces));
  }
  // What was gathered earlier in this turn goes first, in the same writev.
  std::vector<uv_buf_t> bufs;
  bufs.reserve(pending_.size() + pieces.size());
  for (std::string& part : pending_) {
    bufs.push_back(uv_buf_init(part.data(), static_cast<unsigned>(part.size())));
  }
  for (std::string_view piece : pieces) {
    bufs.push_back(
        uv_buf_init(const_cast<char*>(piece.data()), static_cast<unsigned>(piece.size())));
  }
  int rc = uv_try_write(handle_.stream(), bufs.data(), static_cast<unsigned>(bufs.size()));
  if (rc < 0 && rc != UV_EAGAIN) {
    failLater(Error{ErrorCode::Temporary, uv_strerror(rc)});
    return;
  }
  std::size_t skip = rc > 0 ? static_cast<std::size_t>(rc) : 0;
  std::string rest;
  for (const uv_buf_t& buf : bufs) {
    std::size_t taken = std::min<std::size_t>(skip, buf.len);
    skip -= taken;
    rest.append(buf.base + taken, buf.len - taken);
  }
  queued_ -= pendingBytes_;
  pendingBytes_ = 0;
  pending_.clear();
  if (flushTimer_) flushTimer_->stop();
  if (rest.empty()) return;
  write(std::move(rest));
  flush();  // the kernel is full: queue the rest now, the write callback reports the drain
}

void TcpStream::flush() {
  if (pending_.empty()) return;
  if (flushTimer_) flushTimer_->stop();
  if (!wasCongested_ && uv_stream_get_write_queue_size(handle_.stream()) == 0 && tryWriteAll()) {
    return;
  }
  auto request = std::make_unique<WriteRequest>();
  request->parts = std::move(pending_);
  request->bytes = std::exchange(pendingBytes_, 0);
  pending_.clear();
  std::vector<uv_buf_t> bufs;
  bufs.reserve(request->parts.size());
  for (std::string& part : request->parts) {
    bufs.push_back(uv_buf_init(part.data(), static_cast<unsigned>(part.size())));
  }
  int rc = uv_write(&request->req, handle_.stream(), bufs.data(),
                    static_cast<unsigned>(bufs.size()), [](uv_write_t* req, int status) {
                      std::unique_ptr<WriteRequest> done(reinterpret_cast<WriteRequest*>(req));
                      auto* self = static_cast<TcpStream*>(req->handle->data);
                      if (self) self->writeDone(done->bytes, status);
                    });
  if (rc != 0) {
    queued_ -= request->bytes;
    failLater(Error{ErrorCode::Temporary, uv_strerror(rc)});
    return;
  }
  static_cast<void>(request.release());  // owned by libuv until the write callback
}

bool TcpStream::tryWriteAll() {
  // uv_write of a request the kernel takes at once still costs an epoll_ctl at the next turn
  // (libuv re-registers the watcher when it stops waiting for POLLOUT) and a callback: two per
  // RETR over JMAP (the request upstream, the answer to the client). uv_try_write costs neither.
  std::vector<uv_buf_t> bufs;
  bufs.reserve(pending_.size());
  for (std::string& part : pending_) {
    bufs.push_back(uv_buf_init(part.data(), static_cast<unsigned>(part.size())));
  }
  int rc = uv_try_write(handle_.stream(), bufs.data(), static_cast<unsigned>(bufs.size()));
  if (rc == UV_EAGAIN || rc == 0) return false;
  if (rc < 0) {
    queued_ -= std::exchange(pendingBytes_, 0);
    pending_.clear();
    failLater(Error{ErrorCode::Temporary, uv_strerror(rc)});
    return true;
  }
  auto sent = static_cast<std::size_t>(rc);
  queued_ -= sent;
  pendingBytes_ -= sent;
  // Drop what the kernel took; the rest (a full socket buffer) goes through uv_write.
  std::size_t whole = 0;
  while (whole < pending_.size() && sent >= pending_[whole].size())
    sent -= pending_[whole++].size();
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(whole));
  if (!pending_.empty()) pending_.front() = pending_.front().substr(sent);
  return pending_.empty();
}

void TcpStream::writeDone(std::size_t bytes, int status) {
  queued_ -= bytes;
  if (status < 0) {
    if (status != UV_ECANCELED) fail(Error{ErrorCode::Temporary, uv_strerror(status)});
    return;
  }
  if (wasCongested_ && queued_ <= kLowWater) {
    wasCongested_ = false;
    if (handler_ && !closed_) handler_->onDrained();
  }
}

void TcpStream::closeAfterFlush() {
  if (closing_ || closed_) return;
  flush();
  closing_ = true;
  stopReading();
  // uv_shutdown waits for queued writes, then sends FIN; closing only after it avoids a reset
  // that could discard the last reply (e.g. +OK to QUIT) when unread input is pending.
  auto request = std::make_unique<ShutdownRequest>();
  int rc = uv_shutdown(&request->req, handle_.stream(), [](uv_shutdown_t* req, int) {
    std::unique_ptr<ShutdownRequest> done(reinterpret_cast<ShutdownRequest*>(req));
    auto* self = static_cast<TcpStream*>(req->handle->data);
    if (self) self->fail(Ok{});
  });
  if (rc != 0) {
    failLater(Ok{});
    return;
  }
  static_cast<void>(request.release());
}

void TcpStream::failLater(Status reason) {
  // The caller is inside write() or closeAfterFlush(), often from its own handler: report the
  // failure from the loop, so that no handler runs re-entrantly under its caller.
  if (closed_ || deferredFailure_) return;
  stopReading();
  deferredFailure_ = std::make_unique<Timer>(handle_.get()->loop);
  deferredFailure_->start(
      std::chrono::milliseconds(0),
      [this, reason = std::move(reason)]() mutable { fail(std::move(reason)); });
}

void TcpStream::fail(Status reason) {
  if (closed_) return;
  closed_ = true;
  stopReading();
  if (handler_) handler_->onClosed(std::move(reason));
}

std::string TcpStream::peerAddress() const {
  sockaddr_storage addr{};
  int len = sizeof(addr);
  if (uv_tcp_getpeername(handle_.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "?";
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (addr.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&addr);
    uv_ip4_name(in, host, sizeof(host));
    port = ntohs(in->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
    uv_ip6_name(in6, host, sizeof(host));
    port = ntohs(in6->sin6_port);
    // Brackets, as in a URL (RFC 3986): "::1:4000" would read as an address without a port,
    // and every consumer that splits host from port (LoginGuard::hostOf, the per-address
    // limits) would key each connection of one host separately.
    return "[" + std::string(host) + "]:" + std::to_string(port);
  }
  return std::string(host) + ":" + std::to_string(port);
}

}  // namespace popgate::net
