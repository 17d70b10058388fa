// What a POP3 client can send, before and after login: command lines cut at any byte, SASL
// continuation lines, STLS's discard of pipelined plain text, and the argument and SASL parsers
// that the session runs on what the decoder hands it.

#include <cstdint>
#include <cstdlib>
#include <string>

#include "FuzzInput.h"
#include "lib/common/Base64.h"
#include "proxy/pop3/Apop.h"
#include "proxy/pop3/Arguments.h"
#include "proxy/pop3/CommandDecoder.h"
#include "proxy/sasl/CramMd5Mechanism.h"
#include "proxy/sasl/OAuthBearerMechanism.h"
#include "proxy/sasl/PlainMechanism.h"
#include "proxy/sasl/XOAuth2Mechanism.h"

namespace {
using popgate::pop3::CommandDecoder;
using popgate::pop3::DecodeStatus;

using popgate::fuzz::check;

void parseArguments(const std::string& rest) {
  for (std::string_view arg : popgate::pop3::splitArgs(rest)) {
    check(arg.find(' ') == std::string_view::npos);
    if (auto number = popgate::pop3::parseNumber(arg)) check(*number <= 999'999'999u);
  }
  if (auto apop = popgate::pop3::parseApopArguments(rest)) check(apop->digest.size() == 32);
}

void parseSasl(const std::string& line) {
  auto decoded = popgate::decodeBase64(line);
  if (!decoded) return;
  auto again = popgate::decodeBase64(popgate::encodeBase64(*decoded));
  check(again && *again == *decoded);
  if (auto plain = popgate::sasl::parsePlain(*decoded)) {
    check(plain->authcid.find('\0') == std::string::npos);
  }
  if (auto cram = popgate::sasl::parseCramMd5Response(*decoded)) {
    check(!cram->user.empty() && cram->digest.size() == 32);
  }
  if (auto bearer = popgate::sasl::parseOAuthBearer(*decoded)) {
    check(!bearer->token.empty() && bearer->token.find('\x01') == std::string::npos);
  }
  if (auto xoauth2 = popgate::sasl::parseXOAuth2(*decoded)) {
    check(!xoauth2->user.empty() && xoauth2->token.find(' ') == std::string::npos);
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  popgate::fuzz::FuzzInput input(data, size);
  CommandDecoder decoder;
  while (!input.empty()) {
    std::uint8_t mode = input.control();
    if (mode == 0xFF) decoder.discardBuffered();  // STLS
    decoder.feed(input.chunk());
    for (;;) {
      DecodeStatus status;
      if (mode & 1) {  // inside AUTH: raw continuation lines
        std::string line;
        status = decoder.nextRawLine(line);
        if (status == DecodeStatus::Command) {
          check(line.size() < CommandDecoder::kMaxSaslLine);
          check(line.find('\n') == std::string::npos);
          parseSasl(line);
        }
      } else {
        popgate::pop3::Command command;
        status = decoder.next(command);
        if (status == DecodeStatus::Command) {
          check(!command.verb.empty() && command.verb.size() <= 8);
          for (char c : command.verb) check(c >= 'A' && c <= 'Z');
          check(command.rest.find('\n') == std::string::npos);
          // Only AUTH may be longer than RFC 2449's limit: it carries SASL initial responses.
          check(command.rest.size() <
                (command.verb == "AUTH" ? CommandDecoder::kMaxSaslLine : CommandDecoder::kMaxLine));
          parseArguments(command.rest);
        }
      }
      if (status == DecodeStatus::NeedMore) break;
    }
    // Everything the decoder still holds is at most one unfinished line.
    check(decoder.buffered() < CommandDecoder::kMaxSaslLine);
  }
  return 0;
}
