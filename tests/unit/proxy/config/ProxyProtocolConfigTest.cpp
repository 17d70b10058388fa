// Listener keys for load balancers: proxy_protocol needs the balancers' networks, and turns
// auth_requires_tls on by default wherever the listener is (the clients are remote), without
// demanding a TLS mode of the listener (TLS may end at the balancer).

#include <gtest/gtest.h>

#include <string>

#include "backends/builtin/BuiltinBackends.h"
#include "proxy/config/Config.h"

namespace popgate::config {
namespace {

LoadedConfig load(const std::string& listenerKeys) {
  return loadConfigText(R"(workers: 1
listeners:
  - name: balanced
    address: 127.0.0.1
    port: 1110
)" + listenerKeys + R"(
backends:
  local: { type: imap, host: 127.0.0.1, port: 143 }
routing:
  default_backend: local
)",
                        backends::builtinBackends());
}

std::string problems(const LoadedConfig& loaded) {
  std::string out;
  for (const auto& problem : loaded.problems)
    out += std::to_string(problem.line) + ": " + problem.message + "\n";
  return out;
}

TEST(ProxyProtocolConfigTest, DefaultsToOffAndLoopbackNeedsNoTls) {
  LoadedConfig loaded = load("");
  ASSERT_TRUE(loaded.problems.empty()) << problems(loaded);
  const ListenerConfig& listener = loaded.config.listeners.at(0);
  EXPECT_FALSE(listener.proxyProtocol);
  EXPECT_FALSE(listener.authRequiresTls);
}

TEST(ProxyProtocolConfigTest, BehindABalancerLoginRequiresTlsByDefault) {
  LoadedConfig loaded = load(
      "    proxy_protocol: true\n    proxy_protocol_from: [10.0.0.0/8, \"2001:db8::/32\", "
      "127.0.0.1]\n");
  ASSERT_TRUE(loaded.problems.empty()) << problems(loaded);
  const ListenerConfig& listener = loaded.config.listeners.at(0);
  EXPECT_TRUE(listener.proxyProtocol);
  EXPECT_TRUE(listener.authRequiresTls);
  ASSERT_EQ(listener.proxyProtocolFrom.size(), 3u);
  EXPECT_TRUE(listener.proxyProtocolFrom[0].contains("10.1.2.3"));
  EXPECT_TRUE(listener.proxyProtocolFrom[1].contains("2001:db8::7"));

  loaded = load(
      "    proxy_protocol: true\n    proxy_protocol_from: [127.0.0.1]\n"
      "    auth_requires_tls: false\n");
  ASSERT_TRUE(loaded.problems.empty()) << problems(loaded);
  EXPECT_FALSE(loaded.config.listeners.at(0).authRequiresTls);
}

TEST(ProxyProtocolConfigTest, NeedsTheBalancersNetworks) {
  LoadedConfig loaded = load("    proxy_protocol: true\n");
  ASSERT_EQ(loaded.problems.size(), 1u) << problems(loaded);
  EXPECT_NE(loaded.problems[0].message.find("proxy_protocol_from"), std::string::npos);
  loaded = load("    proxy_protocol: true\n    proxy_protocol_from: []\n");
  EXPECT_EQ(loaded.problems.size(), 1u) << problems(loaded);
}

TEST(ProxyProtocolConfigTest, ReportsWhatIsNoNetworkWithItsLine) {
  LoadedConfig loaded = load(
      "    proxy_protocol: true\n    proxy_protocol_from:\n      - 10.0.0.0/8\n"
      "      - lb.example.org\n      - 10.0.0.0/40\n");
  ASSERT_EQ(loaded.problems.size(), 2u) << problems(loaded);
  EXPECT_EQ(loaded.problems[0].line, 9);
  EXPECT_NE(loaded.problems[0].message.find("lb.example.org"), std::string::npos);
  EXPECT_EQ(loaded.problems[1].line, 10);
  loaded = load("    proxy_protocol: true\n    proxy_protocol_from: 10.0.0.0/8\n");
  EXPECT_EQ(loaded.problems.size(), 1u) << problems(loaded);  // not a list
}

}  // namespace
}  // namespace popgate::config
