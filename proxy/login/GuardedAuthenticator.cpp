#include "proxy/login/GuardedAuthenticator.h"

#include <memory>
#include <utility>

#include "proxy/login/ForwardingMailbox.h"
#include "proxy/login/LoginGuard.h"

namespace popgate::login {

namespace {

// A refused password: the throttle records it, then the refusal waits out its delay. Each step
// is a handle in `steps`, whose owner's destruction cancels whichever runs.
struct RefusalSteps {
  Pending recording;  // the throttle's answer (left alone once it answered)
  Pending waiting;    // the refusal waiting out its delay
};

template <typename DoneFn>
void refuseLater(LoginThrottle& throttle, Executor& executor, RefusalSteps& steps,
                 std::string address, std::string login, Error error, DoneFn done) {
  RefusalSteps* raw = &steps;
  steps.recording =
      throttle.failed(std::move(address), std::move(login),
                      [&executor, raw, error = std::move(error),
                       done = std::move(done)](std::chrono::milliseconds delay) mutable {
                        raw->waiting = executor.postAfter(
                            delay, [done = std::move(done), error]() mutable { done(error); });
                      });
}

// The step under way: admission, the inner authentication, then a refusal's delay. Destroying it
// (the session's Pending) cancels whichever runs.
struct GuardedStep final : Cancelable {
  Pending admission;
  Pending inner;  // left alone once it answered: its callback may still be on the stack
  RefusalSteps refusal;
};

// The granted mailbox, with the throttle on its open(): a password the store refuses waits out
// the delay; an accepted login passes LOGIN-DELAY. Everything else goes straight through.
class GuardedMailbox final : public ForwardingMailbox {
 public:
  GuardedMailbox(std::unique_ptr<backends::Mailbox> inner, LoginThrottle& throttle,
                 Executor& executor, std::string address, std::string login, std::string key,
                 std::optional<std::uint32_t> loginDelay)
      : ForwardingMailbox(std::move(inner)),
        throttle_(throttle),
        executor_(executor),
        address_(std::move(address)),
        login_(std::move(login)),
        key_(std::move(key)),
        loginDelay_(loginDelay) {}

  void open(const backends::Credentials& credentials, SnapshotDone done) override {
    inner().open(credentials,
                 [this, done = std::move(done)](Result<backends::MessageList> snapshot) mutable {
                   if (!snapshot) {
                     if (snapshot.error().code != ErrorCode::Auth) return done(std::move(snapshot));
                     return refuseLater(throttle_, executor_, refusal_, address_, login_,
                                        snapshot.error(), std::move(done));
                   }
                   std::optional<std::chrono::seconds> delay;
                   if (loginDelay_) delay = std::chrono::seconds(*loginDelay_);
                   // Shared: std::function needs a copyable callable, and a snapshot can be large.
                   auto kept = std::make_shared<Result<backends::MessageList>>(std::move(snapshot));
                   checking_ = throttle_.succeeded(
                       login_, key_, delay,
                       [done = std::move(done), kept](std::optional<Error> refused) mutable {
                         if (refused) return done(std::move(*refused));
                         done(std::move(*kept));
                       });
                 });
  }

 private:
  LoginThrottle& throttle_;
  Executor& executor_;
  std::string address_;
  std::string login_;
  std::string key_;
  std::optional<std::uint32_t> loginDelay_;
  Pending checking_;      // the LOGIN-DELAY check; cancelled with the mailbox
  RefusalSteps refusal_;  // a store's refusal on its way; cancelled with the mailbox
};

}  // namespace

GuardedAuthenticator::GuardedAuthenticator(Authenticator& inner, LoginThrottle& throttle,
                                           Executor& executor)
    : inner_(inner), throttle_(throttle), executor_(executor) {}

Pending GuardedAuthenticator::authenticate(LoginRequest request, Done done) {
  auto step = std::make_unique<GuardedStep>();
  GuardedStep* raw = step.get();
  std::string address = LoginGuard::hostOf(request.clientAddress);
  step->admission =
      throttle_.admit(address, [this, raw, address, request = std::move(request),
                                done = std::move(done)](std::optional<Error> refused) mutable {
        if (refused) return done(std::move(*refused));
        std::string login = request.login;
        raw->inner = inner_.authenticate(
            std::move(request), [this, raw, address = std::move(address), login = std::move(login),
                                 done = std::move(done)](Result<LoginGrant> grant) mutable {
              if (!grant) {
                if (grant.error().code != ErrorCode::Auth) return done(std::move(grant));
                return refuseLater(throttle_, executor_, raw->refusal, std::move(address),
                                   std::move(login), grant.error(), std::move(done));
              }
              LoginGrant& granted = grant.value();
              granted.mailbox = std::make_unique<GuardedMailbox>(
                  std::move(granted.mailbox), throttle_, executor_, std::move(address),
                  std::move(login), granted.lockKey, granted.loginDelay);
              done(std::move(grant));
            });
      });
  return step;
}

}  // namespace popgate::login
