// The login steps on their own: PassthroughAuthenticator (SDPS routing, the client's password
// upstream) and LocalLockService, each answering from the loop and never after being cancelled.

#include <gtest/gtest.h>

#include "fakes/FakeMailbox.h"
#include "fakes/ManualExecutor.h"
#include "proxy/login/LocalLockService.h"
#include "proxy/login/PassthroughAuthenticator.h"

namespace popgate::login {
namespace {

class CountingBackend final : public backends::Backend {
 public:
  std::unique_ptr<backends::Mailbox> newMailbox() override {
    return std::make_unique<fakes::FakeMailbox>(log);
  }
  fakes::MailboxLog log;
};

class PassthroughAuthenticatorTest : public ::testing::Test {
 protected:
  PassthroughAuthenticatorTest() {
    route::RoutingTable table;
    table.defaultBackend = "main";
    table.domains["example.org"] = {"other", route::UpstreamUser::Local};
    authenticator_ = std::make_unique<PassthroughAuthenticator>(
        table, std::map<std::string, backends::Backend*>{{"main", &main_}, {"other", &other_}},
        loop_);
  }

  Pending start(std::string login, Proof proof) {
    return authenticator_->authenticate(
        {std::move(login), {}, std::move(proof), "192.0.2.1:4000"},
        [this](Result<LoginGrant> grant) { outcome_ = std::move(grant); });
  }

  fakes::ManualExecutor loop_;
  CountingBackend main_;
  CountingBackend other_;
  std::unique_ptr<PassthroughAuthenticator> authenticator_;
  std::optional<Result<LoginGrant>> outcome_;
};

TEST_F(PassthroughAuthenticatorTest, RoutesAndPassesThePasswordOn) {
  Pending pending = start("carol+example.org", PasswordProof{"s3cret"});
  EXPECT_FALSE(outcome_) << "answered from inside authenticate()";
  EXPECT_EQ(loop_.runAll(), 1);
  ASSERT_TRUE(outcome_ && *outcome_);
  LoginGrant& grant = outcome_->value();
  EXPECT_EQ(grant.credentials.user, "carol");
  EXPECT_EQ(fakes::passwordOf(grant.credentials), "s3cret");
  EXPECT_EQ(other_.log.created, 1);
  EXPECT_EQ(main_.log.created, 0);
  EXPECT_EQ(grant.lockKey, std::string("other\0carol", 11));
}

TEST_F(PassthroughAuthenticatorTest, OnlyPasswordsCanBePassedOn) {
  Pending pending = start("alice", BearerProof{"token"});
  loop_.runAll();
  ASSERT_TRUE(outcome_);
  ASSERT_FALSE(*outcome_);
  EXPECT_EQ(outcome_->error().code, ErrorCode::Auth);
  EXPECT_EQ(main_.log.created, 0);
}

TEST_F(PassthroughAuthenticatorTest, CancelledBeforeTheAnswerNeverAnswersNorBuildsAMailbox) {
  Pending pending = start("alice", PasswordProof{"pw"});
  pending.reset();
  EXPECT_EQ(loop_.runAll(), 0);
  EXPECT_FALSE(outcome_);
  EXPECT_EQ(main_.log.created, 0);
  EXPECT_EQ(loop_.cancelled, 1);
}

TEST(LocalLockServiceTest, OneHolderPerKeyAndReleaseOnDestruction) {
  fakes::ManualExecutor loop;
  InProcessLocks locks;
  LocalLockService service(locks, loop);
  std::optional<Result<std::unique_ptr<MailboxLock>>> first;
  std::optional<Result<std::unique_ptr<MailboxLock>>> second;
  Pending a = service.acquire("k", [&](auto lock) { first = std::move(lock); });
  Pending b = service.acquire("k", [&](auto lock) { second = std::move(lock); });
  EXPECT_FALSE(first) << "answered from inside acquire()";
  EXPECT_EQ(locks.size(), 0u) << "locked before the step ran";
  loop.runAll();
  ASSERT_TRUE(first && *first);
  ASSERT_TRUE(second && !*second);
  EXPECT_EQ(second->error().code, ErrorCode::InUse);
  EXPECT_EQ(locks.size(), 1u);
  first.reset();
  EXPECT_EQ(locks.size(), 0u);
}

TEST(LocalLockServiceTest, CancelledRequestNeverHoldsTheLock) {
  fakes::ManualExecutor loop;
  InProcessLocks locks;
  LocalLockService service(locks, loop);
  bool answered = false;
  Pending pending = service.acquire("k", [&](auto) { answered = true; });
  pending.reset();
  loop.runAll();
  EXPECT_FALSE(answered);
  EXPECT_EQ(locks.size(), 0u);
}

}  // namespace
}  // namespace popgate::login
