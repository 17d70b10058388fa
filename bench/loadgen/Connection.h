#pragma once
// One client TCP connection on the loop, optionally TLS on memory BIOs (BoringSSL). Reads go
// into one buffer shared by every connection (one thread, and each callback consumes its
// bytes before returning), so 10,000 idle connections cost no read buffers.
//
// Lifetime: the uv handle is freed in its close callback, and no callback reaches the handler
// after close() or the destructor. Inside a callback, call close() and destroy the Connection
// later (from a fresh loop callback): the callback's caller still uses it.

#include <netinet/in.h>
#include <openssl/ssl.h>
#include <uv.h>

#include <cstddef>
#include <string_view>

namespace loadgen {

class Connection {
 public:
  class Handler {
   public:
    virtual void onConnected() = 0;                               // TCP up (TLS: handshake done)
    virtual void onData(const char* data, std::size_t size) = 0;  // plaintext
    virtual void onClosed(const char* why) = 0;                   // EOF or error; nothing follows
   protected:
    ~Handler() = default;
  };

  // `tls` null: plain TCP.
  Connection(uv_loop_t* loop, Handler& handler, SSL_CTX* tls = nullptr);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void connect(const sockaddr_in& address);
  void write(std::string_view bytes);
  void pauseReading();
  void resumeReading();
  // Closes the socket; no handler callback follows. Safe inside a callback.
  void close() { closeHandle(); }
  bool open() const { return tcp_ != nullptr; }

  // A client context that trusts anything (the bench's self-signed certificates).
  static SSL_CTX* insecureClientContext();

 private:
  struct WriteRequest;

  static void onConnect(uv_connect_t* request, int status);
  static void onAlloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf);
  static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);

  void received(const char* data, std::size_t size);
  bool advanceTls();  // handshake and decrypt; false once the connection failed
  void flushCiphertext();
  void writeRaw(const char* data, std::size_t size);
  void fail(const char* why);
  void closeHandle();

  uv_loop_t* loop_;
  Handler& handler_;
  uv_tcp_t* tcp_ = nullptr;  // owned until the close callback frees it
  SSL* ssl_ = nullptr;
  BIO* rbio_ = nullptr;  // ciphertext in (owned by ssl_)
  BIO* wbio_ = nullptr;  // ciphertext out (owned by ssl_)
  bool handshakeDone_ = false;
  bool reading_ = false;
};

}  // namespace loadgen
