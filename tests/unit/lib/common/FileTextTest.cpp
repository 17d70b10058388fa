// The bounded whole-file read every config-like file goes through.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "lib/common/FileText.h"

namespace popgate {
namespace {

class FileTextTest : public ::testing::Test {
 protected:
  FileTextTest() {
    char path[] = "/tmp/popgate-filetext-XXXXXX";
    close(mkstemp(path));
    path_ = path;
  }
  ~FileTextTest() override { std::remove(path_.c_str()); }
  std::string path_;
};

TEST_F(FileTextTest, ReadsTheWholeFileWithinTheBound) {
  std::string text(40000, 'x');
  text += "\nend";
  std::ofstream(path_, std::ios::binary) << text;
  auto read = readFileText(path_, text.size());
  ASSERT_TRUE(read);
  EXPECT_EQ(read.value(), text);
}

TEST_F(FileTextTest, AFileOverTheBoundIsAnError) {
  std::ofstream(path_, std::ios::binary) << std::string(100, 'x');
  auto read = readFileText(path_, 99);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code, ErrorCode::Invalid);
  EXPECT_EQ(read.error().detail, path_ + " is larger than 99 octets");
}

TEST_F(FileTextTest, AMissingFileNamesThePathAndTheReason) {
  auto read = readFileText(path_ + ".missing", 100);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().detail, "cannot open " + path_ + ".missing: No such file or directory");
}

}  // namespace
}  // namespace popgate
