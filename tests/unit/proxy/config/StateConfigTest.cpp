// The `state:` section: local by default, the redis keys, and problems with their lines.

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "proxy/config/Config.h"
#include "support/MinimalConfig.h"

namespace popgate::config {
namespace {

using testing::load;
using testing::problems;

TEST(StateConfigTest, LocalByDefault) {
  LoadedConfig loaded = load("");
  EXPECT_TRUE(loaded.problems.empty()) << problems(loaded);
  EXPECT_EQ(loaded.config.state.type, StateType::Local);
}

TEST(StateConfigTest, RedisKeysAndDefaults) {
  LoadedConfig loaded = load("state: {type: redis}\n");
  EXPECT_TRUE(loaded.problems.empty()) << problems(loaded);
  const StateConfig& state = loaded.config.state;
  EXPECT_EQ(state.type, StateType::Redis);
  EXPECT_EQ(state.address, "127.0.0.1");
  EXPECT_EQ(state.port, 6379);
  EXPECT_EQ(state.keyPrefix, "popgate:");
  EXPECT_EQ(state.lease, std::chrono::seconds(60));
  EXPECT_TRUE(state.password.empty());

  std::string path = ::testing::TempDir() + "popgate-state-password";
  std::ofstream(path) << "s3cret\n";
  loaded = load(
      "state:\n  type: redis\n  address: \"::1\"\n  port: 6380\n  key_prefix: \"mx:\"\n"
      "  lease_s: 2\n  connect_timeout_s: 1\n  password_file: " +
      path + "\n");
  std::remove(path.c_str());
  EXPECT_TRUE(loaded.problems.empty()) << problems(loaded);
  EXPECT_EQ(loaded.config.state.address, "::1");
  EXPECT_EQ(loaded.config.state.port, 6380);
  EXPECT_EQ(loaded.config.state.keyPrefix, "mx:");
  EXPECT_EQ(loaded.config.state.lease, std::chrono::seconds(2));
  EXPECT_EQ(loaded.config.state.connectTimeout, std::chrono::seconds(1));
  EXPECT_EQ(loaded.config.state.password, "s3cret");  // trailing newline dropped
}

TEST(StateConfigTest, ProblemsHaveTheirLines) {
  EXPECT_EQ(problems(load("state: {type: memcached}\n")), "7: state type must be local or redis\n");
  EXPECT_EQ(problems(load("state:\n  type: redis\n  address: redis.internal\n")), "");
  EXPECT_EQ(problems(load("state:\n  type: redis\n  address: \"redis internal\"\n")),
            "9: state address must be an IP address or a host name: redis internal\n");
  EXPECT_NE(problems(load("state:\n  type: redis\n  lease_s: 0\n")).find("9: "), std::string::npos);
  EXPECT_NE(problems(load("state:\n  type: redis\n  password_file: /nonexistent/pw\n"))
                .find("9: state password_file: "),
            std::string::npos);
  EXPECT_NE(problems(load("state: {type: redis, ttl: 3}\n")).find("7: "), std::string::npos);
}

TEST(StateConfigTest, RedisKeysWithTypeLocalAreAWarning) {
  LoadedConfig loaded = load("state:\n  port: 6379\n");
  EXPECT_TRUE(loaded.problems.empty()) << problems(loaded);
  ASSERT_EQ(loaded.warnings.size(), 1u);
  EXPECT_EQ(loaded.warnings[0].line, 8);
}

}  // namespace
}  // namespace popgate::config
