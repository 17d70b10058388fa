#include "pop3/DotStuffer.h"

#include <cstring>

namespace popgate::pop3 {

void DotStuffer::append(std::string_view chunk, std::string& out) {
  const char* p = chunk.data();
  const char* end = p + chunk.size();
  while (p < end) {
    if (atLineStart_ && *p == '.') out.push_back('.');
    const void* found = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
    const char* lf = found ? static_cast<const char*>(found) : end;
    if (lf == end) {
      out.append(p, end);
      lastWasCr_ = end[-1] == '\r';
      atLineStart_ = false;
      return;
    }
    bool crBefore = lf > p ? lf[-1] == '\r' : lastWasCr_;
    out.append(p, lf);
    out.append(crBefore ? "\n" : "\r\n");
    p = lf + 1;
    atLineStart_ = true;
    lastWasCr_ = false;
  }
}

void DotStuffer::finish(std::string& out) {
  if (!atLineStart_) out.append("\r\n");
  out.append(".\r\n");
  reset();
}

}  // namespace popgate::pop3
