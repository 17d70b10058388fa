#pragma once

#include <uv.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "lib/net/ByteStream.h"
#include "lib/net/Timer.h"
#include "lib/net/UvHandle.h"

namespace popgate::net {

class TcpStream final : public ByteStream {
 public:
  explicit TcpStream(uv_loop_t* loop);
  // Sends what is still gathered if the socket takes it at once (a last LOGOUT), then closes.
  ~TcpStream() override;

  uv_tcp_t* handle() { return handle_.get(); }
  // After accept or connect: disables Nagle (multi-line replies must not wait for delayed ACKs).
  void setConnected();

  // For a client waiting on a server's answers: ACK every segment at once (TCP_QUICKACK after
  // each read; Linux forgets it), so that a server that writes a response in pieces with Nagle
  // on (Courier: a FETCH line, then its literal) never waits for our delayed ACK (~40 ms).
  void setQuickAck(bool on) {
    quickAck_ = on;
    if (on) rearmQuickAck();
  }

  void setHandler(StreamHandler* handler) override { handler_ = handler; }
  void startReading() override;
  void stopReading() override;
  // Bytes written in one turn of the loop leave together, in one writev() at the start of the
  // next turn (or at once past kFlushBytes): the "+OK", the body and the final "." of a RETR
  // make one segment instead of three, and one wake-up of the reader.
  void write(std::string bytes) override;
  // Large pieces (a RETR chunk) go straight from the caller's memory to the kernel when nothing
  // else is waiting; only what the kernel does not take is copied.
  void writePieces(std::span<const std::string_view> pieces) override;
  // Sends what was gathered now instead of at the next turn of the loop.
  void flush();
  std::size_t queuedBytes() const override { return queued_; }
  // While kReadBatch or more bytes are sure to come, the kernel wakes the loop only once
  // kReadBatch of them are there (SO_RCVLOWAT). A timer drops the mark when nothing came for
  // kBatchWait, so a slow sender is delayed by that at most and never stalled behind it.
  void expectAtLeast(std::size_t bytes) override;
  void closeAfterFlush() override;
  std::string peerAddress() const override;

 private:
  static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static constexpr std::size_t kFlushBytes = 64 * 1024;
  static constexpr std::size_t kMaxIovecs = 1024;
  static constexpr std::size_t kReadBatch = 256 * 1024;
  static constexpr std::chrono::milliseconds kBatchWait{20};
  void setLowWater(std::size_t bytes);
  void rearmQuickAck();
  // Sends what is gathered with uv_try_write; true when nothing is left for uv_write.
  bool tryWriteAll();
  void writeDone(std::size_t bytes, int status);
  void fail(Status reason);
  void failLater(Status reason);

  UvHandle<uv_tcp_t> handle_;
  StreamHandler* handler_ = nullptr;
  std::size_t queued_ = 0;  // written by the caller, not yet sent by the kernel
  std::vector<std::string> pending_;
  std::size_t pendingBytes_ = 0;
  std::unique_ptr<Timer> flushTimer_;  // created at the first write
  bool reading_ = false;
  bool wasCongested_ = false;
  bool closing_ = false;
  bool closed_ = false;
  std::unique_ptr<Timer> deferredFailure_;  // only after a failed write: idle streams stay small
  std::size_t lowWater_ = 1;                // SO_RCVLOWAT in force
  bool quickAck_ = false;
  std::unique_ptr<Timer> batchTimer_;  // only on streams that were asked to batch
};

}  // namespace popgate::net
