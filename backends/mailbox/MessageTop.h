#pragma once
// TOP n m over a store that can only hand out whole messages (JMAP blobs, REST downloads):
// passes the header, the blank line that ends it and at most m lines of the body, then says
// it is done. What it passes is always a prefix of the message, so TOP stays a prefix of RETR
// (RFC 1939 §7). Lines end at LF; the blank line is "\r\n" or a bare "\n" at a line start.
// A message without a blank line is all header and passes whole. Pure: bytes in, bytes out.

#include <cstdint>
#include <string_view>

namespace popgate::backends {

class MessageTop {
 public:
  explicit MessageTop(std::uint32_t bodyLines) : linesLeft_(bodyLines) {}

  // The prefix of `bytes` that belongs to TOP's answer; after done(), always empty.
  std::string_view take(std::string_view bytes);
  bool done() const { return done_; }

 private:
  enum class State { LineStart, LineStartCr, InHeaderLine, Body };
  State state_ = State::LineStart;
  std::uint32_t linesLeft_;
  bool done_ = false;
};

}  // namespace popgate::backends
