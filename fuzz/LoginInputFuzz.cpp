// What the login step reads from files and services an operator does not fully control: a
// passwd-file, a refresh-token file, a token endpoint's answer, an auth_http service's answer.
// The first control byte picks the parser; the rest is its input. Invariants: no crash, bounded
// work, and whatever is accepted is safe to use in a header or an IMAP line (printable tokens,
// an auth_http server that is an address, a refusal text without line breaks).

#include <cstdint>
#include <string>
#include <string_view>

#include "FuzzInput.h"
#include "proxy/login/OAuth2Protocol.h"
#include "proxy/login/PasswdFile.h"
#include "proxy/login/RefreshTokenStore.h"
#include "proxy/route/AuthHttpProtocol.h"

namespace {
using popgate::fuzz::check;

bool printable(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7E) return false;
  }
  return true;
}

bool oneLine(std::string_view text) {
  return text.find('\r') == std::string_view::npos && text.find('\n') == std::string_view::npos;
}

void passwdFile(std::string_view text) {
  auto contents = popgate::login::parsePasswdFile(text);
  for (const auto& entry : contents.entries) {
    check(!entry.user.empty() && !entry.password.empty());
    check(entry.user.find(':') == std::string::npos);
  }
  for (const auto& problem : contents.problems) check(oneLine(popgate::login::describe(problem)));
}

void tokenAnswer(std::uint8_t control, std::string_view body) {
  int status = control & 1 ? 200 : 400 + (control >> 1) % 200;
  auto token = popgate::login::parseTokenResponse(status, body);
  if (!token) return;
  check(status == 200);
  check(!token.value().accessToken.empty() && printable(token.value().accessToken));
  if (token.value().refreshToken) check(printable(*token.value().refreshToken));
  check(token.value().lifetime.count() > 0);
}

void authHttpAnswer(popgate::fuzz::FuzzInput& input) {
  popgate::http::HttpResponseHead head;
  head.status = input.control() & 1 ? 200 : 500;
  bool passRequired = input.control() & 1;
  while (!input.empty()) {
    std::string_view line = input.chunk();
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    head.headers.emplace_back(std::string(line.substr(0, colon)),
                              std::string(line.substr(colon + 1)));
  }
  auto answer = popgate::route::parseAuthHttpAnswer(head, passRequired);
  if (!answer) return;
  check(head.status == 200);
  const auto& found = answer.value();
  check(oneLine(found.errorText));
  if (found.ok) {
    check(found.port != 0 && !found.server.empty() && printable(found.server));
    if (passRequired) check(found.pass.has_value());
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  popgate::fuzz::FuzzInput input(data, size);
  std::uint8_t which = input.control();
  std::string_view rest(reinterpret_cast<const char*>(data) + (size ? 1 : 0), size ? size - 1 : 0);
  switch (which % 4) {
    case 0:
      passwdFile(rest);
      break;
    case 1:
      (void)popgate::login::parseRefreshTokens(rest);
      break;
    case 2:
      tokenAnswer(input.control(), rest.substr(rest.empty() ? 0 : 1));
      break;
    default:
      authHttpAnswer(input);
      break;
  }
  return 0;
}
