#include "proxy/route/AuthHttpLookup.h"

#include <optional>
#include <utility>

#include "lib/net/Timer.h"

namespace popgate::route {

// One lookup: a cache hit delivered from the next loop turn, or one or more requests to the
// service (again after each WAIT). Owned by the caller's handle; destroying it drops the
// request under way (the HTTP client closes that connection) and stops the timer.
class AuthHttpLookup::Request final : public Cancelable {
 public:
  Request(AuthHttpLookup& owner, AuthHttpQuery query, Done done)
      : owner_(owner), query_(std::move(query)), done_(std::move(done)), timer_(owner.loop_) {}

  void start() {
    Result<http::HttpHeaders> headers = authHttpRequestHeaders(query_);
    if (!headers) return finishLater(headers.error());
    headers_ = std::move(headers.value());
    key_ = owner_.cache_.key(query_);
    if (key_) {
      if (auto hit = owner_.cache_.find(*key_, query_.loginAttempt, owner_.now_())) {
        return finishLater(std::move(*hit));
      }
    }
    ask();
  }

 private:
  void ask() {
    fetch_ = owner_.client_.fetch(
        owner_.makeRequest(headers_), owner_.settings_->maxResponseBytes,
        [this](Result<http::HttpResponse> response) { answered(std::move(response)); });
  }

  void answered(Result<http::HttpResponse> response) {
    if (!response) {
      return finish(Error{ErrorCode::Temporary, "auth_http " + owner_.settings_->url.text() + ": " +
                                                    response.error().detail});
    }
    Result<AuthHttpAnswer> answer =
        parseAuthHttpAnswer(response.value().head, authHttpUsesSalt(query_.method));
    if (!answer) {
      Error error = answer.error();
      error.detail += " (from " + owner_.settings_->url.text() + ")";
      return finish(std::move(error));
    }
    if (answer.value().retry) return waitAndAskAgain(answer.value().wait);
    if (key_) owner_.cache_.store(*key_, query_.loginAttempt, answer.value(), owner_.now_());
    finish(std::move(answer));
  }

  // nginx asks again after Auth-Wait seconds (at once without it), with the same attempt number.
  void waitAndAskAgain(std::optional<std::chrono::seconds> wait) {
    if (++waitRounds_ > kMaxWaitRounds) {
      return finish(Error{ErrorCode::Temporary, "auth_http " + owner_.settings_->url.text() +
                                                    ": still WAIT after " +
                                                    std::to_string(kMaxWaitRounds) + " rounds"});
    }
    timer_.start(wait.value_or(std::chrono::seconds(0)), [this] { ask(); });
  }

  void finishLater(Result<AuthHttpAnswer> result) {
    later_ = std::move(result);
    timer_.start(std::chrono::milliseconds(0), [this] { finish(std::move(*later_)); });
  }

  // Last thing done: the callback may destroy this request.
  void finish(Result<AuthHttpAnswer> result) {
    Done done = std::move(done_);
    done(std::move(result));
  }

  AuthHttpLookup& owner_;
  AuthHttpQuery query_;
  Done done_;
  http::HttpHeaders headers_;
  std::optional<std::string> key_;
  std::optional<Result<AuthHttpAnswer>> later_;
  int waitRounds_ = 0;
  net::Timer timer_;
  Pending fetch_;
};

AuthHttpLookup::AuthHttpLookup(uv_loop_t* loop, http::HttpClient& client,
                               std::shared_ptr<const AuthHttpSettings> settings)
    : loop_(loop),
      client_(client),
      settings_(std::move(settings)),
      cache_(settings_->positiveTtl, settings_->negativeTtl, settings_->maxEntries),
      now_([] { return Clock::now(); }) {}

AuthHttpLookup::~AuthHttpLookup() = default;

Pending AuthHttpLookup::lookup(AuthHttpQuery query, Done done) {
  auto request = std::make_unique<Request>(*this, std::move(query), std::move(done));
  request->start();
  return request;
}

http::HttpRequest AuthHttpLookup::makeRequest(http::HttpHeaders headers) const {
  // nginx sends GET with the headers and no body; the answer is in the headers alone.
  http::HttpRequest request = http::HttpRequest::get(settings_->url);
  request.headers = std::move(headers);
  request.maxRedirects = 0;  // nginx follows none: a redirect is no answer
  request.deadlines.connect = settings_->timeout;
  request.deadlines.response = settings_->timeout;
  request.deadlines.total = settings_->timeout;
  return request;
}

}  // namespace popgate::route
