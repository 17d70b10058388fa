// ${NAME} references in configuration values: the pure expansion, then through the loader so
// that a problem names its line.

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <map>

#include "lib/config/ConfigReader.h"
#include "lib/config/EnvExpansion.h"

namespace popgate::config {
namespace {

const std::map<std::string, std::string> kEnvironment = {
    {"HOST", "imap.example.org"}, {"PORT", "993"}, {"EMPTY", ""}};

std::optional<std::string> lookup(const std::string& name) {
  auto it = kEnvironment.find(name);
  if (it == kEnvironment.end()) return std::nullopt;
  return it->second;
}

std::string expanded(std::string_view text) {
  auto result = expandEnvironment(text, lookup);
  return result ? result.value() : "error: " + result.error().detail;
}

TEST(EnvExpansionTest, ReplacesSetVariables) {
  EXPECT_EQ(expanded("${HOST}"), "imap.example.org");
  EXPECT_EQ(expanded("imaps://${HOST}:${PORT}/x"), "imaps://imap.example.org:993/x");
  EXPECT_EQ(expanded("${EMPTY}"), "");
}

TEST(EnvExpansionTest, DefaultsApplyWhenUnsetOrEmpty) {
  EXPECT_EQ(expanded("${UNSET:-143}"), "143");
  EXPECT_EQ(expanded("${EMPTY:-fallback}"), "fallback");
  EXPECT_EQ(expanded("${PORT:-143}"), "993");
  EXPECT_EQ(expanded("${UNSET:-}"), "");
}

TEST(EnvExpansionTest, LeavesOtherDollarsAlone) {
  EXPECT_EQ(expanded("$6$salt$hash"), "$6$salt$hash");
  EXPECT_EQ(expanded("pa$$word"), "pa$$word");
  EXPECT_EQ(expanded("$${HOST}"), "${HOST}");
  EXPECT_EQ(expanded("end$"), "end$");
}

TEST(EnvExpansionTest, ValuesAreNotExpandedTwice) {
  auto nested = [](const std::string& name) -> std::optional<std::string> {
    if (name == "A") return std::string("${B}");
    return std::nullopt;
  };
  EXPECT_EQ(expandEnvironment("${A}", nested).value(), "${B}");
}

TEST(EnvExpansionTest, ErrorsNameTheProblem) {
  EXPECT_EQ(expanded("${UNSET}"),
            "error: environment variable UNSET is not set (or write ${UNSET:-default})");
  EXPECT_NE(expanded("${HOST").find("unterminated"), std::string::npos);
  EXPECT_NE(expanded("${}").find("malformed"), std::string::npos);
  EXPECT_NE(expanded("${1X}").find("malformed"), std::string::npos);
  EXPECT_NE(expanded("${HOST:+x}").find("malformed"), std::string::npos);
}

TEST(EnvExpansionTest, ConfigReaderExpandsScalarsAndReportsTheLine) {
  std::vector<ConfigProblem> problems;
  std::vector<ConfigProblem> warnings;
  ConfigReader reader(problems, warnings);
  reader.setEnvironment(lookup);
  YAML::Node node = YAML::Load("host: ${HOST}\nport: ${PORT}\nother: ${MISSING}\n");
  std::string host;
  int port = 0;
  std::string other;
  EXPECT_TRUE(reader.scalar(node["host"], "host", host));
  EXPECT_EQ(host, "imap.example.org");
  reader.port(node["port"], "port", port);
  EXPECT_EQ(port, 993);
  EXPECT_FALSE(reader.scalar(node["other"], "other", other));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].line, 3);
  EXPECT_EQ(problems[0].message,
            "other: environment variable MISSING is not set (or write ${MISSING:-default})");
}

}  // namespace
}  // namespace popgate::config
