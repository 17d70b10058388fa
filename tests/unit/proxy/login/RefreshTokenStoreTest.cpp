// RefreshTokenStore: the JSON file of per-user refresh tokens, its reload (SIGHUP) and the
// atomic rewrite after a rotation.

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "proxy/login/RefreshTokenStore.h"

namespace popgate::login {
namespace {

class RefreshTokenStoreTest : public ::testing::Test {
 protected:
  RefreshTokenStoreTest() {
    std::string pattern = ::testing::TempDir() + "/popgate-tokens-XXXXXX";
    folder_ = ::mkdtemp(pattern.data());
    path_ = folder_ + "/tokens.json";
  }
  ~RefreshTokenStoreTest() override {
    for (const auto& name : files()) ::unlink((folder_ + "/" + name).c_str());
    ::rmdir(folder_.c_str());
  }

  void write(const std::string& text) { std::ofstream(path_, std::ios::trunc) << text; }
  std::string read() const {
    std::ifstream in(path_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  std::vector<std::string> files() const {
    std::vector<std::string> names;
    if (DIR* dir = ::opendir(folder_.c_str())) {
      while (dirent* entry = ::readdir(dir)) {
        std::string name = entry->d_name;
        if (name != "." && name != "..") names.push_back(name);
      }
      ::closedir(dir);
    }
    return names;
  }

  std::string folder_;
  std::string path_;
  RefreshTokenStore store_;
};

TEST(RefreshTokenFile, IsAJsonObjectOfNonEmptyStrings) {
  auto tokens = parseRefreshTokens(R"({"a@example.com":"r1","b@example.com":"r2"})");
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(tokens.value().at("b@example.com"), "r2");
  EXPECT_TRUE(parseRefreshTokens("{}").ok());
  for (const char* bad : {"", "[]", "{\"a\":1}", "{\"a\":\"\"}", "{\"a\":null}", "{\"a\":\"x\""}) {
    EXPECT_FALSE(parseRefreshTokens(bad).ok()) << bad;
  }
  auto again = parseRefreshTokens(serializeRefreshTokens({{"a\"b", "t/+="}, {"c", "d"}}));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value(), (std::map<std::string, std::string>{{"a\"b", "t/+="}, {"c", "d"}}));
}

TEST_F(RefreshTokenStoreTest, LoadsAndLooksUpExactly) {
  write(R"({"john@example.com": "r-john", "mary@example.com": "r-mary"})");
  ASSERT_TRUE(store_.load(path_).ok());
  EXPECT_EQ(store_.size(), 2u);
  EXPECT_EQ(store_.get("john@example.com"), "r-john");
  EXPECT_EQ(store_.get("John@example.com"), std::nullopt);
  EXPECT_EQ(store_.get("nobody"), std::nullopt);
}

TEST_F(RefreshTokenStoreTest, AMissingOrBrokenFileIsAnError) {
  auto missing = store_.load(path_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::Invalid);
  write(R"({"john@example.com": )");
  auto broken = store_.load(path_);
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().detail.find(path_), std::string::npos);
  EXPECT_FALSE(store_.reload().ok());  // nothing was loaded
}

TEST_F(RefreshTokenStoreTest, ReloadTakesEditsAndKeepsTheOldTokensOnError) {
  write(R"({"john@example.com": "r1"})");
  ASSERT_TRUE(store_.load(path_).ok());
  write(R"({"john@example.com": "r2", "mary@example.com": "r3"})");
  ASSERT_TRUE(store_.reload().ok());
  EXPECT_EQ(store_.get("john@example.com"), "r2");
  EXPECT_EQ(store_.get("mary@example.com"), "r3");
  write("{ half an edit");
  EXPECT_FALSE(store_.reload().ok());
  EXPECT_EQ(store_.get("john@example.com"), "r2");
  EXPECT_EQ(store_.size(), 2u);
}

TEST_F(RefreshTokenStoreTest, UpdateRewritesTheFileAtomicallyWithMode0600) {
  write(R"({"john@example.com": "r1", "mary@example.com": "m1"})");
  ::chmod(path_.c_str(), 0644);
  ASSERT_TRUE(store_.load(path_).ok());
  ASSERT_TRUE(store_.update("john@example.com", "r2").ok());
  EXPECT_EQ(store_.get("john@example.com"), "r2");
  auto onDisk = parseRefreshTokens(read());
  ASSERT_TRUE(onDisk.ok()) << read();
  EXPECT_EQ(onDisk.value(), (std::map<std::string, std::string>{{"john@example.com", "r2"},
                                                                {"mary@example.com", "m1"}}));
  struct stat info {};
  ASSERT_EQ(::stat(path_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(files(), std::vector<std::string>{"tokens.json"});  // no temporary file left
  // A new store reads what the rotation wrote.
  RefreshTokenStore later;
  ASSERT_TRUE(later.load(path_).ok());
  EXPECT_EQ(later.get("john@example.com"), "r2");
}

TEST_F(RefreshTokenStoreTest, UpdateKeepsEntriesEditedSinceTheLoad) {
  write(R"({"john@example.com": "r1"})");
  ASSERT_TRUE(store_.load(path_).ok());
  write(R"({"john@example.com": "r1", "new@example.com": "n1"})");  // not yet reloaded
  ASSERT_TRUE(store_.update("john@example.com", "r2").ok());
  auto onDisk = parseRefreshTokens(read());
  ASSERT_TRUE(onDisk.ok());
  EXPECT_EQ(onDisk.value().at("new@example.com"), "n1");
  EXPECT_EQ(onDisk.value().at("john@example.com"), "r2");
  EXPECT_EQ(store_.get("new@example.com"), std::nullopt);  // until reload()
  ASSERT_TRUE(store_.reload().ok());
  EXPECT_EQ(store_.get("new@example.com"), "n1");
}

TEST_F(RefreshTokenStoreTest, AFailedWriteKeepsTheNewTokenInMemory) {
  write(R"({"john@example.com": "r1"})");
  ASSERT_TRUE(store_.load(path_).ok());
  // A folder where the file was: no rename(2) can replace it, whoever runs the test.
  ::unlink(path_.c_str());
  ASSERT_EQ(::mkdir(path_.c_str(), 0700), 0);
  auto saved = store_.update("john@example.com", "r2");
  ::rmdir(path_.c_str());
  ASSERT_FALSE(saved.ok());
  EXPECT_NE(saved.error().detail.find("rename"), std::string::npos) << saved.error().detail;
  EXPECT_EQ(store_.get("john@example.com"), "r2");
  EXPECT_TRUE(files().empty());  // the temporary file was removed
}

TEST_F(RefreshTokenStoreTest, WorkerThreadsRotateAndReadAtOnce) {
  std::string text = "{";
  for (int i = 0; i < 8; ++i) {
    text += (i ? "," : "") + std::string("\"u") + std::to_string(i) + "\":\"t0\"";
  }
  write(text + "}");
  ASSERT_TRUE(store_.load(path_).ok());
  std::vector<std::thread> workers;
  for (int i = 0; i < 8; ++i) {
    workers.emplace_back([this, i] {
      std::string who = "u" + std::to_string(i);
      for (int round = 1; round <= 5; ++round) {
        EXPECT_TRUE(store_.update(who, "t" + std::to_string(round)).ok());
        EXPECT_EQ(store_.get(who), "t" + std::to_string(round));
      }
    });
  }
  for (auto& worker : workers) worker.join();
  auto onDisk = parseRefreshTokens(read());
  ASSERT_TRUE(onDisk.ok());
  ASSERT_EQ(onDisk.value().size(), 8u);
  for (const auto& [who, token] : onDisk.value()) EXPECT_EQ(token, "t5") << who;
}

}  // namespace
}  // namespace popgate::login
