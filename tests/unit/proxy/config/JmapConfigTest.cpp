// The `type: jmap` section as the config loader reads it: every key, defaults, and each
// problem reported with its line.

#include <gtest/gtest.h>

#include "backends/builtin/BuiltinBackends.h"
#include "proxy/config/Config.h"

namespace popgate::config {
namespace {

LoadedConfig load(const std::string& backend) {
  return loadConfigText(
      "listeners:\n  - {name: pop3, address: 127.0.0.1, port: 1110}\n"
      "backends:\n  j:\n" +
          backend + "routing:\n  default_backend: j\n",
      backends::builtinBackends());
}

std::string problems(const LoadedConfig& loaded) {
  std::string out;
  for (const auto& problem : loaded.problems) {
    out += std::to_string(problem.line) + ": " + problem.message + "\n";
  }
  return out;
}

TEST(JmapConfigTest, EveryKeyIsAccepted) {
  LoadedConfig loaded = load(
      "    type: jmap\n    url: https://jmap.example.org/jmap/\n    mailbox: Archive\n"
      "    delete: trash\n    proxy: http://proxy.example.org:3128\n"
      "    connect_timeout_s: 5\n    command_timeout_s: 30\n    retry_budget_s: 0\n"
      "    max_json_bytes: 1048576\n    max_connections: 8\n    verify: true\n"
      "    read_ahead_messages: 2\n    read_ahead_bytes: 0\n    read_ahead_max_in_flight: 8\n");
  EXPECT_TRUE(loaded.problems.empty()) << problems(loaded);
  ASSERT_EQ(loaded.config.backends.count("j"), 1u);
  EXPECT_EQ(loaded.config.backends.at("j")->type(), "jmap");
}

TEST(JmapConfigTest, BareHostMeansItsWellKnownResource) {
  EXPECT_TRUE(load("    type: jmap\n    url: jmap.example.org\n").problems.empty());
  EXPECT_TRUE(load("    type: jmap\n    url: http://127.0.0.1:8080\n").problems.empty());
}

TEST(JmapConfigTest, ProblemsNameTheirLine) {
  EXPECT_NE(problems(load("    type: jmap\n")).find("5: backend 'j' needs a url"),
            std::string::npos);
  EXPECT_NE(problems(load("    type: jmap\n    url: ftp://x/\n")).find("6: backend url must be"),
            std::string::npos);
  EXPECT_NE(problems(load("    type: jmap\n    url: h\n    delete: shred\n"))
                .find("7: delete must be destroy or trash"),
            std::string::npos);
  EXPECT_NE(problems(load("    type: jmap\n    url: h\n    proxy: https://p:1\n"))
                .find("7: proxy must be an http://host:port URL"),
            std::string::npos);
  EXPECT_NE(problems(load("    type: jmap\n    url: h\n    max_json_bytes: 10\n"))
                .find("7: max_json_bytes must be between"),
            std::string::npos);
  EXPECT_NE(problems(load("    type: jmap\n    url: h\n    read_ahead_messages: 65\n"))
                .find("7: read_ahead_messages must be at most 64"),
            std::string::npos);
  EXPECT_NE(problems(load("    type: jmap\n    url: h\n    read_ahead_bytes: 16777217\n"))
                .find("7: read_ahead_bytes must be at most 16777216"),
            std::string::npos);
  EXPECT_NE(problems(load("    type: jmap\n    url: h\n    read_ahead_max_in_flight: 65\n"))
                .find("7: read_ahead_max_in_flight must be at most max_connections (64)"),
            std::string::npos);
  EXPECT_NE(problems(load("    type: jmap\n    url: h\n    max_connections: 4\n"
                          "    read_ahead_max_in_flight: 5\n"))
                .find("8: read_ahead_max_in_flight must be at most max_connections (4)"),
            std::string::npos);
  // Unset, it follows a smaller max_connections.
  EXPECT_TRUE(load("    type: jmap\n    url: h\n    max_connections: 2\n").problems.empty());
  EXPECT_NE(problems(load("    type: jmap\n    url: h\n    server_name: x\n"))
                .find("unknown key 'server_name'"),
            std::string::npos);
  EXPECT_NE(problems(load("    type: jmap\n    url: h\n    host: x\n")).find("unknown key 'host'"),
            std::string::npos);
}

}  // namespace
}  // namespace popgate::config
