#include "lib/net/IpNetwork.h"

#include <arpa/inet.h>

#include <cstring>

namespace popgate::net {

namespace {

struct ParsedAddress {
  std::array<unsigned char, 16> bytes{};
  bool v6 = false;
};

std::optional<ParsedAddress> parseAddressLiteral(std::string_view text) {
  ParsedAddress out;
  std::string copy(text);
  if (inet_pton(AF_INET, copy.c_str(), out.bytes.data()) == 1) return out;
  out.v6 = true;
  if (inet_pton(AF_INET6, copy.c_str(), out.bytes.data()) == 1) return out;
  return std::nullopt;
}

// ::ffff:a.b.c.d (RFC 4291 §2.5.5.2) as the IPv4 address it stands for.
void unmapIpv4(ParsedAddress& address) {
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (!address.v6 || std::memcmp(address.bytes.data(), kMapped, sizeof(kMapped)) != 0) return;
  std::memmove(address.bytes.data(), address.bytes.data() + 12, 4);
  std::memset(address.bytes.data() + 4, 0, 12);
  address.v6 = false;
}

}  // namespace

std::optional<IpNetwork> IpNetwork::parse(std::string_view text) {
  std::size_t slash = text.find('/');
  auto address = parseAddressLiteral(text.substr(0, slash));
  if (!address) return std::nullopt;
  unsigned bits = address->v6 ? 128 : 32;
  IpNetwork out;
  out.prefix_ = bits;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return std::nullopt;
    unsigned prefix = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      prefix = prefix * 10 + static_cast<unsigned>(c - '0');
    }
    if (prefix > bits) return std::nullopt;
    out.prefix_ = prefix;
  }
  out.address_ = address->bytes;
  out.v6_ = address->v6;
  out.text_ = std::string(text);
  return out;
}

bool IpNetwork::contains(std::string_view host) const {
  auto address = parseAddressLiteral(host);
  if (!address) return false;
  if (!v6_) unmapIpv4(*address);
  if (address->v6 != v6_) return false;
  unsigned whole = prefix_ / 8;
  if (std::memcmp(address->bytes.data(), address_.data(), whole) != 0) return false;
  unsigned rest = prefix_ % 8;
  if (rest == 0) return true;
  auto mask = static_cast<unsigned char>(0xFF << (8 - rest));
  return (address->bytes[whole] & mask) == (address_[whole] & mask);
}

}  // namespace popgate::net
