// net::ProxiedStream over a scripted inner stream on a real libuv loop: the header is read
// before anything reaches the handler, the client's address replaces the balancer's, bytes that
// came with the header are handed on (later, not from inside startReading), and a bad, missing
// or late header ends in the callback's error.

#include <gtest/gtest.h>
#include <uv.h>

#include <memory>
#include <optional>
#include <string>

#include "lib/net/ProxiedStream.h"

namespace popgate::net {
namespace {

class ScriptedStream final : public ByteStream {
 public:
  void setHandler(StreamHandler* handler) override { handler_ = handler; }
  void startReading() override { reading = true; }
  void stopReading() override { reading = false; }
  void write(std::string bytes) override { written += bytes; }
  std::size_t queuedBytes() const override { return 0; }
  void closeAfterFlush() override {}
  std::string peerAddress() const override { return "10.0.0.2:5000"; }

  void deliver(std::string_view bytes) { handler_->onData(bytes); }
  void close() { handler_->onClosed(Error{ErrorCode::Temporary, "reset"}); }

  bool reading = false;
  std::string written;

 private:
  StreamHandler* handler_ = nullptr;
};

class Recorder final : public StreamHandler {
 public:
  void onData(std::string_view bytes) override { data += bytes; }
  void onDrained() override {}
  void onClosed(Status) override { closed = true; }
  std::string data;
  bool closed = false;
};

class ProxiedStreamTest : public ::testing::Test {
 protected:
  ProxiedStreamTest() {
    uv_loop_init(&loop_);
    auto inner = std::make_unique<ScriptedStream>();
    inner_ = inner.get();
    stream_ = std::make_unique<ProxiedStream>(&loop_, std::move(inner));
  }
  ~ProxiedStreamTest() override {
    stream_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }
  void readHeader(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    stream_->readHeader(timeout, [this](Status status) {
      result_ = status ? std::string("ok") : status.error().detail;
    });
  }
  void runOnce() { uv_run(&loop_, UV_RUN_NOWAIT); }

  uv_loop_t loop_;
  ScriptedStream* inner_ = nullptr;
  std::unique_ptr<ProxiedStream> stream_;
  std::optional<std::string> result_;
  Recorder recorder_;
};

TEST_F(ProxiedStreamTest, CarriedAddressAndTheBytesBehindTheHeader) {
  readHeader();
  EXPECT_TRUE(inner_->reading);
  stream_->setHandler(&recorder_);
  inner_->deliver("PROXY TCP4 192.0.2.1 198.51.100.7 40000 110\r");
  EXPECT_FALSE(result_);
  inner_->deliver("\nCAPA\r\n");
  ASSERT_EQ(result_, "ok");
  EXPECT_FALSE(inner_->reading);  // nobody asked for the client's bytes yet
  EXPECT_EQ(stream_->peerAddress(), "192.0.2.1:40000");
  EXPECT_EQ(recorder_.data, "");
  stream_->startReading();
  EXPECT_TRUE(inner_->reading);
  EXPECT_EQ(recorder_.data, "");  // never from inside startReading
  runOnce();
  EXPECT_EQ(recorder_.data, "CAPA\r\n");
  inner_->deliver("QUIT\r\n");
  EXPECT_EQ(recorder_.data, "CAPA\r\nQUIT\r\n");
  stream_->write("+OK\r\n");
  EXPECT_EQ(inner_->written, "+OK\r\n");
}

TEST_F(ProxiedStreamTest, BytesBeforeTheHandOverKeepTheirOrder) {
  readHeader();
  stream_->setHandler(&recorder_);
  inner_->deliver("PROXY TCP4 192.0.2.1 198.51.100.7 40000 110\r\nUSER a\r\n");
  stream_->startReading();
  inner_->deliver("PASS b\r\n");
  EXPECT_EQ(recorder_.data, "USER a\r\nPASS b\r\n");
  runOnce();
  EXPECT_EQ(recorder_.data, "USER a\r\nPASS b\r\n");
}

TEST_F(ProxiedStreamTest, LocalKeepsTheConnectionAddress) {
  readHeader();
  inner_->deliver(std::string("\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00", 16));
  ASSERT_EQ(result_, "ok");
  EXPECT_EQ(stream_->peerAddress(), "10.0.0.2:5000");
}

TEST_F(ProxiedStreamTest, NoHeaderIsAnError) {
  readHeader();
  stream_->setHandler(&recorder_);
  inner_->deliver("USER alice\r\n");
  ASSERT_TRUE(result_);
  EXPECT_EQ(*result_, "no PROXY protocol signature");
  EXPECT_EQ(recorder_.data, "");
  EXPECT_EQ(inner_->written, "");  // not a byte to an unknown peer
}

TEST_F(ProxiedStreamTest, ClosedBeforeTheHeader) {
  readHeader();
  inner_->deliver("PROXY TCP4");
  inner_->close();
  ASSERT_TRUE(result_);
  EXPECT_NE(*result_, "ok");
}

TEST_F(ProxiedStreamTest, TimesOut) {
  readHeader(std::chrono::milliseconds(1));
  inner_->deliver("PROXY ");
  uv_run(&loop_, UV_RUN_DEFAULT);
  ASSERT_TRUE(result_);
  EXPECT_EQ(*result_, "no PROXY protocol header in time");
}

}  // namespace
}  // namespace popgate::net
