#pragma once
// What a POP3 session needs from its connection. The connection (proxy/server) implements it on
// a libuv stream; tests implement it with a transcript recorder.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "lib/common/Concatenate.h"

namespace popgate::pop3 {

class SessionSink {
 public:
  virtual ~SessionSink() = default;
  virtual void send(std::string bytes) = 0;
  // The same for bytes the caller owns only during the call (a message chunk in the read
  // buffer): a connection may hand them to the socket without a copy.
  virtual void sendPieces(std::span<const std::string_view> pieces) { send(concatenate(pieces)); }
  // True while the client's write queue is above its high-water mark; the connection calls
  // Session::onDrained() once it falls below the low-water mark.
  virtual bool congested() const = 0;
  // Stop / restart reading the client (its pipelined input is buffered and bounded).
  virtual void pauseInput() = 0;
  virtual void resumeInput() = 0;
  // Flush what was sent, then close. No session callback follows.
  virtual void close() = 0;
  // RFC 2595 STLS: start a server-side TLS handshake after what was sent so far. The connection
  // calls Session::onTlsEstablished() when it completes, or closes on failure.
  virtual void startTls() = 0;
};

}  // namespace popgate::pop3
