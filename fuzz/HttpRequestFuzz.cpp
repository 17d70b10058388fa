// What a client of the admin endpoint can send: a request cut at any byte must give exactly
// what the same bytes give in one piece (the same outcome, method, target, version and headers),
// never more than the bound is read, and nothing after a complete request changes it.

#include <cstdint>
#include <cstdio>
#include <string>

#include "FuzzInput.h"
#include "lib/http/HttpRequestParser.h"

namespace {
using namespace popgate::http;
using popgate::fuzz::check;

std::string describe(const HttpRequestParser& parser, HttpRequestParser::Outcome outcome) {
  std::string out = std::to_string(static_cast<int>(outcome));
  if (outcome != HttpRequestParser::Outcome::Complete) return out;
  const HttpRequestHead& head = parser.head();
  out += " " + head.method + " " + head.target + " " + std::to_string(head.versionMajor) + "." +
         std::to_string(head.versionMinor);
  for (const auto& [name, value] : head.headers) out += "\n" + name + ": " + value;
  return out;
}

// Feeds `wire` in pieces chosen by `seed` (0: in one piece) until the parser decides.
std::string run(std::string_view wire, std::uint32_t seed) {
  HttpRequestParser parser;
  HttpRequestParser::Outcome outcome = HttpRequestParser::Outcome::Incomplete;
  std::uint32_t cut = seed;
  std::size_t offset = 0;
  while (offset < wire.size() && outcome == HttpRequestParser::Outcome::Incomplete) {
    std::size_t size = wire.size() - offset;
    if (seed != 0) {
      cut = cut * 1664525u + 1013904223u;
      size = std::min<std::size_t>(size, 1 + (cut >> 24) % 97);
    }
    outcome = parser.feed(wire.substr(offset, size));
    offset += size;
  }
  if (outcome == HttpRequestParser::Outcome::Complete) {
    check(!parser.head().method.empty());
    std::string before = describe(parser, outcome);
    check(parser.feed("GET /other HTTP/1.1\r\n\r\n") == outcome);  // decided once
    check(describe(parser, outcome) == before);
  }
  if (outcome == HttpRequestParser::Outcome::Incomplete)
    check(wire.size() < HttpRequestParser::kMaxRequestBytes);
  return describe(parser, outcome);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  popgate::fuzz::FuzzInput input(data, size);
  std::uint8_t seedByte = input.control();
  std::string_view wire(reinterpret_cast<const char*>(data) + (size < 1 ? 0 : 1),
                        size < 1 ? 0 : size - 1);
  std::string whole = run(wire, 0);
  std::string split = run(wire, seedByte * 2654435761u + 1);
  if (whole != split) {
    std::fprintf(stderr, "in one piece: %s\ncut:          %s\n", whole.c_str(), split.c_str());
    check(false);
  }
  return 0;
}
