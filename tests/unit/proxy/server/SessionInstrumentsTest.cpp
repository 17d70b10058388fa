// The decorators that count for the metrics and name the session in the log, against the fake
// authenticator and mailbox: each login counted once by the code the client gets, the upstream
// operations by backend, kind and result, and the session's log context in every callback.

#include <gtest/gtest.h>

#include "fakes/FakeAuthenticator.h"
#include "fakes/ManualExecutor.h"
#include "proxy/login/LocalLockService.h"
#include "proxy/server/MeteredMailbox.h"
#include "proxy/server/SessionInstruments.h"

namespace popgate::server {
namespace {

using fakes::message;

class SessionInstrumentsTest : public ::testing::Test {
 protected:
  SessionInstrumentsTest()
      : authenticator_(executor_),
        lockService_(locks_, executor_),
        metrics_(guard_),
        log_(std::make_shared<LogContext>(LogContext{"s1", "127.0.0.1:4000", {}, {}})),
        instruments_(authenticator_, lockService_, metrics_, log_) {}

  // A login through the instruments up to the granted mailbox (not yet opened).
  std::unique_ptr<backends::Mailbox> grant(const std::string& login) {
    std::unique_ptr<backends::Mailbox> mailbox;
    step_ = instruments_.authenticate(
        login::LoginRequest{login, "", login::PasswordProof{"pw"}, "127.0.0.1:4000"},
        [&](Result<login::LoginGrant> granted) {
          EXPECT_EQ(LogScope::current(), log_.get());
          EXPECT_STREQ(LogScope::event().name, "login");
          if (granted) mailbox = std::move(granted.value().mailbox);
        });
    executor_.runAll();
    return mailbox;
  }

  bool lock(const std::string& key) {
    bool ok = false;
    step_ = instruments_.acquire(key, [&](Result<std::unique_ptr<login::MailboxLock>> held) {
      EXPECT_EQ(LogScope::current(), log_.get());
      ok = static_cast<bool>(held);
      if (held) held_.push_back(std::move(held.value()));
    });
    executor_.runAll();
    return ok;
  }

  std::uint64_t logins(const std::string& result, const std::string& code) {
    return metrics_.logins.labels({result, code}).value();
  }

  fakes::ManualExecutor executor_;
  fakes::FakeAuthenticator authenticator_;
  login::InProcessLocks locks_;
  login::LocalLockService lockService_;
  login::LoginGuard guard_;
  ServerMetrics metrics_;
  std::shared_ptr<LogContext> log_;
  SessionInstruments instruments_;
  Pending step_;
  std::vector<std::unique_ptr<login::MailboxLock>> held_;
};

TEST_F(SessionInstrumentsTest, ALoginIsCountedOnceWhenLocked) {
  auto mailbox = grant("alice");
  ASSERT_TRUE(mailbox);
  EXPECT_EQ(log_->user, "alice");
  bool opened = false;
  mailbox->open({}, [&](Result<backends::MessageList> snapshot) {
    EXPECT_EQ(LogScope::current(), log_.get());
    opened = static_cast<bool>(snapshot);
  });
  authenticator_.mailbox().completeOpen(std::vector<backends::MessageRef>{});
  EXPECT_TRUE(opened);
  EXPECT_EQ(logins("ok", ""), 0u);  // not before the lock
  EXPECT_TRUE(lock("lock:alice"));
  EXPECT_EQ(logins("ok", ""), 1u);
  EXPECT_FALSE(lock("lock:alice"));  // a second session of the mailbox
  EXPECT_EQ(logins("failed", "IN-USE"), 1u);
}

TEST_F(SessionInstrumentsTest, FailuresAreCountedByTheClientsCode) {
  authenticator_.failure = Error{ErrorCode::Temporary, "lookup down"};
  EXPECT_FALSE(grant("bob"));
  EXPECT_EQ(logins("failed", "SYS/TEMP"), 1u);
  authenticator_.failure.reset();
  auto mailbox = grant("bob");
  ASSERT_TRUE(mailbox);
  mailbox->open({}, [](Result<backends::MessageList>) {});
  authenticator_.mailbox().completeOpen(Error{ErrorCode::Auth, "NO [AUTHENTICATIONFAILED]"});
  EXPECT_EQ(logins("failed", "AUTH"), 1u);
  EXPECT_EQ(logins("ok", ""), 0u);
}

// A Backend of fake mailboxes, for the metered decorator.
class FakeBackend final : public backends::Backend {
 public:
  std::unique_ptr<backends::Mailbox> newMailbox() override {
    return std::make_unique<fakes::FakeMailbox>(log);
  }
  fakes::MailboxLog log;
};

class NullSink final : public backends::BodySink {
 public:
  void onBodyStart() override {}
  void onBodyData(std::string_view bytes) override { received += bytes.size(); }
  void onBodyEnd(Status status) override { ended = static_cast<bool>(status); }
  std::size_t received = 0;
  bool ended = false;
};

TEST(MeteredBackendTest, OperationsByKindAndResult) {
  login::LoginGuard guard;
  ServerMetrics metrics(guard);
  auto fake = std::make_unique<FakeBackend>();
  fakes::MailboxLog& log = fake->log;
  MeteredBackend backend(std::move(fake), "local", metrics);
  auto mailbox = backend.newMailbox();
  auto context = std::make_shared<LogContext>(LogContext{"s2", "c", "u", {}});
  {
    LogScope scope(context);
    mailbox->open({}, [](Result<backends::MessageList>) {});
  }
  EXPECT_EQ(context->backend, "local");  // named in the session's log context
  log.live->completeOpen(std::vector<backends::MessageRef>{message("1", "u1", 5)});
  NullSink sink;
  mailbox->retrieve(message("1", "u1", 5), std::nullopt, sink);
  log.live->deliverMessage("hello");
  EXPECT_EQ(sink.received, 5u);
  EXPECT_TRUE(sink.ended);
  mailbox->commit({message("1", "u1", 5), message("2", "u2", 7)}, [](Status) {});
  log.live->completeCommit();

  auto ops = [&](const char* kind, const char* result) {
    return metrics.upstream.labels({"local", kind, result}).value();
  };
  EXPECT_EQ(ops("open", "ok"), 1u);
  EXPECT_EQ(ops("retrieve", "ok"), 1u);
  EXPECT_EQ(ops("commit", "ok"), 1u);
  EXPECT_EQ(metrics.upstreamBytes.labels({"local"}).value(), 5u);
  EXPECT_EQ(metrics.deleted.labels({"local"}).value(), 2u);
  EXPECT_EQ(metrics.commits.labels({"local", "ok"}).value(), 1u);
  std::string text = metrics.registry.render();
  EXPECT_NE(
      text.find("popgate_upstream_operation_seconds_count{backend=\"local\",kind=\"open\"} 1"),
      std::string::npos)
      << text;
}

}  // namespace
}  // namespace popgate::server
