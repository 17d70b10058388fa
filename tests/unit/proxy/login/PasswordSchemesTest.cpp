// verifyPassword against Dovecot's own hashes, plaintextSecret, and the RFC examples of APOP
// and CRAM-MD5.
//
// Every stored password below was made with Dovecot 2.3.19.1 on Debian 12:
//   doveadm pw -s SCHEME -p 'pass word'
// except the bare $y$ (yescrypt) and $2b$ hashes, which doveadm does not make: they come from
// libxcrypt itself (crypt(3) with crypt_gensalt("$y$") and crypt_gensalt("$2b$", 4), through
// Python's ctypes).

#include <gtest/gtest.h>

#include "proxy/login/PasswordSchemes.h"

namespace popgate::login {
namespace {

constexpr std::string_view kPassword = "pass word";

struct Vector {
  std::string_view stored;
  bool needsArgon2 = false;
};

const Vector kVectors[] = {
    {"{PLAIN}pass word"},
    {"{CLEAR}pass word"},
    {"{CLEAR.B64}cGFzcyB3b3Jk"},
    {"{PLAIN.HEX}7061737320776f7264"},
    {"{CRYPT}$2y$05$7SrMRgZU53SPcovkGPjYmuWG85djXNQnJK5VLUSkQzVmfYilJiSma"},
    {"{SHA512-CRYPT}$6$slIByVK36YHwxOrB$.gy8Q5weaGAhJAI/ClaOn9SHEcAI5QSmDQsrvJn524zMRj68tb96adZwl"
     ".t9QglKYyMAdpKta0SG4xljeCqip."},
    {"{SHA512-CRYPT}$6$rounds=1000$6ghVtD2dYciPG7Se$SnKGlST7FOsPEvRgQ11a6tOBaJuQ9.4BRZPtH/CLhBh3"
     "6k6OZn/s5gfK4.R8g52x/Ka5/Q3y.L5bjca6jyrU/0"},
    {"{SHA256-CRYPT}$5$ThH2E7JWxyzmhty.$JyYXPdZa8wKIPkHlaquclbmeL.OIXlSL.TcdoGDVWCC"},
    {"{MD5-CRYPT}$1$LVILRwz8$aJm9Sj2iq6EZO1SNMXiNV/"},
    {"{BLF-CRYPT}$2y$05$h4AIhgFNlEarPIlzhz3.NuqHNneT0es5x1vFARQkUpw0.JdhrTPL."},
    {"{SHA}2oguq15ANCGsJCWKX31fllwpyEk="},
    {"{SHA.HEX}da882eab5e403421ac24258a5f7d5f965c29c849"},
    {"{SSHA}5ZprnjceRsU7hMGWQc/L1Bn00Ni40k3M"},
    {"{SHA256}eJgOJX9BJDf7+TQ3h7wA7FsQY2QpvAALKQEHM1sIl4Y="},
    {"{SHA256.B64}eJgOJX9BJDf7+TQ3h7wA7FsQY2QpvAALKQEHM1sIl4Y="},
    {"{SHA256.HEX}78980e257f412437fbf9343787bc00ec5b10636429bc000b290107335b089786"},
    {"{SSHA256}rOhj/bk/ARkRv8+4LjxEmbJNMFhAgi/0pdqo830skOq6A58l"},
    {"{SSHA256.HEX}cee579e0b022ceaa3a83c97c1c1d1c8a9bb9b2e5a3769fc53599502919589e9c3d3824f4"},
    {"{SHA512}Nq7XWhQpjD4VwA82iHbXmY8NSz1w7/A84XtT9npPaxW+U8Dt41vjbL2JY3A7kd5cgXmFPhhROfO9ihvprNn1"
     "3A=="},
    {"{SHA512.HEX}36aed75a14298c3e15c00f368876d7998f0d4b3d70eff03ce17b53f67a4f6b15be53c0ede35be36cb"
     "d8963703b91de5c8179853e185139f3bd8a1be9acd9f5dc"},
    {"{SSHA512}zuRiTlYpHRiyEk+6jLSukbUl3QSrn23qzS5/HQ9XsUpmXDMiJxn2T6DXMMMsp9/heSJPEZANoBB8VVdxgkn"
     "cg31lsvQ="},
    {"{PLAIN-MD5}4ac6430a17d0215b3052b15c879d48bc"},
    {"{LDAP-MD5}SsZDChfQIVswUrFch51IvA=="},
    {"{SMD5}6sqs0H/8RglsR43dkv+4jRHxDjo="},
    {"{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$1O/y6Ozk7UjSS2ysF4jMCw$tJMttWmOvMn64P5rshwjOj3Ddipc"
     "B6zuMBU5IPOpGzw",
     true},
    {"{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$Sks7tqPPfF1EGu4/Llv9aw$u4qY4d9e8kmTLlCgB4/cfLeFkl"
     "y4hVzVqcGWwrUGt/U",
     true},
    // No prefix: CRYPT, Dovecot's default_pass_scheme.
    {"$y$j9T$8Q7gKLt7DWMee6AwH0beZ.$XVr9PjDsCBLA0aAdnVlrGoIciVb0zkkpmzj0jJFYmWA"},
    {"$2b$04$8V0a1HxtVnjovkjFQUUxR.sxgvmtS4DQmM10umEESf8SgV5iDut0C"},
    {"$1$LVILRwz8$aJm9Sj2iq6EZO1SNMXiNV/"},
    // Scheme names are case-insensitive.
    {"{sha256-crypt}$5$ThH2E7JWxyzmhty.$JyYXPdZa8wKIPkHlaquclbmeL.OIXlSL.TcdoGDVWCC"},
};

#ifdef POPGATE_TEST_ARGON2
constexpr bool kHaveArgon2 = true;
#else
constexpr bool kHaveArgon2 = false;
#endif

TEST(PasswordSchemesTest, DovecotHashesMatchTheirPasswordOnly) {
  for (const Vector& vector : kVectors) {
    SCOPED_TRACE(vector.stored);
    if (vector.needsArgon2 && !kHaveArgon2) {
      EXPECT_EQ(verifyPassword(vector.stored, kPassword), PasswordVerdict::Unsupported);
      EXPECT_FALSE(passwordSchemeSupported(vector.stored));
      continue;
    }
    EXPECT_TRUE(passwordSchemeSupported(vector.stored));
    EXPECT_EQ(verifyPassword(vector.stored, kPassword), PasswordVerdict::Match);
    EXPECT_EQ(verifyPassword(vector.stored, "pass Word"), PasswordVerdict::Mismatch);
    EXPECT_EQ(verifyPassword(vector.stored, ""), PasswordVerdict::Mismatch);
    EXPECT_EQ(verifyPassword(vector.stored, "pass word "), PasswordVerdict::Mismatch);
  }
}

TEST(PasswordSchemesTest, UnknownSchemesAndEncodingsAreUnsupported) {
  EXPECT_EQ(verifyPassword("{SCRAM-SHA-256}4096,abc,def,ghi", kPassword),
            PasswordVerdict::Unsupported);
  EXPECT_EQ(verifyPassword("{SHA256.ROT13}xyz", kPassword), PasswordVerdict::Unsupported);
  EXPECT_FALSE(passwordSchemeSupported("{NOPE}x"));
  EXPECT_EQ(passwordSchemeName("{ssha512.hex}abc"), "SSHA512.HEX");
  EXPECT_EQ(passwordSchemeName("$6$salt$hash"), "CRYPT");
  EXPECT_EQ(passwordSchemeName("$1$salt$hash"), "MD5-CRYPT");
}

TEST(PasswordSchemesTest, MalformedDataNeverMatches) {
  EXPECT_EQ(verifyPassword("{SHA}not base64!", kPassword), PasswordVerdict::Mismatch);
  EXPECT_EQ(verifyPassword("{SHA}AAAA", kPassword), PasswordVerdict::Mismatch);  // 3 bytes
  EXPECT_EQ(verifyPassword("{SSHA}2oguq15ANCGsJCWKX31fllwpyEk=", kPassword),     // no salt
            PasswordVerdict::Mismatch);
  EXPECT_EQ(verifyPassword("{CRYPT}", ""), PasswordVerdict::Mismatch);
  EXPECT_EQ(verifyPassword("{CRYPT}*", kPassword), PasswordVerdict::Mismatch);
  EXPECT_EQ(verifyPassword("{CRYPT}!locked", kPassword), PasswordVerdict::Mismatch);
  EXPECT_EQ(verifyPassword("{SHA512-CRYPT}$6$slIByVK36YHwxOrB$truncated", kPassword),
            PasswordVerdict::Mismatch);
  // A NUL would cut crypt()'s phrase short: "pass word\0x" must not pass as "pass word".
  EXPECT_EQ(verifyPassword("{MD5-CRYPT}$1$LVILRwz8$aJm9Sj2iq6EZO1SNMXiNV/",
                           std::string_view("pass word\0x", 11)),
            PasswordVerdict::Mismatch);
  if (kHaveArgon2) {
    EXPECT_EQ(verifyPassword("{ARGON2ID}$argon2id$garbage", kPassword), PasswordVerdict::Mismatch);
  }
}

TEST(PasswordSchemesTest, PlaintextSecretOnlyForPlaintextSchemes) {
  EXPECT_EQ(plaintextSecret("{PLAIN}pass word"), "pass word");
  EXPECT_EQ(plaintextSecret("{clear}pass word"), "pass word");
  EXPECT_EQ(plaintextSecret("{CLEARTEXT}pass word"), "pass word");
  EXPECT_EQ(plaintextSecret("{CLEAR.B64}cGFzcyB3b3Jk"), "pass word");
  EXPECT_EQ(plaintextSecret("{PLAIN.HEX}7061737320776f7264"), "pass word");
  EXPECT_EQ(plaintextSecret("{SHA}2oguq15ANCGsJCWKX31fllwpyEk="), std::nullopt);
  EXPECT_EQ(plaintextSecret("{MD5-CRYPT}$1$LVILRwz8$aJm9Sj2iq6EZO1SNMXiNV/"), std::nullopt);
  EXPECT_EQ(plaintextSecret("pass word"), std::nullopt);  // bare: CRYPT
  EXPECT_EQ(plaintextSecret("{PLAIN.HEX}zz"), std::nullopt);
}

TEST(PasswordSchemesTest, ApopExampleOfRfc1939) {
  // RFC 1939 §7: S: +OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>
  //              C: APOP mrose c4c9334bac560ecc979e58001b3e22fb   (secret "tanstaaf")
  constexpr std::string_view kTimestamp = "<1896.697170952@dbc.mtview.ca.us>";
  EXPECT_TRUE(verifyApop("tanstaaf", kTimestamp, "c4c9334bac560ecc979e58001b3e22fb"));
  EXPECT_TRUE(verifyApop("tanstaaf", kTimestamp, "C4C9334BAC560ECC979E58001B3E22FB"));
  EXPECT_FALSE(verifyApop("tanstaaF", kTimestamp, "c4c9334bac560ecc979e58001b3e22fb"));
  EXPECT_FALSE(verifyApop("tanstaaf", "<1896.697170953@dbc.mtview.ca.us>",
                          "c4c9334bac560ecc979e58001b3e22fb"));
  EXPECT_FALSE(verifyApop("tanstaaf", kTimestamp, "c4c9334bac560ecc979e58001b3e22f"));
  EXPECT_FALSE(verifyApop("tanstaaf", kTimestamp, "c4c9334bac560ecc979e58001b3e22fbaa"));
  EXPECT_FALSE(verifyApop("tanstaaf", kTimestamp, "x4c9334bac560ecc979e58001b3e22fb"));
  EXPECT_FALSE(verifyApop("tanstaaf", kTimestamp, ""));
}

TEST(PasswordSchemesTest, CramMd5ExampleOfRfc2195) {
  // RFC 2195 §2: S: + PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+
  //              C: dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw
  // that is, the challenge below and "tim b913a602c7eda7a495b4e6e7334d3890" (secret
  // "tanstaaftanstaaf").
  constexpr std::string_view kChallenge = "<1896.697170952@postoffice.reston.mci.net>";
  EXPECT_TRUE(verifyCramMd5("tanstaaftanstaaf", kChallenge, "b913a602c7eda7a495b4e6e7334d3890"));
  EXPECT_TRUE(verifyCramMd5("tanstaaftanstaaf", kChallenge, "B913A602C7EDA7A495B4E6E7334D3890"));
  EXPECT_FALSE(verifyCramMd5("tanstaaf", kChallenge, "b913a602c7eda7a495b4e6e7334d3890"));
  EXPECT_FALSE(verifyCramMd5("tanstaaftanstaaf", "<1896.697170952@postoffice.reston.mci.net> ",
                             "b913a602c7eda7a495b4e6e7334d3890"));
  EXPECT_FALSE(verifyCramMd5("tanstaaftanstaaf", kChallenge, "b913a602"));
}

TEST(PasswordSchemesTest, ApopAndCramMd5WithDovecotPlainSecret) {
  // The secret comes from the file: {PLAIN}pass word (doveadm pw -s PLAIN -p 'pass word').
  auto secret = plaintextSecret("{PLAIN}pass word");
  ASSERT_TRUE(secret);
  // MD5("<1.2@example.org>pass word") and HMAC-MD5("pass word", "<1.2@example.org>"), from
  // Python's hashlib and hmac.
  EXPECT_TRUE(verifyApop(*secret, "<1.2@example.org>", "8028518070b38e308f61733de18c3025"));
  EXPECT_TRUE(verifyCramMd5(*secret, "<1.2@example.org>", "cc42ce391507cdb0bce1d20f88b1764a"));
}

}  // namespace
}  // namespace popgate::login
