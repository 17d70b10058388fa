#include "backends/mailbox/MessageTop.h"

namespace popgate::backends {

std::string_view MessageTop::take(std::string_view bytes) {
  if (done_) return {};
  std::size_t pos = 0;
  while (pos < bytes.size() && state_ != State::Body) {
    char c = bytes[pos++];
    switch (state_) {
      case State::LineStart:
        if (c == '\n')
          state_ = State::Body;  // a bare-LF blank line
        else if (c == '\r')
          state_ = State::LineStartCr;
        else
          state_ = State::InHeaderLine;
        break;
      case State::LineStartCr:
        if (c == '\n')
          state_ = State::Body;
        else
          state_ = State::InHeaderLine;  // "\r" then text: a header line after all
        break;
      case State::InHeaderLine:
        if (c == '\n') state_ = State::LineStart;
        break;
      case State::Body:
        break;
    }
  }
  if (state_ != State::Body) return bytes;
  while (linesLeft_ > 0 && pos < bytes.size()) {
    std::size_t lf = bytes.find('\n', pos);
    if (lf == std::string_view::npos) return bytes;
    pos = lf + 1;
    --linesLeft_;
  }
  if (linesLeft_ == 0) done_ = true;
  return bytes.substr(0, pos);
}

}  // namespace popgate::backends
