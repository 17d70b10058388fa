#include "pop3/DotStuffer.h"

#include <cstring>

namespace popgate::pop3 {

template <class Emit>
void DotStuffer::stuff(std::string_view chunk, Emit&& emit) {
  static constexpr std::string_view kDot = ".";
  static constexpr std::string_view kCrLf = "\r\n";
  if (chunk.empty()) return;
  const char* begin = chunk.data();
  const char* end = begin + chunk.size();
  auto between = [](const char* from, const char* to) {
    return std::string_view(from, static_cast<std::size_t>(to - from));
  };
  // Unchanged spans go out whole: a well-formed CRLF message with no leading dots is one piece
  // per chunk, whatever its line count (the RETR hot path).
  const char* span = begin;
  const char* p = begin;
  while (p < end) {
    if (atLineStart_ && *p == '.') {
      if (p > span) emit(between(span, p));
      emit(kDot);
      span = p;  // the original '.' starts the next span
    }
    const void* found = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
    if (!found) break;
    const char* lf = static_cast<const char*>(found);
    bool crBefore = lf > begin ? lf[-1] == '\r' : lastWasCr_;
    if (!crBefore) {
      if (lf > span) emit(between(span, lf));
      emit(kCrLf);
      span = lf + 1;
    }
    p = lf + 1;
    atLineStart_ = true;
    lastWasCr_ = false;
  }
  if (end > span) emit(between(span, end));
  if (end[-1] != '\n') {
    atLineStart_ = false;
    lastWasCr_ = end[-1] == '\r';
  }
}

void DotStuffer::append(std::string_view chunk, std::string& out) {
  stuff(chunk, [&out](std::string_view piece) { out.append(piece); });
}

void DotStuffer::append(std::string_view chunk, std::vector<std::string_view>& pieces) {
  stuff(chunk, [&pieces](std::string_view piece) { pieces.push_back(piece); });
}

void DotStuffer::finish(std::string& out) {
  if (!atLineStart_) out.append("\r\n");
  out.append(".\r\n");
  reset();
}

}  // namespace popgate::pop3
