// A backend's `lock:` policy (popgate's key, next to `login:`; the kind never sees it).

#include <gtest/gtest.h>

#include <string>

#include "backends/builtin/BuiltinBackends.h"
#include "proxy/config/Config.h"

namespace popgate::config {
namespace {

std::string firstProblem(const LoadedConfig& loaded) {
  return loaded.problems.empty() ? "" : loaded.problems[0].message;
}

TEST(LockPolicyConfigTest, ExclusiveByDefaultNonePerBackendOrDomain) {
  auto loadBackends = [](const std::string& backends, const std::string& domains = "") {
    return loadConfigText(
        "workers: 1\nlisteners:\n  - {name: p, address: 127.0.0.1, port: 1110}\n"
        "backends:\n" +
            backends + "routing:\n  default_backend: a\n" + domains,
        backends::builtinBackends());
  };
  LoadedConfig loaded = loadBackends(
      "  a: { type: imap, host: 127.0.0.1 }\n"
      "  b: { type: imap, host: 127.0.0.1, lock: none }\n"
      "  c: { type: imap, host: 127.0.0.1, lock: exclusive, login: { mode: passthrough } }\n");
  ASSERT_TRUE(loaded.problems.empty()) << firstProblem(loaded);
  auto lockOf = [&](const std::string& name) {
    auto it = loaded.config.logins.find(name);
    return it == loaded.config.logins.end() ? login::LockPolicy::Exclusive : it->second.lock;
  };
  EXPECT_EQ(lockOf("a"), login::LockPolicy::Exclusive);
  EXPECT_EQ(lockOf("b"), login::LockPolicy::None);
  EXPECT_EQ(lockOf("c"), login::LockPolicy::Exclusive);
  loaded = loadBackends(
      "  a: { type: imap, host: 127.0.0.1 }\n",
      "  domains:\n    phone.test: { backend: a, lock: none }\n    desk.test: { backend: a }\n");
  ASSERT_TRUE(loaded.problems.empty()) << firstProblem(loaded);
  EXPECT_EQ(loaded.config.routing.domains.at("phone.test").lock, login::LockPolicy::None);
  EXPECT_FALSE(loaded.config.routing.domains.at("desk.test").lock);
  loaded = loadBackends("  a: { type: imap, host: 127.0.0.1, lock: shared }\n");
  ASSERT_EQ(loaded.problems.size(), 1u) << firstProblem(loaded);
  EXPECT_EQ(loaded.problems[0].message, "lock must be exclusive or none");
}

}  // namespace
}  // namespace popgate::config
