// net::IpNetwork: CIDR parsing and matching, as proxy_protocol_from uses it.

#include <gtest/gtest.h>

#include "lib/net/IpNetwork.h"

namespace popgate::net {
namespace {

bool within(const char* network, const char* host) {
  auto parsed = IpNetwork::parse(network);
  EXPECT_TRUE(parsed) << network;
  return parsed && parsed->contains(host);
}

TEST(IpNetworkTest, Ipv4Prefixes) {
  EXPECT_TRUE(within("10.0.0.0/8", "10.255.1.2"));
  EXPECT_FALSE(within("10.0.0.0/8", "11.0.0.1"));
  EXPECT_TRUE(within("192.168.4.0/22", "192.168.7.255"));
  EXPECT_FALSE(within("192.168.4.0/22", "192.168.8.0"));
  EXPECT_TRUE(within("127.0.0.1", "127.0.0.1"));
  EXPECT_FALSE(within("127.0.0.1", "127.0.0.2"));
  EXPECT_TRUE(within("0.0.0.0/0", "203.0.113.9"));
}

TEST(IpNetworkTest, Ipv6Prefixes) {
  EXPECT_TRUE(within("2001:db8::/32", "2001:db8:ffff::1"));
  EXPECT_FALSE(within("2001:db8::/32", "2001:db9::1"));
  EXPECT_TRUE(within("::1/128", "::1"));
  EXPECT_TRUE(within("fe80::/10", "febf::1"));
  EXPECT_FALSE(within("fe80::/10", "fec0::1"));
}

TEST(IpNetworkTest, FamiliesDoNotMixExceptMappedIpv4) {
  EXPECT_FALSE(within("::/0", "10.0.0.1"));
  EXPECT_FALSE(within("0.0.0.0/0", "::1"));
  // What a dual-stack "::" listener sees from an IPv4 client.
  EXPECT_TRUE(within("10.0.0.0/8", "::ffff:10.1.2.3"));
  EXPECT_FALSE(within("10.0.0.0/8", "::ffff:11.1.2.3"));
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
