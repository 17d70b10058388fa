#include "pop3/DotStuffer.h"

#include <cstring>

namespace popgate::pop3 {

void DotStuffer::append(std::string_view chunk, std::string& out) {
  if (chunk.empty()) return;
  const char* begin = chunk.data();
  const char* end = begin + chunk.size();
  // Copy unchanged spans whole: a well-formed CRLF message with no leading dots is one append
  // per chunk, whatever its line count (the RETR hot path).
  const char* span = begin;
  const char* p = begin;
  while (p < end) {
    if (atLineStart_ && *p == '.') {
      out.append(span, p);
      out.push_back('.');
      span = p;  // the original '.' starts the next span
    }
    const void* found = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
    if (!found) break;
    const char* lf = static_cast<const char*>(found);
    bool crBefore = lf > begin ? lf[-1] == '\r' : lastWasCr_;
    if (!crBefore) {
      out.append(span, lf);
      out.append("\r\n");
      span = lf + 1;
    }
    p = lf + 1;
    atLineStart_ = true;
    lastWasCr_ = false;
  }
  out.append(span, end);
  if (end[-1] != '\n') {
    atLineStart_ = false;
    lastWasCr_ = end[-1] == '\r';
  }
}

void DotStuffer::finish(std::string& out) {
  if (!atLineStart_) out.append("\r\n");
  out.append(".\r\n");
  reset();
}

}  // namespace popgate::pop3
