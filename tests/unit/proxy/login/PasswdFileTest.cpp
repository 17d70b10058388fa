// parsePasswdFile: Dovecot's passwd-file lines, comments, extra fields, and problems that name
// the line and the user but never a password.

#include <gtest/gtest.h>

#include "proxy/login/PasswdFile.h"

namespace popgate::login {
namespace {

TEST(PasswdFileTest, ReadsAllSevenFieldsAndExtraFields) {
  auto file = parsePasswdFile(
      "# users of example.org\n"
      "\n"
      "alice:{PLAIN}s3cret:1000:1000:Alice A:/home/alice:/bin/false:"
      "userdb_mail=maildir:~/Maildir nopassword allow_nets=192.0.2.0/24\r\n"
      "bob:{SHA512-CRYPT}$6$abc$def\n");
  ASSERT_TRUE(file.problems.empty());
  ASSERT_EQ(file.entries.size(), 2u);
  const PasswdEntry& alice = file.entries[0];
  EXPECT_EQ(alice.user, "alice");
  EXPECT_EQ(alice.password, "{PLAIN}s3cret");
  EXPECT_EQ(alice.uid, "1000");
  EXPECT_EQ(alice.gid, "1000");
  EXPECT_EQ(alice.gecos, "Alice A");
  EXPECT_EQ(alice.home, "/home/alice");
  EXPECT_EQ(alice.shell, "/bin/false");
  EXPECT_EQ(alice.line, 3u);
  // The fields after the seventh colon are joined with ':' again before the split at spaces.
  ExtraFields expected{
      {"userdb_mail", "maildir:~/Maildir"}, {"nopassword", ""}, {"allow_nets", "192.0.2.0/24"}};
  EXPECT_EQ(alice.extraFields, expected);
  EXPECT_EQ(file.entries[1].user, "bob");
  EXPECT_EQ(file.entries[1].password, "{SHA512-CRYPT}$6$abc$def");
  EXPECT_TRUE(file.entries[1].extraFields.empty());
  EXPECT_EQ(file.entries[1].line, 4u);
}

TEST(PasswdFileTest, UserAndPasswordAreEnough) {
  auto file = parsePasswdFile("carol:$1$salt$hash");
  ASSERT_TRUE(file.problems.empty());
  ASSERT_EQ(file.entries.size(), 1u);
  EXPECT_EQ(file.entries[0].password, "$1$salt$hash");
  EXPECT_EQ(file.entries[0].home, "");
}

TEST(PasswdFileTest, NamesKeepTheirCase) {
  // Dovecot's passwd-file hash compares with strcmp: "Dave" and "dave" are two users.
  auto file = parsePasswdFile("Dave:{PLAIN}a\ndave:{PLAIN}b\n");
  EXPECT_TRUE(file.problems.empty());
  ASSERT_EQ(file.entries.size(), 2u);
  EXPECT_EQ(file.entries[0].user, "Dave");
  EXPECT_EQ(file.entries[1].user, "dave");
}

TEST(PasswdFileTest, ProblemsNameTheLineNeverThePassword) {
  auto file = parsePasswdFile(
      "erin:{PLAIN}first-secret\n"
      "hunter2-pasted-alone\n"
      ":{PLAIN}nobody-secret\n"
      "frank:\n"
      "erin:{PLAIN}second-secret\n"
      "gina:{PLAIN}fine\n");
  ASSERT_EQ(file.problems.size(), 4u);
  EXPECT_EQ(describe(file.problems[0]), "line 2: user hunter2-pasted-alone has no password field");
  EXPECT_EQ(describe(file.problems[1]), "line 3: empty user name");
  EXPECT_EQ(describe(file.problems[2]), "line 4: user frank has an empty password");
  EXPECT_EQ(describe(file.problems[3]),
            "line 5: user erin appears more than once (the first entry is kept)");
  for (const auto& problem : file.problems) {
    EXPECT_EQ(problem.text.find("secret"), std::string::npos) << problem.text;
  }
  ASSERT_EQ(file.entries.size(), 2u);
  EXPECT_EQ(file.entries[0].password, "{PLAIN}first-secret");
  EXPECT_EQ(file.entries[1].user, "gina");
}

TEST(PasswdFileTest, NamesInProblemsAreEscaped) {
  auto file = parsePasswdFile(std::string("ev\x1b[2Jil\n", 9));
  ASSERT_EQ(file.problems.size(), 1u);
  EXPECT_EQ(file.problems[0].text, "user ev\\x1b[2Jil has no password field");
}

TEST(PasswdFileTest, NulByteIsAProblem) {
  auto file = parsePasswdFile(std::string("henry:{PLAIN}a\0b\n", 17));
  ASSERT_EQ(file.problems.size(), 1u);
  EXPECT_EQ(describe(file.problems[0]), "line 1: NUL byte in the line");
  EXPECT_TRUE(file.entries.empty());
}

TEST(PasswdFileTest, CommentsOnlyWhereTheLineStarts) {
  auto file = parsePasswdFile("#ivan:{PLAIN}x\n  \n");
  // "  " is not blank for Dovecot either: a user named "  " without a password.
  ASSERT_EQ(file.problems.size(), 1u);
  EXPECT_EQ(file.problems[0].line, 2u);
  EXPECT_TRUE(file.entries.empty());
}

}  // namespace
}  // namespace popgate::login
