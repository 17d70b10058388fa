#include "lib/http/HttpExchange.h"

#include <ctime>
#include <utility>

#include "lib/common/Ascii.h"
#include "lib/common/Decimal.h"

namespace popgate::http {

namespace {

// A redirect's or a refused attempt's own body is read and dropped so that the connection can
// be reused, up to this much; past it the connection is closed instead.
constexpr std::size_t kMaxDiscardedBody = 64 * 1024;
// A Retry-After that asks for more than an hour is not a wait, whatever the budget.
constexpr std::chrono::seconds kMaxRetryAfter{3600};

bool isRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

HttpClient::Exchange::Exchange(HttpClient& client, HttpRequest request,
                               HttpResponseHandler& handler)
    : client_(client), request_(std::move(request)), handler_(handler), later_(client.loop_) {}

HttpClient::Exchange::~Exchange() {
  done_ = true;
  dropConnection();
  if (waiting_) client_.cancelWait(*this);
}

void HttpClient::Exchange::start() {
  started_ = std::chrono::steady_clock::now();
  if (request_.deadlines.total.count() > 0) {
    total_.emplace(client_.loop_);  // most requests have no such bound: no handle for them
    total_->start(request_.deadlines.total, [this] {
      end(Error{ErrorCode::Temporary,
                "no complete answer from " + request_.url.origin() + " in time"});
    });
  }
  for (const auto& [name, value] : request_.headers) {
    if (!safeHeader(name, value)) {
      later_.start(std::chrono::milliseconds(0), [this] {
        end(Error{ErrorCode::Invalid, "a request header holds a line break or a bad name"});
      });
      return;
    }
  }
  begin();
}

void HttpClient::Exchange::begin() {
  if (request_.url.https && !client_.settings_.tls) {
    later_.start(std::chrono::milliseconds(0), [this] {
      end(Error{ErrorCode::Invalid, "https is not configured for " + request_.url.origin()});
    });
    return;
  }
  originKey_ = request_.url.origin();
  waiting_ = true;
  client_.acquire(*this);
}

void HttpClient::Exchange::grantLater(std::unique_ptr<HttpConnection> pooled) {
  waiting_ = false;
  connection_ = std::move(pooled);
  reused_ = true;
  // From the loop, as every answer: the caller may still be inside its own call.
  later_.start(std::chrono::milliseconds(0), [this] { send(); });
}

void HttpClient::Exchange::open() {
  waiting_ = false;
  connector_ = std::make_unique<HttpConnector>(
      client_.loop_, request_.url, client_.settings_.proxy, client_.settings_.tls,
      request_.deadlines.connect, [this](Result<std::unique_ptr<net::ByteStream>> stream) {
        // Not destroyed inside its own callback: the client frees it on the next turn.
        client_.deleter_.retire(std::move(connector_));
        if (!stream) {
          client_.connectionGone(originKey_);
          return end(stream.error());
        }
        connection_ =
            std::make_unique<HttpConnection>(client_.loop_, std::move(stream.value()), originKey_);
        reused_ = false;
        send();
      });
}

void HttpClient::Exchange::send() {
  if (connection_->dead()) {
    // Closed by the server between the pool and now.
    return onFailed(Error{ErrorCode::Temporary, "pooled connection closed"}, true);
  }
  divert_ = Divert::None;
  discarded_ = 0;
  bool absoluteForm = client_.settings_.proxy && !request_.url.https;
  connection_->send(serializeRequest(request_, absoluteForm), request_.method == "HEAD",
                    request_.deadlines.response, *this);
  if (paused_) connection_->pause();
}

void HttpClient::Exchange::pause() {
  paused_ = true;
  if (connection_) connection_->pause();
}

void HttpClient::Exchange::resume() {
  paused_ = false;
  if (connection_) connection_->resume();
}

void HttpClient::Exchange::onHead(const HttpResponseHead& head) {
  if (isRedirect(head.status) && head.header("Location") && redirects_ < request_.maxRedirects) {
    auto next = resolveLocation(request_.url, *head.header("Location"));
    if (!next) return end(Error{ErrorCode::Temporary, "bad redirect: " + next.error().detail});
    if (request_.url.https && !next.value().https) {
      return end(Error{ErrorCode::Temporary, "refused a redirect from https to http"});
    }
    divert_ = Divert::Redirect;
    redirectStatus_ = head.status;
    location_ = std::move(next.value());
    return;
  }
  if (isRedirect(head.status) && head.header("Location")) {
    return end(Error{ErrorCode::Temporary,
                     "more than " + std::to_string(request_.maxRedirects) + " redirects"});
  }
  if (auto wait = retryAfter(head)) {
    divert_ = Divert::RetryAfter;
    retryWait_ = *wait;
    return;
  }
  handler_.onResponseHead(head);  // last: the handler may destroy this exchange
}

std::optional<std::chrono::milliseconds> HttpClient::Exchange::retryAfter(
    const HttpResponseHead& head) const {
  if (head.status != 429 && head.status != 503) return std::nullopt;
  const std::string* value = head.header("Retry-After");
  if (!value) return std::nullopt;
  std::chrono::seconds wait{0};
  if (auto seconds = parseDecimal<std::uint32_t>(*value, 9)) {
    wait = std::chrono::seconds(*seconds);  // delay-seconds
  } else {
    // HTTP-date (RFC 9110 §5.6.7), the preferred IMF-fixdate form.
    std::tm tm{};
    const char* end = strptime(value->c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == nullptr || *end != '\0') return std::nullopt;
    std::time_t at = timegm(&tm);
    std::time_t now = std::time(nullptr);
    wait = std::chrono::seconds(at > now ? at - now : 0);
  }
  if (wait > kMaxRetryAfter) return std::nullopt;
  auto waitMs = std::chrono::duration_cast<std::chrono::milliseconds>(wait);
  if (waited_ + waitMs > request_.retryBudget) return std::nullopt;
  return waitMs;
}

void HttpClient::Exchange::onBody(std::string_view bytes) {
  if (divert_ == Divert::None) return handler_.onResponseBody(bytes);  // last, as above
  discarded_ += bytes.size();
  if (discarded_ > kMaxDiscardedBody) {
    dropConnection();  // not worth reading: a fresh connection is cheaper
    followUp();
  }
}

void HttpClient::Exchange::onComplete() {
  client_.release(std::move(connection_));
  if (divert_ != Divert::None) return followUp();
  end(Ok{});
}

void HttpClient::Exchange::followUp() {
  if (divert_ == Divert::Redirect) {
    ++redirects_;
    bool sameOrigin = location_->origin() == request_.url.origin();
    request_.url = std::move(*location_);
    location_.reset();
    // RFC 9110 §15.4: 303 continues with GET, and so do 301 and 302 after a POST (as every
    // client does); 307 and 308 keep the method and the body.
    bool toGet = (redirectStatus_ == 303 && request_.method != "HEAD") ||
                 ((redirectStatus_ == 301 || redirectStatus_ == 302) && request_.method == "POST");
    if (toGet) {
      request_.method = "GET";
      request_.body.clear();
      request_.resendable = true;
      std::erase_if(request_.headers,
                    [](const auto& header) { return asciiLower(header.first) == "content-type"; });
    }
    if (!sameOrigin) {
      // Credentials are for the origin they were meant for (RFC 9110 §15.4).
      std::erase_if(request_.headers, [](const auto& header) {
        return asciiLower(header.first) == "authorization" || asciiLower(header.first) == "cookie";
      });
    }
    return begin();
  }
  waited_ += retryWait_;
  later_.start(retryWait_, [this] { begin(); });
}

void HttpClient::Exchange::onFailed(const Error& error, bool unanswered) {
  bool resend = reused_ && unanswered && request_.resendable && !resent_;
  dropConnection();
  if (!resend) return end(error);
  // A pooled connection the server had closed meanwhile: once more, on a new connection.
  resent_ = true;
  wantsFresh_ = true;
  begin();
}

void HttpClient::Exchange::dropConnection() {
  if (connector_) {
    client_.deleter_.retire(std::move(connector_));
    client_.connectionGone(originKey_);
  }
  if (connection_) {
    connection_->abandon();
    client_.release(std::move(connection_));
  }
}

void HttpClient::Exchange::end(Status status) {
  if (done_) return;
  done_ = true;
  if (total_) total_->stop();
  later_.stop();
  dropConnection();
  if (waiting_) {
    waiting_ = false;
    client_.cancelWait(*this);
  }
  handler_.onResponseEnd(std::move(status));  // last: the handler may destroy this exchange
}

}  // namespace popgate::http
