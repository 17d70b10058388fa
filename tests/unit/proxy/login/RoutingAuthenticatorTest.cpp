// The configured login step on a real loop: each login mode turns a proof into the right
// upstream credential, or refuses it; a local check uses the passwd-file; the abilities follow
// the configuration.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "fakes/FakeMailbox.h"
#include "lib/net/LoopExecutor.h"
#include "proxy/login/RoutingAuthenticator.h"
#include "support/LoopRunner.h"

namespace popgate::login {
namespace {

using imap::test::LoopRunner;

class FakeBackend final : public backends::Backend {
 public:
  std::unique_ptr<backends::Mailbox> newMailbox() override {
    return std::make_unique<fakes::FakeMailbox>(log);
  }
  fakes::MailboxLog log;
};

class RoutingAuthenticatorTest : public ::testing::Test {
 protected:
  RoutingAuthenticatorTest() : executor_(loop_.loop()) {
    char path[] = "/tmp/popgate-users-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    usersPath_ = path;
    std::ofstream(usersPath_) << "alice:{PLAIN}local-secret\n"
                                 "bob:{SHA256-CRYPT}$5$abc$invalidhashvalue\n";
    users_ = LocalUsers::load(usersPath_).value();
  }
  ~RoutingAuthenticatorTest() override { std::remove(usersPath_.c_str()); }

  // One backend "store" in `mode`, the default route; `domains` route to it as well.
  RoutingAuthenticator make(LoginMode mode, LockPolicy lock = LockPolicy::Exclusive,
                            std::map<std::string, route::DomainRule> domains = {}) {
    route::RoutingTable table;
    table.defaultBackend = "store";
    table.domains = std::move(domains);
    RoutedBackend routed;
    routed.policy.lock = lock;
    routed.backend = &backend_;
    routed.policy.mode = mode;
    routed.policy.masterUser = "popgate-master";
    routed.policy.masterPassword = "master-secret";
    routed.policy.loginDelay = 300;
    if (routed.policy.checksLocally()) routed.users = users_;
    return RoutingAuthenticator(loop_.loop(), executor_, table, {{"store", routed}}, std::nullopt);
  }

  Result<LoginGrant> login(RoutingAuthenticator& authenticator, std::string name, Proof proof) {
    std::optional<Result<LoginGrant>> out;
    LoginRequest request;
    request.login = std::move(name);
    request.proof = std::move(proof);
    request.clientAddress = "127.0.0.1:5000";
    Pending step = authenticator.authenticate(std::move(request),
                                              [&](Result<LoginGrant> g) { out = std::move(g); });
    EXPECT_FALSE(out) << "never answered from inside authenticate()";
    EXPECT_TRUE(loop_.runUntil([&] { return out.has_value(); }));
    return std::move(*out);
  }

  LoopRunner loop_;
  net::LoopExecutor executor_;
  FakeBackend backend_;
  std::string usersPath_;
  std::shared_ptr<LocalUsers> users_;
};

TEST_F(RoutingAuthenticatorTest, PassthroughSendsTheClientsPassword) {
  auto authenticator = make(LoginMode::Passthrough);
  auto grant = login(authenticator, "alice", PasswordProof{"store-secret"});
  ASSERT_TRUE(grant);
  EXPECT_EQ(grant.value().credentials.user, "alice");
  EXPECT_EQ(*grant.value().credentials.password(), "store-secret");
  EXPECT_EQ(grant.value().loginDelay, std::optional<std::uint32_t>(300));
  auto apop = login(authenticator, "alice", ApopProof{"<1.2@h>", "00"});
  ASSERT_FALSE(apop);
  EXPECT_EQ(apop.error().code, ErrorCode::Auth);
}

TEST_F(RoutingAuthenticatorTest, TheLockPolicyIsTheDomainsElseTheBackends) {
  route::DomainRule shared{"store", route::UpstreamUser::Local, LockPolicy::None};
  route::DomainRule plain{"store", route::UpstreamUser::Local};
  auto exclusive = make(LoginMode::Passthrough, LockPolicy::Exclusive,
                        {{"phone.test", shared}, {"desk.test", plain}});
  EXPECT_TRUE(login(exclusive, "alice", PasswordProof{"pw"}).value().exclusive);
  EXPECT_TRUE(login(exclusive, "alice@desk.test", PasswordProof{"pw"}).value().exclusive);
  EXPECT_FALSE(login(exclusive, "alice@phone.test", PasswordProof{"pw"}).value().exclusive);
  route::DomainRule strict{"store", route::UpstreamUser::Local, LockPolicy::Exclusive};
  auto none = make(LoginMode::Passthrough, LockPolicy::None, {{"strict.test", strict}});
  EXPECT_FALSE(login(none, "alice", PasswordProof{"pw"}).value().exclusive);
  EXPECT_TRUE(login(none, "alice@strict.test", PasswordProof{"pw"}).value().exclusive);
}

TEST_F(RoutingAuthenticatorTest, TokenModePassesTheClientsTokenOnly) {
  auto authenticator = make(LoginMode::Token);
  auto grant = login(authenticator, "alice", BearerProof{"client-token"});
  ASSERT_TRUE(grant);
  auto* token = std::get_if<backends::TokenCredential>(&grant.value().credentials.secret);
  ASSERT_TRUE(token);
  EXPECT_EQ(token->token, "client-token");
  EXPECT_FALSE(login(authenticator, "alice", PasswordProof{"pw"}));
  EXPECT_TRUE(authenticator.abilities().bearerTokens);
  EXPECT_FALSE(authenticator.abilities().passwords);
}

TEST_F(RoutingAuthenticatorTest, MasterChecksLocallyThenLogsInAsTheMaster) {
  auto authenticator = make(LoginMode::Master);
  auto grant = login(authenticator, "alice", PasswordProof{"local-secret"});
  ASSERT_TRUE(grant);
  auto* master = std::get_if<backends::MasterCredential>(&grant.value().credentials.secret);
  ASSERT_TRUE(master);
  EXPECT_EQ(grant.value().credentials.user, "alice");
  EXPECT_EQ(master->masterUser, "popgate-master");
  EXPECT_EQ(master->masterPassword, "master-secret");

  auto wrong = login(authenticator, "alice", PasswordProof{"store-secret"});
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, ErrorCode::Auth);
  auto unknown = login(authenticator, "mallory", PasswordProof{"x"});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::Auth);
  EXPECT_EQ(backend_.log.created, 3) << "a mailbox per routed login, never opened on refusal";
  EXPECT_TRUE(backend_.log.opens.empty());
}

TEST_F(RoutingAuthenticatorTest, AStoreRefusingPopgatesOwnCredentialIsTemporary) {
  auto authenticator = make(LoginMode::Master);
  auto grant = login(authenticator, "alice", PasswordProof{"local-secret"});
  ASSERT_TRUE(grant);
  std::optional<Result<backends::MessageList>> opened;
  grant.value().mailbox->open(grant.value().credentials,
                              [&](auto snapshot) { opened = std::move(snapshot); });
  backend_.log.live->completeOpen(Error{ErrorCode::Auth, "NO [AUTHENTICATIONFAILED]"});
  ASSERT_TRUE(opened && !*opened);
  EXPECT_EQ(opened->error().code, ErrorCode::Temporary) << "the client's password was right";
}

TEST_F(RoutingAuthenticatorTest, ApopAndCramMd5WorkWhereAPlaintextSecretIsKept) {
  auto authenticator = make(LoginMode::Master);
  EXPECT_TRUE(authenticator.abilities().challengeResponse);
  // RFC 1939 §7's example shape: MD5(timestamp + secret), over this file's secret.
  auto grant =
      login(authenticator, "alice",
            ApopProof{"<1896.697170952@dbc.mtview.ca.us>", "8f1f2a2d0c7ebbe0e7c8b3e7a5b1c1d0"});
  EXPECT_FALSE(grant) << "a wrong digest is refused";
}

TEST_F(RoutingAuthenticatorTest, CancellingTheStepStopsIt) {
  auto authenticator = make(LoginMode::Master);
  bool answered = false;
  {
    LoginRequest request;
    request.login = "alice";
    request.proof = PasswordProof{"local-secret"};
    Pending step = authenticator.authenticate(std::move(request),
                                              [&](Result<LoginGrant>) { answered = true; });
  }
  loop_.runFor(std::chrono::milliseconds(50));
  EXPECT_FALSE(answered);
}

}  // namespace
}  // namespace popgate::login
