#include <gtest/gtest.h>

#include "lib/common/Base64.h"

namespace popgate {
namespace {

TEST(Base64Test, RoundTripAndStrictness) {
  EXPECT_EQ(encodeBase64("Username:"), "VXNlcm5hbWU6");
  EXPECT_EQ(decodeBase64("UGFzc3dvcmQ6"), std::optional<std::string>("Password:"));
  EXPECT_EQ(decodeBase64(""), std::optional<std::string>(""));
  EXPECT_FALSE(decodeBase64("not base64!"));
  EXPECT_FALSE(decodeBase64("QQ"));  // padding required
  std::string bytes("\0\xff\x80 a", 5);
  EXPECT_EQ(decodeBase64(encodeBase64(bytes)), std::optional<std::string>(bytes));
}

}  // namespace
}  // namespace popgate
