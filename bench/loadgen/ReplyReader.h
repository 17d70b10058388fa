#pragma once
// Frames POP3 replies from a byte stream, chunk by chunk (RFC 1939 §3): a status line, and for
// multi-line replies everything up to CRLF.CRLF. The body is either kept (LIST, UIDL: small)
// or only counted (RETR: never copied). No allocation per byte; the status line and a kept
// body grow in reserved strings.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace loadgen {

class ReplyReader {
 public:
  enum class Shape { Line, MultiLine };
  enum class Body { Count, Keep };
  static constexpr std::size_t kMaxStatusLine = 4096;

  ReplyReader();

  // Starts reading the next reply.
  void expect(Shape shape, Body body = Body::Count);

  // Consumes bytes of the current reply; returns how many were used (fewer than `size` only
  // once the reply is complete or malformed).
  std::size_t feed(const char* data, std::size_t size);

  bool complete() const { return phase_ == Phase::Done; }
  bool malformed() const { return phase_ == Phase::Malformed; }
  bool ok() const { return status_.starts_with("+OK"); }
  std::string_view statusLine() const { return status_; }  // with its CRLF
  std::string_view body() const { return body_; }          // kept body, terminator included
  std::uint64_t bodyBytes() const { return bodyBytes_; }   // kept or counted, terminator included

 private:
  enum class Phase { Status, Body, Done, Malformed };

  std::size_t feedStatus(const char* data, std::size_t size);
  std::size_t feedBody(const char* data, std::size_t size);

  Shape shape_ = Shape::Line;
  Body keep_ = Body::Count;
  Phase phase_ = Phase::Done;
  std::string status_;
  std::string body_;
  std::uint64_t bodyBytes_ = 0;
  int matched_ = 0;  // how much of CRLF.CRLF the bytes so far end with
};

}  // namespace loadgen
