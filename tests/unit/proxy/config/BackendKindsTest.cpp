// The backend registry: a kind that popgate does not know registers itself in a test, parses its
// own section with line-numbered problems, and serves logins through the same authenticator as
// every built-in kind. Nothing outside backends/<kind> and the registration names a kind.

#include <gtest/gtest.h>

#include "backends/builtin/BuiltinBackends.h"
#include "fakes/FakeMailbox.h"
#include "fakes/ManualExecutor.h"
#include "proxy/config/Config.h"
#include "proxy/login/PassthroughAuthenticator.h"

namespace popgate::config {
namespace {

// `type: memo`: one key of its own (`greeting`), required.
class MemoBackend final : public backends::Backend {
 public:
  explicit MemoBackend(fakes::MailboxLog& log) : log_(log) {}
  std::unique_ptr<backends::Mailbox> newMailbox() override {
    return std::make_unique<fakes::FakeMailbox>(log_);
  }

 private:
  fakes::MailboxLog& log_;
};

fakes::MailboxLog memoLog;
int memoInstances = 0;

class MemoDefinition final : public backends::BackendDefinition {
 public:
  MemoDefinition(std::string name, std::string text)
      : BackendDefinition(std::move(name), "memo"), greeting(std::move(text)) {}
  std::unique_ptr<backends::Backend> instantiate(uv_loop_t*) const override {
    ++memoInstances;
    return std::make_unique<MemoBackend>(memoLog);
  }
  std::string greeting;
};

std::shared_ptr<const backends::BackendDefinition> parseMemo(ConfigReader& reader,
                                                             const YAML::Node& section,
                                                             const std::string& name) {
  reader.mapping(section, "backend", {backends::kBackendTypeKey, "greeting"});
  std::string greeting;
  if (!section["greeting"])
    reader.problem(section, "backend '" + name + "' needs a greeting");
  else
    reader.scalar(section["greeting"], "greeting", greeting);
  return std::make_shared<MemoDefinition>(name, greeting);
}

backends::BackendRegistry registryWithMemo() {
  backends::BackendRegistry registry = backends::builtinBackends();
  registry.add("memo", &parseMemo);  // the one registration line
  return registry;
}

const char* kConfig = R"(workers: 1
listeners:
  - { name: pop3, address: 127.0.0.1, port: 1110 }
backends:
  notes:
    type: memo
    greeting: hello
  store:
    type: imap
    host: 127.0.0.1
routing:
  default_backend: store
  domains:
    memo.example: { backend: notes, upstream_user: local }
)";

TEST(BackendKindsTest, BuiltinKindsAreRegistered) {
  EXPECT_EQ(backends::builtinBackends().types(), (std::vector<std::string>{"imap", "jmap"}));
}

TEST(BackendKindsTest, RegisteredKindParsesItsOwnSection) {
  LoadedConfig loaded = loadConfigText(kConfig, registryWithMemo());
  ASSERT_TRUE(loaded.problems.empty()) << loaded.problems[0].message;
  ASSERT_EQ(loaded.config.backends.count("notes"), 1u);
  const auto& notes = loaded.config.backends.at("notes");
  EXPECT_EQ(notes->type(), "memo");
  EXPECT_EQ(notes->name(), "notes");
  EXPECT_EQ(dynamic_cast<const MemoDefinition&>(*notes).greeting, "hello");
  EXPECT_EQ(loaded.config.backends.at("store")->type(), "imap");
}

TEST(BackendKindsTest, KindProblemsHaveLinesAndUnknownKeysAreErrors) {
  std::string yaml = kConfig;
  yaml.replace(yaml.find("greeting: hello"), 15, "colour: blue");
  LoadedConfig loaded = loadConfigText(yaml, registryWithMemo());
  ASSERT_EQ(loaded.problems.size(), 2u);
  EXPECT_EQ(loaded.problems[0].line, 7);
  EXPECT_EQ(loaded.problems[0].message, "unknown key 'colour' in backend");
  EXPECT_EQ(loaded.problems[1].message, "backend 'notes' needs a greeting");
}

TEST(BackendKindsTest, UnknownTypeListsTheRegisteredOnes) {
  LoadedConfig loaded = loadConfigText(kConfig, backends::builtinBackends());
  ASSERT_FALSE(loaded.problems.empty());
  EXPECT_EQ(loaded.problems[0].line, 6);
  EXPECT_EQ(loaded.problems[0].message, "unsupported backend type 'memo' (supported: imap, jmap)");
}

TEST(BackendKindsTest, LoginsReachTheRegisteredKind) {
  LoadedConfig loaded = loadConfigText(kConfig, registryWithMemo());
  ASSERT_TRUE(loaded.problems.empty());
  std::map<std::string, std::unique_ptr<backends::Backend>> instances;
  std::map<std::string, backends::Backend*> byName;
  for (const auto& [name, definition] : loaded.config.backends) {
    instances[name] = definition->instantiate(nullptr);
    byName[name] = instances[name].get();
  }
  EXPECT_EQ(memoInstances, 1);
  fakes::ManualExecutor loop;
  login::PassthroughAuthenticator authenticator(loaded.config.routing, byName, loop);
  std::optional<Result<login::LoginGrant>> outcome;
  Pending pending = authenticator.authenticate(
      {"carol@memo.example", {}, login::PasswordProof{"pw"}, "127.0.0.1:5"},
      [&](Result<login::LoginGrant> grant) { outcome = std::move(grant); });
  loop.runAll();
  ASSERT_TRUE(outcome && *outcome);
  EXPECT_EQ(outcome->value().credentials.user, "carol");
  EXPECT_EQ(fakes::passwordOf(outcome->value().credentials), "pw");
  EXPECT_EQ(memoLog.live, outcome->value().mailbox.get());
}

}  // namespace
}  // namespace popgate::config
