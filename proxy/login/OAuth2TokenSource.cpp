#include "proxy/login/OAuth2TokenSource.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "lib/common/LogText.h"

namespace popgate::login {

using namespace std::chrono_literals;

// One login waiting for a flight's answer. It unlinks itself when the caller drops it first.
class OAuth2TokenSource::Waiter final : public Cancelable {
 public:
  Waiter(Flight& flight, Done done) : flight_(&flight), done_(std::move(done)) {
    self_ = flight.waiters.insert(flight.waiters.end(), this);
  }
  ~Waiter() override {
    if (flight_ != nullptr) flight_->waiters.erase(self_);
  }
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;

  // Already taken off the flight's list. The callback may destroy this waiter.
  void answer(const Result<std::string>& result) {
    flight_ = nullptr;
    Done done = std::exchange(done_, nullptr);
    done(result);
  }
  void detach() { flight_ = nullptr; }

 private:
  Flight* flight_;
  std::list<Waiter*>::iterator self_;
  Done done_;
};

OAuth2TokenSource::OAuth2TokenSource(uv_loop_t* loop, http::HttpClient& client,
                                     std::shared_ptr<const OAuth2Settings> settings,
                                     std::shared_ptr<RefreshTokenStore> store, Clock clock)
    : client_(client),
      settings_(std::move(settings)),
      store_(std::move(store)),
      clock_(std::move(clock)),
      executor_(loop) {
  if (!clock_) clock_ = [loop] { return std::chrono::milliseconds(uv_now(loop)); };
}

OAuth2TokenSource::~OAuth2TokenSource() {
  for (auto& [key, flight] : flights_) {
    for (Waiter* waiter : flight->waiters) waiter->detach();
    flight->waiters.clear();
  }
  flights_.clear();  // cancels the requests
}

Pending OAuth2TokenSource::token(const std::string& identity, Done done) {
  std::string key = keyFor(identity);
  auto answerLater = [this, &done](Result<std::string> answer) {
    return executor_.post([done = std::move(done), answer = std::move(answer)] { done(answer); });
  };
  if (auto it = cache_.find(key); it != cache_.end()) {
    if (clock_() < it->second.until) {
      if (const auto* token = std::get_if<std::string>(&it->second.answer)) {
        return answerLater(*token);
      }
      return answerLater(std::get<Error>(it->second.answer));
    }
    forget(it);
  }
  auto& flight = flights_[key];
  if (!flight) {
    std::string refreshToken;
    if (settings_->grant == OAuth2Settings::Grant::RefreshToken) {
      auto stored = store_ ? store_->get(identity) : std::nullopt;
      if (!stored) {
        flights_.erase(key);
        return answerLater(
            Error{ErrorCode::Permanent, "OAuth2: no refresh token for " + logText(identity)});
      }
      refreshToken = std::move(*stored);
    }
    flight = std::make_unique<Flight>();
    flight->key = key;
    flight->refreshToken = std::move(refreshToken);
    startFlight(*flight);
  }
  return std::make_unique<Waiter>(*flight, std::move(done));
}

void OAuth2TokenSource::invalidate(const std::string& identity, const std::string& token) {
  auto it = cache_.find(keyFor(identity));
  if (it == cache_.end()) return;
  const auto* cached = std::get_if<std::string>(&it->second.answer);
  if (cached != nullptr && *cached == token) forget(it);
}

std::string OAuth2TokenSource::keyFor(const std::string& identity) const {
  // §4.4: a client credentials token is the application's own, the same for every user.
  return settings_->grant == OAuth2Settings::Grant::ClientCredentials ? std::string() : identity;
}

void OAuth2TokenSource::startFlight(Flight& flight) {
  flight.request =
      client_.fetch(buildTokenRequest(*settings_, flight.refreshToken), settings_->maxResponseBytes,
                    [this, key = flight.key](Result<http::HttpResponse> response) {
                      finish(key, std::move(response));
                    });
}

void OAuth2TokenSource::finish(const std::string& key, Result<http::HttpResponse> response) {
  auto it = flights_.find(key);
  if (it == flights_.end()) return;
  std::unique_ptr<Flight> flight = std::move(it->second);
  flights_.erase(it);
  Result<std::string> result = settle(*flight, std::move(response));
  // A waiter's callback may drop other waiters (they unlink themselves from this list) or even
  // this source; from then on nothing of it is touched, and the rest never fire.
  std::weak_ptr<bool> alive = alive_;
  while (!flight->waiters.empty() && !alive.expired()) {
    Waiter* waiter = flight->waiters.front();
    flight->waiters.pop_front();
    waiter->answer(result);
  }
  for (Waiter* waiter : flight->waiters) waiter->detach();
}

Result<std::string> OAuth2TokenSource::settle(Flight& flight, Result<http::HttpResponse> response) {
  const OAuth2Settings& settings = *settings_;
  std::string who = flight.key.empty() ? "the client" : logText(flight.key);
  Result<OAuth2Token> token =
      response ? parseTokenResponse(response.value().head.status, response.value().body)
               : Result<OAuth2Token>(
                     Error{ErrorCode::Temporary, "token endpoint: " + response.error().detail});
  if (!token) {
    spdlog::warn("OAuth2: no access token for {} from {}: {}", who,
                 logText(settings.tokenUrl.text()), token.error().detail);
    Error failure{ErrorCode::Temporary, "OAuth2 " + token.error().detail};
    remember(flight.key, failure, clock_() + settings.failureBackoff);
    return failure;
  }
  OAuth2Token& got = token.value();
  if (settings.grant == OAuth2Settings::Grant::RefreshToken && got.refreshToken &&
      *got.refreshToken != flight.refreshToken && store_) {
    // §6: the old refresh token may no longer work, so the new one is saved before any login
    // uses the access token. A small write and an fsync on the loop thread, once per rotation
    // (at most once per access token lifetime per user): cheaper than a thread hand-off.
    Status saved = store_->update(flight.key, *got.refreshToken);
    if (saved) {
      spdlog::info("OAuth2: refresh token of {} rotated and saved", who);
    } else {
      spdlog::error("OAuth2: refresh token of {} rotated but not saved: {}", who,
                    saved.error().detail);
    }
  }
  auto usable = usableFor(got.lifetime);
  if (usable > 0ms) remember(flight.key, got.accessToken, clock_() + usable);
  spdlog::debug("OAuth2: new access token for {}, used for {} s", who,
                std::chrono::duration_cast<std::chrono::seconds>(usable).count());
  return std::move(got.accessToken);
}

void OAuth2TokenSource::remember(const std::string& key, std::variant<std::string, Error> answer,
                                 std::chrono::milliseconds until) {
  if (auto it = cache_.find(key); it != cache_.end()) forget(it);
  if (settings_->maxCachedTokens == 0) return;
  while (cache_.size() >= settings_->maxCachedTokens) forget(cache_.find(order_.front()));
  auto age = order_.insert(order_.end(), key);
  cache_.emplace(key, Entry{std::move(answer), until, age});
}

void OAuth2TokenSource::forget(std::map<std::string, Entry>::iterator it) {
  order_.erase(it->second.age);
  cache_.erase(it);
}

std::chrono::milliseconds OAuth2TokenSource::usableFor(std::chrono::seconds lifetime) const {
  auto margin = settings_->refreshMargin;
  return lifetime > margin ? std::chrono::milliseconds(lifetime - margin)
                           : std::chrono::milliseconds(lifetime) / 2;
}

}  // namespace popgate::login
