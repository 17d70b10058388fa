#include "lib/http/HttpRequestParser.h"

#include "lib/common/Ascii.h"

namespace popgate::http {

std::string_view HttpRequestHead::path() const {
  std::string_view view = target;
  return view.substr(0, view.find('?'));
}

HttpRequestParser::HttpRequestParser() {
  http_parser_settings_init(&settings_);
  settings_.on_url = &HttpRequestParser::onUrl;
  settings_.on_header_field = &HttpRequestParser::onHeaderField;
  settings_.on_header_value = &HttpRequestParser::onHeaderValue;
  settings_.on_headers_complete = &HttpRequestParser::onHeadersComplete;
  settings_.on_message_complete = &HttpRequestParser::onMessageComplete;
  http_parser_init(&parser_, HTTP_REQUEST);
  parser_.data = this;
}

HttpRequestParser::Outcome HttpRequestParser::feed(std::string_view bytes) {
  if (outcome_ != Outcome::Incomplete) return outcome_;
  // Only what fits the bound is parsed: a request that is not complete within it never will be.
  std::size_t room = kMaxRequestBytes - received_;
  std::string_view take = bytes.substr(0, room);
  received_ += take.size();
  http_parser_execute(&parser_, &settings_, take.data(), take.size());
  http_errno error = HTTP_PARSER_ERRNO(&parser_);
  if (outcome_ == Outcome::Complete) return outcome_;  // paused at the request's end
  if (error != HPE_OK) return outcome_ = Outcome::Invalid;
  if (take.size() < bytes.size() || received_ == kMaxRequestBytes)
    return outcome_ = Outcome::TooLarge;
  return outcome_;
}

int HttpRequestParser::onUrl(http_parser* p, const char* at, std::size_t length) {
  self(p).head_.target.append(at, length);
  return 0;
}

int HttpRequestParser::onHeaderField(http_parser* p, const char* at, std::size_t length) {
  HttpRequestParser& parser = self(p);
  if (parser.inValue_ || parser.head_.headers.empty()) parser.head_.headers.emplace_back();
  parser.inValue_ = false;
  parser.head_.headers.back().first.append(at, length);
  return 0;
}

int HttpRequestParser::onHeaderValue(http_parser* p, const char* at, std::size_t length) {
  HttpRequestParser& parser = self(p);
  parser.inValue_ = true;
  parser.head_.headers.back().second.append(at, length);
  return 0;
}

int HttpRequestParser::onHeadersComplete(http_parser* p) {
  HttpRequestParser& parser = self(p);
  for (auto& [field, value] : parser.head_.headers) value = std::string(trimSpaces(value));
  parser.head_.method = http_method_str(static_cast<http_method>(p->method));
  parser.head_.versionMajor = p->http_major;
  parser.head_.versionMinor = p->http_minor;
  return 0;
}

int HttpRequestParser::onMessageComplete(http_parser* p) {
  self(p).outcome_ = Outcome::Complete;
  http_parser_pause(p, 1);  // nothing after the first request is read
  return 0;
}

}  // namespace popgate::http
