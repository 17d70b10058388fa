// net::IpNetwork: CIDR parsing and matching, as proxy_protocol_from uses it.

#include <gtest/gtest.h>

#include "lib/net/IpNetwork.h"

namespace popgate::net {
namespace {

struct Case {
  const char* network;
  const char* host;
  bool inside;
};

TEST(IpNetworkTest, Matches) {
  static constexpr Case kCases[] = {
      {"10.0.0.0/8", "10.255.1.2", true},
      {"10.0.0.0/8", "11.0.0.1", false},
      {"192.168.4.0/22", "192.168.7.255", true},
      {"192.168.4.0/22", "192.168.8.0", false},
      {"127.0.0.1", "127.0.0.1", true},  // no prefix: one address
      {"127.0.0.1", "127.0.0.2", false},
      {"0.0.0.0/0", "203.0.113.9", true},
      {"2001:db8::/32", "2001:db8:ffff::1", true},
      {"2001:db8::/32", "2001:db9::1", false},
      {"::1/128", "::1", true},
      {"fe80::/10", "febf::1", true},
      {"fe80::/10", "fec0::1", false},
      // Families do not mix...
      {"::/0", "10.0.0.1", false},
      {"0.0.0.0/0", "::1", false},
      // ...except a mapped IPv4 address, what a dual-stack "::" listener sees from IPv4.
      {"10.0.0.0/8", "::ffff:10.1.2.3", true},
      {"10.0.0.0/8", "::ffff:11.1.2.3", false},
  };
  for (const Case& c : kCases) {
    auto network = IpNetwork::parse(c.network);
    ASSERT_TRUE(network) << c.network;
    EXPECT_EQ(network->contains(c.host), c.inside) << c.network << " " << c.host;
  }
}

TEST(IpNetworkTest, RejectsWhatIsNoNetwork) {
  for (const char* text : {"", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/a", "host.example",
                           "10.0.0.0/8/8", "10.0.0/8", "10.0.0.0/0008"}) {
    EXPECT_FALSE(IpNetwork::parse(text)) << text;
  }
  EXPECT_FALSE(IpNetwork::parse("10.0.0.0/8")->contains("not an address"));
}

}  // namespace
}  // namespace popgate::net
