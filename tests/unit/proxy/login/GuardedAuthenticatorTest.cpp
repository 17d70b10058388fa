// The guard around an authenticator: refusals wait out the delay wherever they came from (the
// authenticator, or the store at open()), successes do not, and a cancelled login stops.

#include <gtest/gtest.h>

#include "fakes/FakeAuthenticator.h"
#include "fakes/ManualExecutor.h"
#include "proxy/login/GuardedAuthenticator.h"
#include "proxy/login/LocalLoginThrottle.h"

namespace popgate::login {
namespace {

using namespace std::chrono_literals;

class GuardedAuthenticatorTest : public ::testing::Test {
 protected:
  GuardedAuthenticatorTest() : inner_(executor_), guarded_(inner_, throttle_, executor_) {}

  LoginRequest request(std::string login = "alice", std::string address = "10.0.0.1:4000") {
    LoginRequest r;
    r.login = std::move(login);
    r.proof = PasswordProof{"secret"};
    r.clientAddress = std::move(address);
    return r;
  }

  // Authenticates and runs the executor; the grant or error it answered.
  std::optional<Result<LoginGrant>> login(LoginRequest r) {
    std::optional<Result<LoginGrant>> out;
    Pending step =
        guarded_.authenticate(std::move(r), [&](Result<LoginGrant> g) { out = std::move(g); });
    executor_.runAll();
    return out;
  }

  static LoginGuardSettings settings() {
    LoginGuardSettings s;
    s.firstDelay = 100ms;
    s.refuseAfter = 3;
    return s;
  }

  fakes::ManualExecutor executor_;
  fakes::FakeAuthenticator inner_;
  LoginGuard guard_{settings()};
  LocalLoginThrottle throttle_{guard_, executor_};
  GuardedAuthenticator guarded_;
};

TEST_F(GuardedAuthenticatorTest, ASuccessIsNotDelayed) {
  auto grant = login(request());
  ASSERT_TRUE(grant && *grant);
  EXPECT_TRUE(executor_.delays.empty());
}

TEST_F(GuardedAuthenticatorTest, ARefusalFromTheAuthenticatorWaitsOutTheDelay) {
  inner_.failure = Error{ErrorCode::Auth, "wrong password"};
  auto first = login(request());
  ASSERT_TRUE(first && !*first);
  EXPECT_EQ(first->error().code, ErrorCode::Auth);
  login(request());
  EXPECT_EQ(executor_.delays, (std::vector<std::chrono::milliseconds>{100ms, 200ms}));
}

TEST_F(GuardedAuthenticatorTest, TemporaryFailuresAreNotCountedNorDelayed) {
  inner_.failure = Error{ErrorCode::Temporary, "lookup down"};
  for (int i = 0; i < 5; ++i) login(request());
  EXPECT_TRUE(executor_.delays.empty());
  inner_.failure.reset();
  auto grant = login(request());
  EXPECT_TRUE(grant && *grant) << "never refused for failures that were not the client's";
}

TEST_F(GuardedAuthenticatorTest, AfterTooManyRefusalsTheAddressIsRefusedUnchecked) {
  inner_.failure = Error{ErrorCode::Auth, "wrong password"};
  for (int i = 0; i < 3; ++i) login(request("u" + std::to_string(i)));
  inner_.failure.reset();
  std::size_t asked = inner_.logins.size();
  auto refused = login(request("alice"));
  ASSERT_TRUE(refused && !*refused);
  EXPECT_EQ(refused->error().reply.rfind("-ERR [SYS/TEMP]", 0), 0u);
  EXPECT_EQ(inner_.logins.size(), asked) << "the password was not even checked";
  auto other = login(request("alice", "10.9.9.9:1"));
  EXPECT_TRUE(other && *other) << "the right password from another address goes through";
}

TEST_F(GuardedAuthenticatorTest, AStoreRefusalAtOpenWaitsOutTheDelay) {
  auto grant = login(request());
  ASSERT_TRUE(grant && *grant);
  std::optional<Result<backends::MessageList>> opened;
  grant->value().mailbox->open(grant->value().credentials,
                               [&](auto snapshot) { opened = std::move(snapshot); });
  inner_.mailbox().completeOpen(Error{ErrorCode::Auth, "NO [AUTHENTICATIONFAILED]"});
  EXPECT_FALSE(opened) << "not before the delay";
  executor_.runAll();
  ASSERT_TRUE(opened && !*opened);
  EXPECT_EQ(opened->error().code, ErrorCode::Auth);
  EXPECT_EQ(executor_.delays, (std::vector<std::chrono::milliseconds>{100ms}));
}

TEST_F(GuardedAuthenticatorTest, LoginDelayIsEnforcedOnceTheStoreAcceptedTheLogin) {
  inner_.loginDelay = 900;
  auto open = [&]() {
    auto grant = login(request());
    EXPECT_TRUE(grant && *grant);
    std::optional<Result<backends::MessageList>> opened;
    grant->value().mailbox->open(grant->value().credentials,
                                 [&](auto snapshot) { opened = std::move(snapshot); });
    inner_.mailbox().completeOpen(std::vector<backends::MessageRef>{});
    executor_.runAll();  // the LOGIN-DELAY check's answer
    return opened;
  };
  auto first = open();
  ASSERT_TRUE(first && *first);
  auto second = open();
  ASSERT_TRUE(second && !*second);
  EXPECT_EQ(second->error().reply,
            "-ERR [LOGIN-DELAY] Minimum time between logins not yet passed.");
}

TEST_F(GuardedAuthenticatorTest, CancellingDuringTheDelayDropsTheAnswer) {
  inner_.failure = Error{ErrorCode::Auth, "wrong password"};
  inner_.answer = fakes::FakeAuthenticator::Answer::Held;
  bool answered = false;
  {
    Pending step = guarded_.authenticate(request(), [&](Result<LoginGrant>) { answered = true; });
    executor_.runAll();   // admitted: the inner login is held
    inner_.answerHeld();  // the refusal; its recording is now queued
    EXPECT_EQ(executor_.queued(), 1u);
    EXPECT_FALSE(answered);
  }
  executor_.runAll();
  EXPECT_FALSE(answered);
  EXPECT_EQ(executor_.cancelled, 1);
}

}  // namespace
}  // namespace popgate::login
