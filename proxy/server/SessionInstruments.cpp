#include "proxy/server/SessionInstruments.h"

#include <fmt/format.h>

#include <atomic>
#include <random>
#include <utility>

#include "proxy/pop3/ErrorReply.h"
#include "proxy/server/RelayingMailbox.h"

namespace popgate::server {

namespace {

using Clock = std::chrono::steady_clock;

// The granted mailbox: a failed open is a failed login; every callback runs in the session's
// log context.
class InstrumentedMailbox final : public RelayingMailbox {
 public:
  InstrumentedMailbox(std::unique_ptr<backends::Mailbox> inner, SessionInstruments& owner,
                      Clock::time_point loginStart)
      : RelayingMailbox(std::move(inner)), owner_(owner), loginStart_(loginStart) {}

  void open(const backends::Credentials& credentials, SnapshotDone done) override {
    inner().open(credentials,
                 [this, done = std::move(done)](Result<backends::MessageList> snapshot) mutable {
                   LogScope scope = owner_.enter("login", loginStart_);
                   if (!snapshot) owner_.loginFinished(&snapshot.error());
                   done(std::move(snapshot));
                 });
  }
  void commit(const std::vector<backends::MessageRef>& toDelete, Done done) override {
    Clock::time_point start = Clock::now();
    inner().commit(toDelete, [this, start, done = std::move(done)](Status status) {
      LogScope scope = owner_.enter("commit", start);
      done(std::move(status));
    });
  }

 private:
  void onBodyStart() override {
    LogScope scope = owner_.enter("retrieve", retrieveStart());
    sink().onBodyStart();
  }
  void onBodyData(std::string_view bytes) override {
    LogScope scope = owner_.enter("retrieve", retrieveStart());
    sink().onBodyData(bytes);
  }
  void onBodyEnd(Status status) override {
    LogScope scope = owner_.enter("retrieve", retrieveStart());
    sink().onBodyEnd(std::move(status));
  }

  SessionInstruments& owner_;
  Clock::time_point loginStart_;
};

}  // namespace

SessionInstruments::SessionInstruments(login::Authenticator& authenticator,
                                       login::MailboxLockService& locks, ServerMetrics& metrics,
                                       std::shared_ptr<LogContext> log)
    : authenticator_(authenticator), locks_(locks), metrics_(metrics), log_(std::move(log)) {}

Pending SessionInstruments::authenticate(login::LoginRequest request,
                                         login::Authenticator::Done done) {
  loginStart_ = Clock::now();
  log_->user = request.login;
  log_->backend.clear();
  return authenticator_.authenticate(
      std::move(request), [this, done = std::move(done)](Result<login::LoginGrant> grant) {
        LogScope scope = enter("login", loginStart_);
        if (!grant) {
          loginFinished(&grant.error());
        } else {
          grant.value().mailbox = std::make_unique<InstrumentedMailbox>(
              std::move(grant.value().mailbox), *this, loginStart_);
        }
        done(std::move(grant));
      });
}

Pending SessionInstruments::acquire(std::string key, login::MailboxLockService::Done done) {
  return locks_.acquire(std::move(key), [this, done = std::move(done)](
                                            Result<std::unique_ptr<login::MailboxLock>> lock) {
    LogScope scope = enter("login", loginStart_);
    loginFinished(lock ? nullptr : &lock.error());
    done(std::move(lock));
  });
}

void SessionInstruments::loginFinished(const Error* error) {
  if (!error) {
    metrics_.logins.labels({"ok", ""}).inc();
    return;
  }
  metrics_.logins.labels({"failed", loginCode(*error)}).inc();
}

LogScope SessionInstruments::enter(const char* event, Clock::time_point start) const {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  return LogScope(log_, LogEvent{event, ms.count()});
}

std::string newSessionId() {
  static std::atomic<std::uint64_t> next{[] {
    std::random_device random;
    return (std::uint64_t{random()} << 32) | random();
  }()};
  return fmt::format("{:016x}", next.fetch_add(1, std::memory_order_relaxed));
}

std::string loginCode(const Error& error) {
  std::string reply = pop3::loginFailureReply(error, "-", "-");
  if (!reply.starts_with("-ERR [")) return "";
  std::size_t end = reply.find(']');
  return end == std::string::npos ? "" : reply.substr(6, end - 6);
}

}  // namespace popgate::server
