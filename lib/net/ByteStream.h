#pragma once
// A bidirectional byte stream with write-queue watermarks. TCP implements it today; TLS will
// implement it on top of another ByteStream, so POP3 and IMAP code never see the difference.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "lib/common/Concatenate.h"
#include "lib/common/Result.h"

namespace popgate::net {

class StreamHandler {
 public:
  virtual ~StreamHandler() = default;
  virtual void onData(std::string_view bytes) = 0;
  // The write queue fell to the low-water mark after having been above the high-water mark.
  virtual void onDrained() = 0;
  // The peer closed, an I/O error happened, or closeAfterFlush() finished. No callback follows.
  virtual void onClosed(Status reason) = 0;
};

class ByteStream {
 public:
  static constexpr std::size_t kHighWater = 256 * 1024;
  static constexpr std::size_t kLowWater = 64 * 1024;

  virtual ~ByteStream() = default;
  virtual void setHandler(StreamHandler* handler) = 0;
  virtual void startReading() = 0;
  virtual void stopReading() = 0;
  virtual void write(std::string bytes) = 0;
  // Bytes the caller owns only during the call; a stream that can send them at once need not
  // copy them. The default copies.
  virtual void writePieces(std::span<const std::string_view> pieces) { write(concatenate(pieces)); }
  virtual std::size_t queuedBytes() const = 0;
  // From a reader that knows at least `bytes` more are on their way (the rest of a long
  // literal): the stream may let them gather before it wakes the loop. 0 ends the hint. A
  // stream that cannot tell how its reads map to the caller's bytes (TLS) ignores it.
  virtual void expectAtLeast(std::size_t /*bytes*/) {}
  bool congested() const { return queuedBytes() > kHighWater; }
  // Sends what is queued, then closes; onClosed follows.
  virtual void closeAfterFlush() = 0;
  virtual std::string peerAddress() const = 0;
};

}  // namespace popgate::net
