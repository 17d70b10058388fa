#pragma once
// Case folding for protocol keywords (POP3 verbs, IMAP atoms, domain names): ASCII only, never
// the C locale, so that 8-bit bytes pass through unchanged.

#include <string>
#include <string_view>

namespace popgate {

inline std::string asciiUpper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

inline std::string asciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace popgate
