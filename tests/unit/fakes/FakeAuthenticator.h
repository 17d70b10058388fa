#pragma once
// A login::Authenticator that grants FakeMailboxes. Every login is granted (unless a test sets
// `failure`); the upstream user is "<login>@upstream" with the client's password, and the lock
// key "lock:<login>", so two sessions with the same login contend for one lock. The answer comes
// from the executor (answer Soon), or never, until the test calls answer() (answer Held).
// `loginAbilities` is what abilities() reports; `loginDelay` and `expire` go into every grant.

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "fakes/FakeMailbox.h"
#include "fakes/ManualExecutor.h"
#include "proxy/login/Authenticator.h"

namespace popgate::fakes {

class FakeAuthenticator final : public login::Authenticator {
 public:
  enum class Answer { Soon, Held };

  explicit FakeAuthenticator(Executor& executor) : executor_(executor) {}

  [[nodiscard]] Pending authenticate(login::LoginRequest request, Done done) override {
    logins.push_back(request.login);
    requests.push_back(request);
    auto respond = [this, request = std::move(request), done = std::move(done)]() mutable {
      done(grant(request));
    };
    if (answer == Answer::Soon) return executor_.post(std::move(respond));
    auto held = std::make_shared<std::function<void()>>(std::move(respond));
    held_.push_back(held);
    return std::make_unique<HeldHandle>(held, cancelled);
  }

  login::LoginAbilities abilities() const override { return loginAbilities; }

  // Answers the logins held so far (Answer::Held) that were not cancelled.
  void answerHeld() {
    auto held = std::move(held_);
    for (auto& respond : held) {
      if (*respond) std::exchange(*respond, nullptr)();
    }
  }

  FakeMailbox& mailbox() {
    if (log.live == nullptr) {
      ADD_FAILURE() << "no live mailbox";
      throw std::logic_error("no live mailbox");
    }
    return *log.live;
  }
  FakeMailbox* live() const { return log.live; }

  Answer answer = Answer::Soon;
  std::optional<Error> failure;               // when set, logins fail with it
  std::vector<std::string> logins;            // every name asked for
  std::vector<login::LoginRequest> requests;  // and the whole requests
  int cancelled = 0;                          // held logins cancelled before their answer
  login::LoginAbilities loginAbilities;
  std::optional<std::uint32_t> loginDelay;  // granted to every login
  std::optional<std::string> expire;
  bool exclusive = true;  // the grant's lock policy (false: `lock: none`)
  MailboxLog log;

 private:
  class HeldHandle final : public Cancelable {
   public:
    HeldHandle(std::shared_ptr<std::function<void()>> respond, int& cancelled)
        : respond_(std::move(respond)), cancelled_(cancelled) {}
    ~HeldHandle() override {
      if (*respond_) {
        *respond_ = nullptr;
        ++cancelled_;
      }
    }

   private:
    std::shared_ptr<std::function<void()>> respond_;
    int& cancelled_;
  };

  Result<login::LoginGrant> grant(login::LoginRequest& request) {
    if (failure) return *failure;
    login::LoginGrant grant;
    grant.mailbox = std::make_unique<FakeMailbox>(log);
    grant.credentials.user = request.login + "@upstream";
    if (auto* password = std::get_if<login::PasswordProof>(&request.proof))
      grant.credentials.secret = backends::PasswordCredential{password->password};
    if (auto* bearer = std::get_if<login::BearerProof>(&request.proof))
      grant.credentials.secret = backends::TokenCredential{bearer->token};
    grant.lockKey = "lock:" + request.login;
    grant.exclusive = exclusive;
    grant.loginDelay = loginDelay;
    grant.expire = expire;
    return grant;
  }

  Executor& executor_;
  std::vector<std::shared_ptr<std::function<void()>>> held_;
};

}  // namespace popgate::fakes
