// The `admin:` and `log:` sections: keys, defaults, and problems with their lines.

#include <gtest/gtest.h>

#include "proxy/config/Config.h"
#include "support/MinimalConfig.h"

namespace popgate::config {
namespace {

using testing::load;
using testing::problems;

TEST(ObservabilityConfigTest, AdminIsOffByDefault) {
  LoadedConfig loaded = load("");
  EXPECT_TRUE(loaded.problems.empty()) << problems(loaded);
  EXPECT_FALSE(loaded.config.admin);
  EXPECT_EQ(loaded.config.log.format, LogFormat::Text);
}

TEST(ObservabilityConfigTest, AdminListensOnLoopbackUnlessTold) {
  LoadedConfig loaded = load("admin: {port: 9110}\n");
  ASSERT_TRUE(loaded.problems.empty()) << problems(loaded);
  ASSERT_TRUE(loaded.config.admin);
  EXPECT_EQ(loaded.config.admin->address, "127.0.0.1");
  EXPECT_EQ(loaded.config.admin->port, 9110);
  loaded = load("admin: {address: \"::\", port: 9110}\n");
  ASSERT_TRUE(loaded.problems.empty()) << problems(loaded);
  EXPECT_EQ(loaded.config.admin->address, "::");
}

TEST(ObservabilityConfigTest, AdminProblems) {
  EXPECT_EQ(problems(load("admin: {address: localhost, port: 9110}\n")),
            "7: admin address must be an IPv4 or IPv6 literal: localhost\n");
  EXPECT_EQ(problems(load("admin: {address: 127.0.0.1}\n")), "7: admin needs a port\n");
  EXPECT_EQ(problems(load("admin: {port: 1110}\n")),
            "7: admin has the same address and port as listener 'pop3'\n");
  EXPECT_NE(problems(load("admin: {port: 9110, tls: true}\n")).find("tls"), std::string::npos);
}

TEST(ObservabilityConfigTest, LogFormat) {
  LoadedConfig loaded = load("log: {level: debug, format: json}\n");
  ASSERT_TRUE(loaded.problems.empty()) << problems(loaded);
  EXPECT_EQ(loaded.config.log.format, LogFormat::Json);
  EXPECT_EQ(loaded.config.log.level, "debug");
  EXPECT_EQ(problems(load("log: {format: xml}\n")), "7: log format must be text or json\n");
  EXPECT_EQ(problems(load("log: {level: loud}\n")),
            "7: log level must be one of trace, debug, info, warn, error, off\n");
}

}  // namespace
}  // namespace popgate::config
