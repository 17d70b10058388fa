#pragma once
// Text from the network on its way into a log line: every byte outside printable ASCII (and the
// backslash) becomes \xHH, so a name or an id can neither forge a line (CR, LF) nor drive a
// terminal (ESC), and long text is cut with a mark.

#include <string>
#include <string_view>

namespace popgate {

inline std::string logText(std::string_view text, std::size_t maxBytes = 256) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size() < maxBytes ? text.size() : maxBytes);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i == maxBytes) {
      out += "...";
      break;
    }
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace popgate
