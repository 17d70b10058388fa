#pragma once
// Argument parsing shared by the POP3 command handlers. Pure functions.

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace popgate::pop3 {

// A decimal number of at most 9 digits: no sign, no spaces (RFC 1939 message numbers and
// line counts). Leading zeros are accepted, as Dovecot does.
std::optional<std::uint32_t> parseNumber(std::string_view text);

// Splits on single spaces; empty fields (double spaces) are kept so that callers reject them.
std::vector<std::string_view> splitArgs(std::string_view text);

}  // namespace popgate::pop3
