#pragma once
// TLS inside a ByteStream: BoringSSL on memory BIOs over another ByteStream (TCP). The same
// component serves POP3S, the STLS upgrade and upstream IMAPS/STARTTLS; nothing above it sees
// TLS. Plaintext written before the handshake completes is held and sent right after it.

#include <openssl/ssl.h>
#include <uv.h>

#include <functional>
#include <memory>
#include <string>

#include "lib/net/ByteStream.h"
#include "lib/net/Timer.h"

namespace popgate::net {

class TlsStream final : public ByteStream, private StreamHandler {
 public:
  enum class Role { Client, Server };
  using HandshakeDone = std::function<void(Status)>;

  // Takes over `inner` (already connected). The handshake starts at startReading().
  TlsStream(uv_loop_t* loop, std::unique_ptr<ByteStream> inner, bssl::UniquePtr<SSL> ssl, Role role,
            HandshakeDone onHandshake = {});
  ~TlsStream() override;

  void setHandler(StreamHandler* handler) override { handler_ = handler; }
  void startReading() override;
  void stopReading() override;
  void write(std::string bytes) override;
  std::size_t queuedBytes() const override { return inner_->queuedBytes() + pendingPlain_.size(); }
  void closeAfterFlush() override;
  std::string peerAddress() const override { return inner_->peerAddress(); }

  bool handshakeDone() const { return handshakeDone_; }
  SSL* ssl() const { return ssl_.get(); }

 private:
  void onData(std::string_view bytes) override;
  void onDrained() override;
  void onClosed(Status reason) override;

  void advance();
  void flushCiphertext();
  void fail(Error error);
  std::string describeFailure(int result);

  std::unique_ptr<ByteStream> inner_;
  bssl::UniquePtr<SSL> ssl_;
  BIO* rbio_ = nullptr;  // owned by ssl_
  BIO* wbio_ = nullptr;  // owned by ssl_
  HandshakeDone onHandshake_;
  StreamHandler* handler_ = nullptr;
  Timer resumeTimer_;  // delivers plaintext that SSL buffered while reading was paused
  std::string pendingPlain_;
  bool handshakeDone_ = false;
  bool reading_ = false;
  bool closed_ = false;
  bool closing_ = false;
};

}  // namespace popgate::net
