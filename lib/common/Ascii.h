#pragma once
// Case folding for protocol keywords (POP3 verbs, IMAP atoms, domain names): ASCII only, never
// the C locale, so that 8-bit bytes pass through unchanged.

#include <cstdint>
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

// Case-insensitive comparison with an upper-case constant, without allocating.
inline bool asciiEqualsUpper(std::string_view text, std::string_view upper) {
  if (text.size() != upper.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != upper[i]) return false;
  }
  return true;
}

// Case-insensitive comparison of two arbitrary strings (HTTP field names), without allocating.
inline bool asciiEqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

inline bool asciiStartsWithUpper(std::string_view text, std::string_view upper) {
  return text.size() >= upper.size() && asciiEqualsUpper(text.substr(0, upper.size()), upper);
}

// Without the spaces and tabs around it (HTTP's optional whitespace, RFC 9110 §5.6.3).
inline std::string_view trimSpaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Appends n in decimal: the snapshot and listings do this hundreds of times per session.
inline void appendDecimal(std::string& out, std::uint64_t n) {
  char digits[20];
  std::size_t length = 0;
  do {
    digits[length++] = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n != 0);
  while (length > 0) out.push_back(digits[--length]);
}

}  // namespace popgate
