// uidl_format: the presets write what each store's own POP3 server writes (the forms were read
// from Dovecot's, Cyrus's and Courier's pop3d: tests/integration/test_stores.py compares them
// live), and templates in Dovecot's syntax are checked for what RFC 1939 allows.

#include <gtest/gtest.h>

#include "backends/imap/UidlFormat.h"

namespace popgate::imap {
namespace {

std::string uidl(std::string_view format, std::uint32_t uid, std::uint32_t validity) {
  auto parsed = UidlFormat::parse(format);
  EXPECT_TRUE(parsed.ok()) << format << ": " << (parsed ? "" : parsed.error().detail);
  return parsed ? parsed.value().format(uid, validity) : "";
}

TEST(UidlFormatTest, Presets) {
  EXPECT_EQ(uidl("dovecot", 0x1a, 0xdeadbeef), "0000001adeadbeef");
  EXPECT_EQ(UidlFormat().format(7, 1796474040), uidl("dovecot", 7, 1796474040));
  EXPECT_EQ(uidl("cyrus", 7, 1796474040), "1796474040.7");
  EXPECT_EQ(uidl("courier", 7, 1796474040), "UID7-1796474040");
}

TEST(UidlFormatTest, TemplatesInDovecotSyntax) {
  EXPECT_EQ(uidl("%08Xu%08Xv", 0x1a, 0xdeadbeef), "0000001adeadbeef");
  EXPECT_EQ(uidl("%u", 4294967295u, 1), "4294967295");
  EXPECT_EQ(uidl("%Xv-%Xu", 255, 16), "10-ff");
  EXPECT_EQ(uidl("%010u.%v", 42, 9), "0000000042.9");
  EXPECT_EQ(uidl("100%%-%u", 3, 9), "100%-3");
}

TEST(UidlFormatTest, RefusesWhatCannotBeAUidl) {
  for (std::string_view bad : {"", "%v", "UID %u", "%u%", "%q", "%8u", "%099u",
                               "%010u%010v%010u%010v%010u%010v%010u%010v"}) {
    EXPECT_FALSE(UidlFormat::parse(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace popgate::imap
