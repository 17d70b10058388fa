#pragma once
// The one parser for the decimal numbers that protocols write: POP3 message numbers and line
// counts (RFC 1939), IMAP literal sizes, UIDs and message sizes (RFC 3501 "number").

#include <charconv>
#include <concepts>
#include <cstddef>
#include <limits>
#include <optional>
#include <string_view>
#include <system_error>

namespace popgate {

// ASCII digits only, at least one and at most `maxDigits` (leading zeros count): no sign, no
// space, no "0x", and a value that fits in T, or nothing. Unsigned types only, because
// std::from_chars accepts a '-' for signed ones and neither protocol has negative numbers.
template <std::unsigned_integral T>
std::optional<T> parseDecimal(std::string_view text,
                              std::size_t maxDigits = std::numeric_limits<std::size_t>::max()) {
  if (text.empty() || text.size() > maxDigits) return std::nullopt;
  T value{};
  const char* end = text.data() + text.size();
  auto [stop, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || stop != end) return std::nullopt;
  return value;
}

}  // namespace popgate
