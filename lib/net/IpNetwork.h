#pragma once
// An IP network in CIDR notation ("10.0.0.0/8", "2001:db8::/32", or one address without a
// prefix), to tell whether a connection comes from where a trusted peer (a load balancer) is.

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace popgate::net {

class IpNetwork {
 public:
  // Nullopt when `text` is not an address literal with an optional /prefix of its family's size.
  static std::optional<IpNetwork> parse(std::string_view text);

  // `host` is an address literal without port or brackets (LoginGuard::hostOf's result). An
  // IPv4-mapped IPv6 address ("::ffff:192.0.2.1", what a dual-stack "::" listener sees from an
  // IPv4 client) matches IPv4 networks as the IPv4 address it is.
  bool contains(std::string_view host) const;
  const std::string& text() const { return text_; }

 private:
  std::array<unsigned char, 16> address_{};
  bool v6_ = false;
  unsigned prefix_ = 0;
  std::string text_;
};

}  // namespace popgate::net
