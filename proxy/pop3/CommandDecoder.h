#pragma once
// Splits the client's byte stream into POP3 command lines. Pure: no I/O, resumable at any byte.

#include <cstddef>
#include <string>
#include <string_view>

namespace popgate::pop3 {

struct Command {
  std::string verb;  // upper-cased keyword (RFC 1939 §3: keywords are case-insensitive)
  std::string rest;  // everything after the first space, unparsed (PASS may contain spaces)
};

enum class DecodeStatus {
  NeedMore,     // no complete line buffered yet
  Command,      // `out` holds the next command
  Invalid,      // a line that is not a command (empty, bad keyword, NUL byte)
  LineTooLong,  // a line longer than its limit; its bytes up to the next LF are dropped
};

class CommandDecoder {
 public:
  // RFC 2449 §4: a command line is at most 255 octets including the CRLF.
  static constexpr std::size_t kMaxLine = 255;
  // SASL lines carry OAuth2 tokens (Microsoft's exceed 2 KB), so an AUTH command line (its
  // initial response) and the client's SASL responses may be up to this long, CRLF included.
  static constexpr std::size_t kMaxSaslLine = 16384;

  explicit CommandDecoder(std::size_t maxSaslLine = kMaxSaslLine)
      : maxSaslLine_(maxSaslLine < kMaxLine ? kMaxLine : maxSaslLine) {}

  void feed(std::string_view bytes) { buffer_.append(bytes); }
  DecodeStatus next(Command& out);

  // Returns the next complete line (without CRLF) as is, for SASL continuations; lines up to
  // the SASL limit.
  DecodeStatus nextRawLine(std::string& out);

  std::size_t buffered() const { return buffer_.size() - consumed_; }
  // Drops every byte received so far (RFC 2595 §4: nothing sent before TLS may be acted on after).
  void discardBuffered();

 private:
  DecodeStatus takeLine(std::string_view& line, bool sasl);
  std::size_t limitFor(std::string_view pending, bool sasl) const;
  void compact();

  std::size_t maxSaslLine_;
  std::string buffer_;
  std::size_t consumed_ = 0;
  bool discarding_ = false;  // inside an over-long line, skipping to its LF
};

}  // namespace popgate::pop3
