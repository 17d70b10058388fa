#pragma once
// The rules of RFC 1939 §3 one byte at a time, with nothing clever: what DotStuffer's block
// scan must reproduce for any input. Shared by the unit test and the fuzz target.

#include <string>
#include <string_view>

namespace popgate::reference {

inline std::string stuff(std::string_view message) {
  std::string out;
  bool lineStart = true;
  char previous = 0;
  for (char c : message) {
    if (lineStart && c == '.') out.push_back('.');
    if (c == '\n' && previous != '\r') out.push_back('\r');
    out.push_back(c);
    lineStart = c == '\n';
    previous = c;
  }
  if (!lineStart) out.append("\r\n");
  out.append(".\r\n");
  return out;
}

}  // namespace popgate::reference
