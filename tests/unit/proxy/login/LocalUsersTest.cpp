// LocalUsers on a real libuv loop: every proof kind, answers that never come from inside
// check(), cancellation while the thread pool is still hashing, and reload() keeping the old
// table when the new file has problems.
//
// Hashes made with Dovecot 2.3.19.1: doveadm pw -s SCHEME [-r ROUNDS] -p PASSWORD.

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <optional>
#include <thread>

#include "proxy/login/LocalUsers.h"
#include "support/LoopRunner.h"

namespace popgate::login {
namespace {

using imap::test::LoopRunner;

constexpr std::string_view kAlice =  // doveadm pw -s SHA512-CRYPT -p 'alice pw'
    "alice:{SHA512-CRYPT}$6$kBsC5tYYqOfNsBTa$i0ddVrVN3TCGCX8G1xEX3fDvPBr.9UJ8fIZ6hW2N.rEPh/"
    "vjRTjSUqD"
    "HrWD1tloCL2JRIDP5FwnNVtFcTldGN1::::::upstream_user=alice@example.org\n";
constexpr std::string_view kBob =  // doveadm pw -s BLF-CRYPT -p 'bob pw'
    "bob:{BLF-CRYPT}$2y$05$EJqs9DatEwAt4JHSwY4vX.vDlP7/IhCxhiDOfXPnHzytu.FxbpEee\n";
constexpr std::string_view kTim = "tim:{PLAIN}tanstaaftanstaaf\n";  // RFC 2195's user
constexpr std::string_view kSlow =  // doveadm pw -s SHA512-CRYPT -r 400000 -p 'slow one'
    "slow:{SHA512-CRYPT}$6$rounds=400000$9LsWm4q4AvsHd1eV$"
    "sjy1KP0HAjFBUg6THpfA69SI4vVNGo20mjXQIUNZpb"
    "mw8FEjXViJCWSdFZi7ztCyBqA3Uons0wuTWtbgOgKzU.\n";
constexpr std::string_view kScram = "sam:{SCRAM-SHA-256}4096,c2FsdA==,a2V5,c2Vydg==\n";

class LocalUsersTest : public ::testing::Test {
 protected:
  void write(std::string_view text) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out << text;
  }

  std::shared_ptr<LocalUsers> load(std::string_view text) {
    write(text);
    auto users = LocalUsers::load(path_);
    EXPECT_TRUE(users) << (users ? "" : users.error().detail);
    return users ? users.value() : nullptr;
  }

  // Starts a check, shows that it did not answer from inside, and waits for the answer.
  Result<LocalUser> check(LocalUsers& users, std::string user, Proof proof) {
    std::optional<Result<LocalUser>> outcome;
    Pending pending = users.check(loop_.loop(), std::move(user), std::move(proof),
                                  [&](Result<LocalUser> r) { outcome = std::move(r); });
    EXPECT_FALSE(outcome) << "answered from inside check()";
    EXPECT_TRUE(loop_.runUntil([&] { return outcome.has_value(); }));
    if (!outcome) return Error{ErrorCode::Temporary, "no answer"};
    return std::move(*outcome);
  }

  // Runs until no request is left on the loop (the thread pool's work items have come back).
  // runUntil's own guard timer keeps the loop alive while it runs, so the loop is asked between
  // short runs.
  bool waitIdle() {
    for (int i = 0; i < 1000 && uv_loop_alive(loop_.loop()); ++i) {
      loop_.runFor(std::chrono::milliseconds(10));
    }
    return uv_loop_alive(loop_.loop()) == 0;
  }

  static void expectRefused(const Result<LocalUser>& result, std::string_view detail) {
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, ErrorCode::Auth);
    EXPECT_NE(result.error().detail.find(detail), std::string::npos) << result.error().detail;
  }

  std::string path_ = ::testing::TempDir() + "popgate-passwd-" +
                      ::testing::UnitTest::GetInstance()->current_test_info()->name();
  LoopRunner loop_;
};

TEST_F(LocalUsersTest, PasswordsAreCheckedOnThePool) {
  auto users = load(std::string(kAlice) + std::string(kBob));
  ASSERT_TRUE(users);
  EXPECT_EQ(users->size(), 2u);
  Result<LocalUser> alice = check(*users, "alice", PasswordProof{"alice pw"});
  ASSERT_TRUE(alice);
  EXPECT_EQ(alice.value().name, "alice");
  ExtraFields extra{{"upstream_user", "alice@example.org"}};
  EXPECT_EQ(alice.value().extraFields, extra);
  EXPECT_TRUE(check(*users, "bob", PasswordProof{"bob pw"}));
  expectRefused(check(*users, "bob", PasswordProof{"alice pw"}), "wrong password");
  expectRefused(check(*users, "Alice", PasswordProof{"alice pw"}), "unknown user");
  expectRefused(check(*users, "nobody", PasswordProof{"x"}), "unknown user");
}

TEST_F(LocalUsersTest, UnsupportedSchemeIsRefusedAndNamed) {
  auto users = load(kScram);
  ASSERT_TRUE(users);
  expectRefused(check(*users, "sam", PasswordProof{"pencil"}),
                "password scheme SCRAM-SHA-256 is not supported");
}

TEST_F(LocalUsersTest, ApopAndCramMd5NeedAPlaintextSecret) {
  auto users = load(std::string(kTim) + std::string(kAlice));
  ASSERT_TRUE(users);
  EXPECT_TRUE(users->hasChallengeSecrets());
  // RFC 2195 §2's exchange; APOP with the same secret (MD5 from Python's hashlib).
  constexpr std::string_view kChallenge = "<1896.697170952@postoffice.reston.mci.net>";
  EXPECT_TRUE(check(*users, "tim",
                    CramMd5Proof{std::string(kChallenge), "b913a602c7eda7a495b4e6e7334d3890"}));
  expectRefused(check(*users, "tim",
                      CramMd5Proof{std::string(kChallenge), "b913a602c7eda7a495b4e6e7334d3891"}),
                "wrong CRAM-MD5 digest");
  expectRefused(
      check(*users, "tim", ApopProof{std::string(kChallenge), "d16ff9ac2a65d209022d7eb541ecf24e"}),
      "wrong APOP digest");
  EXPECT_TRUE(
      check(*users, "tim", ApopProof{std::string(kChallenge), "d16ff9ac2a65d209022d7eb541ecf24d"}));
  expectRefused(check(*users, "alice",
                      ApopProof{std::string(kChallenge), "d16ff9ac2a65d209022d7eb541ecf24d"}),
                "APOP needs a plaintext-equivalent password; scheme SHA512-CRYPT is not");
  expectRefused(check(*users, "nobody",
                      ApopProof{std::string(kChallenge), "d16ff9ac2a65d209022d7eb541ecf24d"}),
                "unknown user");
  expectRefused(check(*users, "nobody", CramMd5Proof{std::string(kChallenge), "00"}),
                "unknown user");
}

TEST_F(LocalUsersTest, BearerTokensAreNotCheckable) {
  auto users = load(kAlice);
  ASSERT_TRUE(users);
  EXPECT_FALSE(users->hasChallengeSecrets());
  expectRefused(check(*users, "alice", BearerProof{"ya29.token"}), "bearer token");
}

TEST_F(LocalUsersTest, CancelledBeforeTheHashIsDone) {
  auto users = load(kSlow);
  ASSERT_TRUE(users);
  int fired = 0;
  // Dropped at once (probably still queued), then dropped while the pool hashes.
  users->check(loop_.loop(), "slow", PasswordProof{"slow one"}, [&](Result<LocalUser>) { ++fired; })
      .reset();
  Pending pending = users->check(loop_.loop(), "slow", PasswordProof{"slow one"},
                                 [&](Result<LocalUser>) { ++fired; });
  loop_.runFor(std::chrono::milliseconds(20));
  pending.reset();
  users.reset();  // the table too: the work item holds what it reads
  EXPECT_TRUE(waitIdle()) << "the cancelled work items never came back from the pool";
  EXPECT_EQ(fired, 0);
}

TEST_F(LocalUsersTest, CancelledChallengeNeverAnswers) {
  auto users = load(kTim);
  ASSERT_TRUE(users);
  bool fired = false;
  users
      ->check(loop_.loop(), "tim", CramMd5Proof{"<1@x>", "00"},
              [&](Result<LocalUser>) { fired = true; })
      .reset();
  users->check(loop_.loop(), "tim", BearerProof{"t"}, [&](Result<LocalUser>) { fired = true; })
      .reset();
  loop_.runFor(std::chrono::milliseconds(20));
  EXPECT_FALSE(fired);
}

TEST_F(LocalUsersTest, TheHandleMayGoFromInsideDone) {
  auto users = load(kBob);
  ASSERT_TRUE(users);
  Pending pending;
  bool fired = false;
  pending = users->check(loop_.loop(), "bob", PasswordProof{"bob pw"}, [&](Result<LocalUser> r) {
    fired = r.ok();
    pending.reset();
  });
  EXPECT_TRUE(loop_.runUntil([&] { return fired; }));
}

TEST_F(LocalUsersTest, ReloadKeepsTheOldTableOnProblems) {
  auto users = load(kAlice);
  ASSERT_TRUE(users);
  write(std::string(kBob) + "carol:{PLAIN}carol-secret\ncarol:{PLAIN}other-secret\nbroken\n");
  Status status = users->reload();
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::Invalid);
  EXPECT_NE(status.error().detail.find("line 3: user carol appears more than once"),
            std::string::npos)
      << status.error().detail;
  EXPECT_NE(status.error().detail.find("line 4: user broken has no password field"),
            std::string::npos);
  EXPECT_EQ(status.error().detail.find("secret"), std::string::npos) << status.error().detail;
  EXPECT_TRUE(check(*users, "alice", PasswordProof{"alice pw"}));
  expectRefused(check(*users, "bob", PasswordProof{"bob pw"}), "unknown user");
  EXPECT_FALSE(users->hasChallengeSecrets());

  write(std::string(kBob) + std::string(kTim));
  ASSERT_TRUE(users->reload());
  EXPECT_TRUE(check(*users, "bob", PasswordProof{"bob pw"}));
  expectRefused(check(*users, "alice", PasswordProof{"alice pw"}), "unknown user");
  EXPECT_TRUE(users->hasChallengeSecrets());
}

TEST_F(LocalUsersTest, LoadReportsProblemsAndMissingFiles) {
  write("dave:{PLAIN}dave-secret\ndave:{PLAIN}again\n");
  auto users = LocalUsers::load(path_);
  ASSERT_FALSE(users);
  EXPECT_EQ(users.error().code, ErrorCode::Invalid);
  EXPECT_NE(users.error().detail.find("line 2"), std::string::npos);
  EXPECT_EQ(users.error().detail.find("secret"), std::string::npos);
  auto missing = LocalUsers::load(path_ + ".missing");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().detail.find("cannot open"), std::string::npos);
}

TEST_F(LocalUsersTest, ReloadWhileChecking) {
  auto users = load(std::string(kBob) + std::string(kTim));
  ASSERT_TRUE(users);
  std::atomic<bool> stop{false};
  std::thread reloader([&] {
    while (!stop) users->reload();
  });
  int answered = 0;
  std::vector<Pending> pendings;
  for (int i = 0; i < 20; ++i) {
    pendings.push_back(users->check(loop_.loop(), "bob", PasswordProof{"bob pw"},
                                    [&](Result<LocalUser> r) { answered += r.ok(); }));
    pendings.push_back(users->check(loop_.loop(), "tim", CramMd5Proof{"<1@x>", "00"},
                                    [&](Result<LocalUser> r) { answered += !r.ok(); }));
  }
  EXPECT_TRUE(loop_.runUntil([&] { return answered == 40; }));
  stop = true;
  reloader.join();
}

}  // namespace
}  // namespace popgate::login
