#include "lib/net/TcpListener.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace popgate::net {

Result<sockaddr_storage> parseAddress(const std::string& address, int port) {
  sockaddr_storage storage{};
  if (uv_ip4_addr(address.c_str(), port, reinterpret_cast<sockaddr_in*>(&storage)) == 0 ||
      uv_ip6_addr(address.c_str(), port, reinterpret_cast<sockaddr_in6*>(&storage)) == 0) {
    return storage;
  }
  return Error{ErrorCode::Invalid, "not an IPv4 or IPv6 address: " + address};
}

TcpListener::TcpListener(uv_loop_t* loop) : loop_(loop) {}

Status TcpListener::listen(const std::string& address, int port, bool reusePort,
                           AcceptCallback onAccept) {
  auto addr = parseAddress(address, port);
  if (!addr) return addr.error();
  onAccept_ = std::move(onAccept);
  // The socket must exist before bind to set SO_REUSEPORT, so create it explicitly.
  int family = addr.value().ss_family;
  uv_tcp_init_ex(loop_, handle_.get(), static_cast<unsigned>(family));
  handle_.markInitialized();
  handle_.get()->data = this;
  if (reusePort) {
    uv_os_fd_t fd;
    if (uv_fileno(handle_.raw(), &fd) == 0) {
      int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    }
  }
  int rc = uv_tcp_bind(handle_.get(), reinterpret_cast<const sockaddr*>(&addr.value()), 0);
  if (rc != 0) {
    return Error{ErrorCode::Invalid, "cannot listen on " + address + ":" + std::to_string(port) +
                                         ": " + uv_strerror(rc)};
  }
  return startListening(address + ":" + std::to_string(port));
}

Status TcpListener::adopt(int fd, const std::string& what, AcceptCallback onAccept) {
  onAccept_ = std::move(onAccept);
  // dup() rather than fcntl(F_DUPFD_CLOEXEC): ThreadSanitizer follows descriptors through
  // dup() only, and would take the copy for whatever socket last had its number.
  int copy = ::dup(fd);
  if (copy < 0 || fcntl(copy, F_SETFD, FD_CLOEXEC) != 0) {
    int error = errno;
    if (copy >= 0) ::close(copy);
    return Error{ErrorCode::Invalid, "cannot take over the listener on " + what + ": " +
                                         uv_strerror(uv_translate_sys_error(error))};
  }
  uv_tcp_init(loop_, handle_.get());
  handle_.markInitialized();
  handle_.get()->data = this;
  if (int rc = uv_tcp_open(handle_.get(), copy); rc != 0) {
    ::close(copy);
    return Error{ErrorCode::Invalid,
                 "cannot take over the listener on " + what + ": " + uv_strerror(rc)};
  }
  return startListening(what);
}

Status TcpListener::startListening(const std::string& what) {
  int rc = uv_listen(handle_.stream(), 511, [](uv_stream_t* server, int status) {
    auto* self = static_cast<TcpListener*>(server->data);
    if (!self || status < 0) return;
    auto stream = std::make_unique<TcpStream>(self->loop_);
    if (uv_accept(server, reinterpret_cast<uv_stream_t*>(stream->handle())) != 0) return;
    stream->setConnected();
    self->onAccept_(std::move(stream));
  });
  if (rc != 0)
    return Error{ErrorCode::Invalid, "cannot listen on " + what + ": " + uv_strerror(rc)};
  return Ok{};
}

int TcpListener::descriptor() const {
  uv_os_fd_t fd = -1;
  if (uv_fileno(handle_.raw(), &fd) != 0) return -1;
  return fd;
}

int TcpListener::boundPort() const {
  sockaddr_storage addr{};
  int len = sizeof(addr);
  if (uv_tcp_getsockname(handle_.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
}

}  // namespace popgate::net
