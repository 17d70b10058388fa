// ImapCommandText (astring quoting and literals, RFC 3501 §4.3, RFC 7888 LITERAL+) and
// formatUidSet.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "backends/imap/ImapFetch.h"

namespace popgate::imap {
namespace {

using Parts = std::vector<std::string>;

Parts login(std::string_view user, std::string_view password, bool literalPlus = false) {
  return ImapCommandText(literalPlus).raw("LOGIN ").string(user).raw(" ").string(password).take();
}

TEST(ImapCommandText, PlainStringsAreQuoted) {
  EXPECT_EQ(login("alice", "secret"), (Parts{R"(LOGIN "alice" "secret")"}));
  EXPECT_EQ(login("", "pass word"), (Parts{R"(LOGIN "" "pass word")"}));
  // Tabs and other 7-bit controls except CR, LF and NUL are QUOTED-CHARs.
  EXPECT_EQ(login("a", "x\ty\x01\x7f"), (Parts{"LOGIN \"a\" \"x\ty\x01\x7f\""}));
}

TEST(ImapCommandText, QuoteAndBackslashAreEscaped) {
  EXPECT_EQ(login("a\"b", R"(c\d" {5})"), (Parts{R"(LOGIN "a\"b" "c\\d\" {5}")"}));
}

TEST(ImapCommandText, SynchronizingLiteralSplitsTheCommand) {
  // The literal's bytes go after the server's "+"; the rest of the command follows them.
  EXPECT_EQ(login("alice", "p\xc3\xa4ss"), (Parts{"LOGIN \"alice\" {5}\r\n", "p\xc3\xa4ss"}));
  EXPECT_EQ(login("j\xc3\xb6rg", "x"), (Parts{"LOGIN {5}\r\n", "j\xc3\xb6rg \"x\""}));
  EXPECT_EQ(login("\xff", "\xfe"), (Parts{"LOGIN {1}\r\n", "\xff {1}\r\n", "\xfe"}));
}

TEST(ImapCommandText, LiteralPlusStaysInOnePart) {
  EXPECT_EQ(login("alice", "p\xc3\xa4ss", true), (Parts{"LOGIN \"alice\" {5+}\r\np\xc3\xa4ss"}));
  EXPECT_EQ(login("\xff", "\xfe", true), (Parts{"LOGIN {1+}\r\n\xff {1+}\r\n\xfe"}));
}

TEST(ImapCommandText, LineBreaksAndNulBecomeLiterals) {
  EXPECT_EQ(login("a", "x\ry"), (Parts{"LOGIN \"a\" {3}\r\n", "x\ry"}));
  EXPECT_EQ(login("a", "x\ny"), (Parts{"LOGIN \"a\" {3}\r\n", "x\ny"}));
  EXPECT_EQ(login("a", std::string_view("x\0y", 3)),
            (Parts{"LOGIN \"a\" {3}\r\n", std::string("x\0y", 3)}));
}

TEST(ImapCommandText, VeryLongValuesBecomeLiterals) {
  std::string fits(1023, 'a');
  EXPECT_EQ(ImapCommandText(false).string(fits).take(), (Parts{"\"" + fits + "\""}));
  std::string tooLong(1024, 'a');
  EXPECT_EQ(ImapCommandText(false).string(tooLong).take(), (Parts{"{1024}\r\n", tooLong}));
  EXPECT_EQ(ImapCommandText(true).string(tooLong).take(), (Parts{"{1024+}\r\n" + tooLong}));
}

TEST(FormatUidSet, Ranges) {
  EXPECT_EQ(formatUidSet({}), "");
  EXPECT_EQ(formatUidSet({7}), "7");
  EXPECT_EQ(formatUidSet({3, 4, 5, 9}), "3:5,9");
  EXPECT_EQ(formatUidSet({9, 5, 3, 4}), "3:5,9");
  EXPECT_EQ(formatUidSet({1, 1, 2, 2, 3}), "1:3");
  EXPECT_EQ(formatUidSet({1, 3, 5}), "1,3,5");
  EXPECT_EQ(formatUidSet({10, 11, 20, 21, 22, 30}), "10:11,20:22,30");
  EXPECT_EQ(formatUidSet({4294967294u, 4294967295u, 1}), "1,4294967294:4294967295");
}

}  // namespace
}  // namespace popgate::imap

namespace popgate::imap {
namespace {

TEST(EncodeMailboxNameTest, ModifiedUtf7) {
  EXPECT_EQ(encodeMailboxName("INBOX"), "INBOX");
  EXPECT_EQ(encodeMailboxName("Tom & Jerry"), "Tom &- Jerry");
  EXPECT_EQ(encodeMailboxName("Entw\xc3\xbcrfe"), "Entw&APw-rfe");
  // RFC 3501 §5.1.3's example: "~peter/mail/台北/日本語"
  EXPECT_EQ(encodeMailboxName(
                "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"),
            "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
  EXPECT_EQ(encodeMailboxName("\xf0\x9f\x93\xa7"), "&2D3c5w-");  // a surrogate pair
}

}  // namespace
}  // namespace popgate::imap
