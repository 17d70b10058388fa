#include "lib/net/TlsStream.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <array>
#include <utility>

namespace popgate::net {

namespace {
thread_local std::array<char, 16 * 1024> plainBuffer;  // one TLS record
}

TlsStream::TlsStream(uv_loop_t* loop, std::unique_ptr<ByteStream> inner, bssl::UniquePtr<SSL> ssl,
                     Role role, HandshakeDone onHandshake)
    : inner_(std::move(inner)),
      ssl_(std::move(ssl)),
      onHandshake_(std::move(onHandshake)),
      resumeTimer_(loop) {
  rbio_ = BIO_new(BIO_s_mem());
  wbio_ = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl_.get(), rbio_, wbio_);
  if (role == Role::Client)
    SSL_set_connect_state(ssl_.get());
  else
    SSL_set_accept_state(ssl_.get());
  inner_->setHandler(this);
}

TlsStream::~TlsStream() {
  inner_->setHandler(nullptr);
}

void TlsStream::startReading() {
  if (closed_) return;
  bool first = !reading_ && !handshakeDone_;
  reading_ = true;
  inner_->startReading();
  if (first && SSL_is_server(ssl_.get()) == 0) {
    advance();  // the client speaks first: ClientHello goes out now
    return;
  }
  // Records decrypted but not delivered while paused: deliver them from the loop, not from here.
  if (handshakeDone_ && (SSL_pending(ssl_.get()) > 0 || BIO_pending(rbio_) > 0)) {
    resumeTimer_.start(std::chrono::milliseconds(0), [this] { advance(); });
  }
}

void TlsStream::stopReading() {
  reading_ = false;
  resumeTimer_.stop();
  inner_->stopReading();
}

void TlsStream::write(std::string bytes) {
  if (closed_ || closing_ || bytes.empty()) return;
  if (!handshakeDone_) {
    pendingPlain_.append(bytes);
    return;
  }
  int written = SSL_write(ssl_.get(), bytes.data(), static_cast<int>(bytes.size()));
  if (written <= 0) return fail(Error{ErrorCode::Temporary, describeFailure(written)});
  flushCiphertext();
}

void TlsStream::flushCiphertext() {
  const uint8_t* data = nullptr;
  size_t size = 0;
  if (!BIO_mem_contents(wbio_, &data, &size) || size == 0) return;
  std::string out(reinterpret_cast<const char*>(data), size);
  BIO_reset(wbio_);
  inner_->write(std::move(out));
}

void TlsStream::onData(std::string_view bytes) {
  if (closed_) return;
  BIO_write(rbio_, bytes.data(), static_cast<int>(bytes.size()));
  advance();
}

void TlsStream::advance() {
  if (closed_) return;
  if (!handshakeDone_) {
    int result = SSL_do_handshake(ssl_.get());
    flushCiphertext();
    if (result != 1) {
      int error = SSL_get_error(ssl_.get(), result);
      if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return;
      return fail(Error{ErrorCode::Temporary, describeFailure(result)});
    }
    handshakeDone_ = true;
    if (!pendingPlain_.empty()) write(std::exchange(pendingPlain_, {}));
    if (onHandshake_) {
      // Out of its slot before the call, which may close this stream.
      std::exchange(onHandshake_, nullptr)(Ok{});
      if (closed_) return;
    }
  }
  while (reading_ && !closed_) {
    int n = SSL_read(ssl_.get(), plainBuffer.data(), static_cast<int>(plainBuffer.size()));
    if (n > 0) {
      if (handler_)
        handler_->onData(std::string_view(plainBuffer.data(), static_cast<std::size_t>(n)));
      continue;
    }
    int error = SSL_get_error(ssl_.get(), n);
    if (error == SSL_ERROR_WANT_READ) break;
    if (error == SSL_ERROR_ZERO_RETURN) {  // close_notify
      flushCiphertext();
      closed_ = true;
      if (handler_) handler_->onClosed(Ok{});
      return;
    }
    return fail(Error{ErrorCode::Temporary, describeFailure(n)});
  }
  flushCiphertext();  // SSL_read may answer (session tickets, key updates)
}

std::string TlsStream::describeFailure(int result) {
  long verify = SSL_get_verify_result(ssl_.get());
  if (verify != X509_V_OK) {
    return std::string("TLS certificate verification failed: ") +
           X509_verify_cert_error_string(verify);
  }
  uint32_t code = ERR_get_error();
  ERR_clear_error();
  if (code != 0) {
    char text[256];
    ERR_error_string_n(code, text, sizeof(text));
    return std::string("TLS failed: ") + text;
  }
  return "TLS failed (result " + std::to_string(result) + ")";
}

void TlsStream::onDrained() {
  if (handler_ && !closed_) handler_->onDrained();
}

void TlsStream::onClosed(Status reason) {
  if (closed_) return;
  if (!handshakeDone_ && reason)
    reason = Error{ErrorCode::Temporary, "connection closed during TLS handshake"};
  fail(reason ? Error{ErrorCode::Temporary, ""} : reason.error());
}

void TlsStream::fail(Error error) {
  if (closed_) return;
  closed_ = true;
  resumeTimer_.stop();
  inner_->stopReading();
  if (onHandshake_) std::exchange(onHandshake_, nullptr)(error);
  if (handler_) handler_->onClosed(error.detail.empty() ? Status(Ok{}) : Status(error));
}

void TlsStream::closeAfterFlush() {
  if (closed_ || closing_) return;
  closing_ = true;
  if (handshakeDone_) {
    SSL_shutdown(ssl_.get());  // close_notify, so the peer can tell a clean end from truncation
    flushCiphertext();
  }
  inner_->closeAfterFlush();
}

}  // namespace popgate::net
