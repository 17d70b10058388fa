#include "Connection.h"

#include <openssl/err.h>

#include <array>
#include <cstring>
#include <string>

namespace loadgen {

namespace {
// One loop, one thread: every read lands here and is consumed before the next one.
std::array<char, 256 * 1024> readBuffer;
std::array<char, 64 * 1024> plainBuffer;
}  // namespace

struct Connection::WriteRequest {
  uv_write_t request;
  std::string bytes;
};

Connection::Connection(uv_loop_t* loop, Handler& handler, SSL_CTX* tls)
    : loop_(loop), handler_(handler) {
  if (tls) {
    ssl_ = SSL_new(tls);
    rbio_ = BIO_new(BIO_s_mem());
    wbio_ = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl_, rbio_, wbio_);
    SSL_set_connect_state(ssl_);
  }
}

Connection::~Connection() {
  closeHandle();
  if (ssl_) SSL_free(ssl_);
}

SSL_CTX* Connection::insecureClientContext() {
  static SSL_CTX* context = [] {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    return ctx;
  }();
  return context;
}

void Connection::connect(const sockaddr_in& address) {
  tcp_ = new uv_tcp_t;
  uv_tcp_init(loop_, tcp_);
  tcp_->data = this;
  uv_tcp_nodelay(tcp_, 1);
  auto* request = new uv_connect_t;
  int rc = uv_tcp_connect(request, tcp_, reinterpret_cast<const sockaddr*>(&address), onConnect);
  if (rc != 0) {
    delete request;
    fail(uv_err_name(rc));
  }
}

void Connection::onConnect(uv_connect_t* request, int status) {
  auto* self = static_cast<Connection*>(request->handle->data);
  delete request;
  if (!self) return;  // destroyed while connecting
  if (status != 0) return self->fail(uv_err_name(status));
  self->resumeReading();
  if (!self->ssl_) return self->handler_.onConnected();
  self->advanceTls();  // sends the ClientHello
}

void Connection::onAlloc(uv_handle_t*, std::size_t, uv_buf_t* buf) {
  *buf = uv_buf_init(readBuffer.data(), readBuffer.size());
}

void Connection::onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<Connection*>(stream->data);
  if (!self || nread == 0) return;
  if (nread < 0) return self->fail(nread == UV_EOF ? "closed by server" : uv_err_name(nread));
  self->received(buf->base, static_cast<std::size_t>(nread));
}

void Connection::received(const char* data, std::size_t size) {
  if (!ssl_) return handler_.onData(data, size);
  BIO_write(rbio_, data, static_cast<int>(size));
  advanceTls();
}

bool Connection::advanceTls() {
  if (!handshakeDone_) {
    int rc = SSL_do_handshake(ssl_);
    flushCiphertext();
    if (rc != 1) {
      int error = SSL_get_error(ssl_, rc);
      if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return true;
      fail("TLS handshake failed");
      return false;
    }
    handshakeDone_ = true;
    handler_.onConnected();
    if (!tcp_) return false;  // the handler closed us
  }
  while (tcp_ && reading_) {
    int n = SSL_read(ssl_, plainBuffer.data(), static_cast<int>(plainBuffer.size()));
    if (n > 0) {
      handler_.onData(plainBuffer.data(), static_cast<std::size_t>(n));
      continue;
    }
    int error = SSL_get_error(ssl_, n);
    flushCiphertext();  // e.g. TLS 1.3 key updates
    if (error == SSL_ERROR_WANT_READ) return true;
    fail(error == SSL_ERROR_ZERO_RETURN ? "closed by server" : "TLS read failed");
    return false;
  }
  return tcp_ != nullptr;
}

void Connection::flushCiphertext() {
  const uint8_t* data = nullptr;
  std::size_t size = 0;
  if (!BIO_mem_contents(wbio_, &data, &size) || size == 0) return;
  writeRaw(reinterpret_cast<const char*>(data), size);
  BIO_reset(wbio_);
}

void Connection::write(std::string_view bytes) {
  if (!tcp_) return;
  if (!ssl_) return writeRaw(bytes.data(), bytes.size());
  SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
  flushCiphertext();
}

void Connection::writeRaw(const char* data, std::size_t size) {
  if (!tcp_) return;
  auto* request = new WriteRequest{{}, std::string(data, size)};
  uv_buf_t buf = uv_buf_init(request->bytes.data(), static_cast<unsigned>(request->bytes.size()));
  int rc = uv_write(&request->request, reinterpret_cast<uv_stream_t*>(tcp_), &buf, 1,
                    [](uv_write_t* req, int status) {
                      auto* self = static_cast<Connection*>(req->handle->data);
                      delete reinterpret_cast<WriteRequest*>(req);
                      if (self && status != 0 && status != UV_ECANCELED)
                        self->fail(uv_err_name(status));
                    });
  if (rc != 0) {
    delete request;
    fail(uv_err_name(rc));
  }
}

void Connection::pauseReading() {
  if (!tcp_ || !reading_) return;
  reading_ = false;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(tcp_));
}

void Connection::resumeReading() {
  if (!tcp_ || reading_) return;
  reading_ = true;
  uv_read_start(reinterpret_cast<uv_stream_t*>(tcp_), onAlloc, onRead);
  // Plaintext already decrypted but not delivered waits in ssl_; the next record flushes it.
  if (ssl_ && handshakeDone_ && SSL_pending(ssl_) > 0) advanceTls();
}

void Connection::fail(const char* why) {
  if (!tcp_) return;
  closeHandle();
  handler_.onClosed(why);
}

void Connection::closeHandle() {
  if (!tcp_) return;
  tcp_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(tcp_),
           [](uv_handle_t* handle) { delete reinterpret_cast<uv_tcp_t*>(handle); });
  tcp_ = nullptr;
  reading_ = false;
}

}  // namespace loadgen
