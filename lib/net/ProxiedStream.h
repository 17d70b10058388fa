#pragma once
// A client connection that came through a load balancer speaking the PROXY protocol
// (ProxyProtocol.h): it reads the header first, then is the client's stream, with the client's
// address (the one the balancer saw) as its peerAddress(). Logs, connection limits, login
// throttling and the routing lookup all use peerAddress(), so they see the client, not the
// balancer.
//
// Bytes that arrived behind the header in the same read are the client's: they are handed on
// at the first read after the header, never dropped. Until readHeader()'s callback said yes, no
// byte reaches a handler and nothing should be written (no POP3 greeting to an unknown peer).

#include <uv.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "lib/net/ByteStream.h"
#include "lib/net/ProxyProtocol.h"
#include "lib/net/Timer.h"

namespace popgate::net {

class ProxiedStream final : public ByteStream, private StreamHandler {
 public:
  // Error{Invalid} for a bad header, Error{Temporary} for a timeout or a peer that closed.
  // Called from a read or the timer, never from inside readHeader(); the callee may keep the
  // stream, or must destroy it later (not from inside the call).
  using HeaderDone = std::function<void(Status)>;

  ProxiedStream(uv_loop_t* loop, std::unique_ptr<ByteStream> inner);
  ~ProxiedStream() override;

  void readHeader(std::chrono::milliseconds timeout, HeaderDone done);
  bool clientTls() const { return header_.clientTls; }

  void setHandler(StreamHandler* handler) override { handler_ = handler; }
  void startReading() override;
  void stopReading() override;
  void write(std::string bytes) override { inner_->write(std::move(bytes)); }
  void writePieces(std::span<const std::string_view> pieces) override {
    inner_->writePieces(pieces);
  }
  std::size_t queuedBytes() const override { return inner_->queuedBytes(); }
  void expectAtLeast(std::size_t bytes) override { inner_->expectAtLeast(bytes); }
  void closeAfterFlush() override { inner_->closeAfterFlush(); }
  // The client's address from the header; the connection's own when the header carries none
  // (a balancer's health check: v2 LOCAL, v1 UNKNOWN).
  std::string peerAddress() const override;

 private:
  void onData(std::string_view bytes) override;
  void onDrained() override;
  void onClosed(Status reason) override;
  void finishHeader(Status status);

  std::unique_ptr<ByteStream> inner_;
  StreamHandler* handler_ = nullptr;
  HeaderDone done_;       // set while the header is awaited
  std::string received_;  // before the header is complete: the header so far; then what followed
  ProxyHeader header_;
  bool reading_ = false;  // the handler asked for data
  Timer timer_;           // the header's deadline, then the hand-over of what followed it
};

}  // namespace popgate::net
