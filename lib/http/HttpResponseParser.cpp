#include "lib/http/HttpResponseParser.h"

#include <climits>
#include <string>

#include "lib/common/Ascii.h"

namespace popgate::http {

namespace {

void trimInPlace(std::string& value) {
  std::string_view trimmed = trimSpaces(value);
  if (trimmed.size() == value.size()) return;
  std::size_t from = static_cast<std::size_t>(trimmed.data() - value.data());
  value.erase(from + trimmed.size());
  value.erase(0, from);
}

}  // namespace

const std::string* HttpResponseHead::header(std::string_view name) const {
  for (const auto& [field, value] : headers) {
    if (asciiEqualsIgnoreCase(field, name)) return &value;
  }
  return nullptr;
}

HttpResponseParser::HttpResponseParser(Handler& handler) : handler_(handler) {
  http_parser_settings_init(&settings_);
  settings_.on_header_field = &HttpResponseParser::onHeaderField;
  settings_.on_header_value = &HttpResponseParser::onHeaderValue;
  settings_.on_headers_complete = &HttpResponseParser::onHeadersComplete;
  settings_.on_body = &HttpResponseParser::onBodyData;
  settings_.on_message_complete = &HttpResponseParser::onMessageComplete;
  reset();
}

void HttpResponseParser::reset(bool headRequest) {
  http_parser_init(&parser_, HTTP_RESPONSE);
  parser_.data = this;
  // The header strings stay allocated: the next response on a kept-alive connection fills the
  // same slots (JMAP downloads are one response per message, each with the same headers).
  head_.status = 0;
  head_.contentLength.reset();
  head_.keepAlive = false;
  headerCount_ = 0;
  inValue_ = false;
  headBytes_ = 0;
  headRequest_ = headRequest;
  headComplete_ = false;
  complete_ = false;
  paused_ = false;
  tooLarge_ = false;
  badStatus_ = false;
}

Result<std::size_t> HttpResponseParser::feed(std::string_view bytes) {
  std::size_t consumed = 0;
  while (consumed < bytes.size() && !paused_ && !complete_) {
    std::size_t before = consumed;
    std::string_view rest = bytes.substr(consumed);
    consumed += http_parser_execute(&parser_, &settings_, rest.data(), rest.size());
    http_errno error = HTTP_PARSER_ERRNO(&parser_);
    if (error == HPE_PAUSED) {
      http_parser_pause(&parser_, 0);
      // An interim 1xx response (103 Early Hints, an unasked 100 Continue) is not the answer:
      // the final response follows on the same connection.
      if (complete_ && head_.status / 100 == 1) {
        reset(headRequest_);
        continue;
      }
      if (paused_ || complete_) break;
    } else if (error != HPE_OK) {
      return framingError();
    } else if (consumed == before) {
      break;
    }
  }
  return consumed;
}

Status HttpResponseParser::finish() {
  if (complete_) return Ok{};
  http_parser_execute(&parser_, &settings_, nullptr, 0);
  http_errno error = HTTP_PARSER_ERRNO(&parser_);
  if (error == HPE_PAUSED) http_parser_pause(&parser_, 0);
  if (complete_) return Ok{};
  if (error != HPE_OK && error != HPE_PAUSED) return framingError();
  return Error{ErrorCode::Temporary, headComplete_ ? "connection closed in the middle of the body"
                                                   : "connection closed before a response"};
}

void HttpResponseParser::pause() {
  paused_ = true;
  http_parser_pause(&parser_, 1);
}

void HttpResponseParser::resume() {
  paused_ = false;
}

Error HttpResponseParser::framingError() const {
  if (tooLarge_) return Error{ErrorCode::Temporary, "response headers larger than 64 KiB"};
  if (badStatus_) return Error{ErrorCode::Temporary, "bad HTTP status code"};
  http_errno error = HTTP_PARSER_ERRNO(&parser_);
  return Error{ErrorCode::Temporary,
               std::string("bad HTTP response: ") + http_errno_description(error)};
}

int HttpResponseParser::onHeaderField(http_parser* p, const char* at, std::size_t length) {
  HttpResponseParser& parser = self(p);
  parser.headBytes_ += length;
  if (parser.headBytes_ > kMaxHeadBytes) {
    parser.tooLarge_ = true;
    return 1;
  }
  auto& headers = parser.head_.headers;
  if (parser.inValue_ || parser.headerCount_ == 0) {
    if (parser.headerCount_ == headers.size()) headers.emplace_back();
    headers[parser.headerCount_].first.clear();
    headers[parser.headerCount_].second.clear();
    ++parser.headerCount_;
    parser.inValue_ = false;
  }
  headers[parser.headerCount_ - 1].first.append(at, length);
  return 0;
}

int HttpResponseParser::onHeaderValue(http_parser* p, const char* at, std::size_t length) {
  HttpResponseParser& parser = self(p);
  parser.headBytes_ += length;
  if (parser.headBytes_ > kMaxHeadBytes) {
    parser.tooLarge_ = true;
    return 1;
  }
  parser.inValue_ = true;
  parser.head_.headers[parser.headerCount_ - 1].second.append(at, length);
  return 0;
}

int HttpResponseParser::onHeadersComplete(http_parser* p) {
  HttpResponseParser& parser = self(p);
  HttpResponseHead& head = parser.head_;
  head.status = static_cast<int>(p->status_code);
  // http-parser takes any number; RFC 9110 §15 has three digits, 100 to 599.
  if (head.status < 100 || head.status > 599) {
    parser.badStatus_ = true;
    return -1;
  }
  head.headers.resize(parser.headerCount_);  // slots a longer earlier response left
  for (auto& header : head.headers) trimInPlace(header.second);
  // http-parser keeps ULLONG_MAX when there is no Content-Length.
  if (p->content_length != ULLONG_MAX && !(p->flags & F_CHUNKED)) {
    head.contentLength = p->content_length;
  }
  head.keepAlive = http_should_keep_alive(p) != 0;
  if (head.status / 100 == 1) return 0;  // interim: the final head comes later
  parser.headComplete_ = true;
  parser.handler_.onHead(head);
  // 1: no body follows, whatever the headers say (a response to HEAD).
  return parser.headRequest_ ? 1 : 0;
}

int HttpResponseParser::onBodyData(http_parser* p, const char* at, std::size_t length) {
  HttpResponseParser& parser = self(p);
  if (parser.head_.status / 100 == 1) return 0;
  parser.handler_.onBody(std::string_view(at, length));
  return 0;
}

int HttpResponseParser::onMessageComplete(http_parser* p) {
  HttpResponseParser& parser = self(p);
  parser.complete_ = true;
  // Stop here: what follows is the next response's (or junk), never this one's.
  http_parser_pause(p, 1);
  if (parser.head_.status / 100 != 1) {
    // keep-alive is decided by the whole message (http-parser knows it only now).
    parser.head_.keepAlive = http_should_keep_alive(p) != 0;
    parser.handler_.onComplete();
  }
  return 0;
}

}  // namespace popgate::http
