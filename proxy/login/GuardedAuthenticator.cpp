#include "proxy/login/GuardedAuthenticator.h"

#include <utility>

#include "proxy/login/ForwardingMailbox.h"

namespace popgate::login {

namespace {

using Clock = LoginGuard::Clock;

// The step under way: the inner authentication, then the delay before a refusal. Destroying it
// (the session's Pending) cancels whichever runs.
struct GuardedStep final : Cancelable {
  Pending inner;    // left alone once it answered: its callback may still be on the stack
  Pending delayed;  // the refusal waiting out its delay
};

// The granted mailbox, with the guard on its open(): a password the store refuses waits out the
// delay; an accepted login passes LOGIN-DELAY. Everything else goes straight through.
class GuardedMailbox final : public ForwardingMailbox {
 public:
  GuardedMailbox(std::unique_ptr<backends::Mailbox> inner, LoginGuard& guard, Executor& executor,
                 std::string address, std::string login, std::string key,
                 std::optional<std::uint32_t> loginDelay)
      : ForwardingMailbox(std::move(inner)),
        guard_(guard),
        executor_(executor),
        address_(std::move(address)),
        login_(std::move(login)),
        key_(std::move(key)),
        loginDelay_(loginDelay) {}

  void open(const backends::Credentials& credentials, SnapshotDone done) override {
    inner().open(credentials, [this, done = std::move(done)](
                                  Result<backends::MessageList> snapshot) mutable {
      if (!snapshot) {
        if (snapshot.error().code != ErrorCode::Auth) return done(std::move(snapshot));
        auto delay = guard_.failed(address_, login_, Clock::now());
        delayed_ = executor_.postAfter(
            delay, [done = std::move(done), error = snapshot.error()]() { done(error); });
        return;
      }
      std::optional<std::chrono::seconds> delay;
      if (loginDelay_) delay = std::chrono::seconds(*loginDelay_);
      if (auto refused = guard_.succeeded(login_, key_, delay, Clock::now())) {
        return done(std::move(*refused));
      }
      done(std::move(snapshot));
    });
  }

 private:
  LoginGuard& guard_;
  Executor& executor_;
  std::string address_;
  std::string login_;
  std::string key_;
  std::optional<std::uint32_t> loginDelay_;
  Pending delayed_;  // the refusal waiting out its delay; cancelled with the mailbox
};

}  // namespace

GuardedAuthenticator::GuardedAuthenticator(Authenticator& inner, LoginGuard& guard,
                                           Executor& executor)
    : inner_(inner), guard_(guard), executor_(executor) {}

Pending GuardedAuthenticator::authenticate(LoginRequest request, Done done) {
  auto step = std::make_unique<GuardedStep>();
  std::string address = LoginGuard::hostOf(request.clientAddress);
  if (auto refused = guard_.admit(address, Clock::now())) {
    step->delayed =
        executor_.post([done = std::move(done), error = std::move(*refused)]() { done(error); });
    return step;
  }
  GuardedStep* raw = step.get();
  std::string login = request.login;
  step->inner = inner_.authenticate(
      std::move(request), [this, raw, address = std::move(address), login = std::move(login),
                           done = std::move(done)](Result<LoginGrant> grant) mutable {
        if (!grant) {
          if (grant.error().code != ErrorCode::Auth) return done(std::move(grant));
          auto delay = guard_.failed(address, login, Clock::now());
          raw->delayed = executor_.postAfter(
              delay, [done = std::move(done), error = grant.error()]() { done(error); });
          return;
        }
        LoginGrant& granted = grant.value();
        granted.mailbox = std::make_unique<GuardedMailbox>(
            std::move(granted.mailbox), guard_, executor_, std::move(address), std::move(login),
            granted.lockKey, granted.loginDelay);
        done(std::move(grant));
      });
  return step;
}

}  // namespace popgate::login
