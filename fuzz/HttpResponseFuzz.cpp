// What an HTTP server can send: responses (one after another on a kept-alive connection) cut
// at any byte and paused by the reader anywhere in a body must give exactly what the same bytes
// give in one piece: the same heads, the same body bytes, the same ends and the same errors. And
// TOP's cut over any body is a prefix of it.

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "FuzzInput.h"
#include "backends/mailbox/MessageTop.h"
#include "lib/http/HttpResponseParser.h"

namespace {
using namespace popgate::http;
using popgate::fuzz::check;

// Everything the parser reported, in order.
struct Transcript final : HttpResponseParser::Handler {
  std::string events;
  HttpResponseParser* parser = nullptr;
  std::uint32_t state = 0;  // non-zero: pause after some body callbacks
  void onHead(const HttpResponseHead& head) override {
    events += "H" + std::to_string(head.status) + ":" +
              (head.contentLength ? std::to_string(*head.contentLength) : "-") + ";";
    check(head.status >= 100 && head.status <= 599);
  }
  void onBody(std::string_view bytes) override {
    check(!bytes.empty());
    // One run of body bytes however they were cut: a piece that follows a piece continues it.
    if (!events.empty() && events.back() == '\x01')
      events.pop_back();
    else
      events += "B";
    events.append(bytes);
    events += '\x01';
    // Body pieces are concatenated: how the bytes were cut must not show.
    if (state != 0) {
      state = state * 1103515245u + 12345u;
      if ((state >> 16) % 3 == 0) parser->pause();
    }
  }
  void onComplete() override { events += "C;"; }
};

// Feeds `wire` as responses on one connection: in pieces chosen by `seed` (0: in one piece).
std::string run(std::string_view wire, std::uint8_t flags, std::uint32_t seed) {
  Transcript transcript;
  HttpResponseParser parser(transcript);
  transcript.parser = &parser;
  transcript.state = seed;
  parser.reset(flags & 1);
  std::uint32_t cut = seed;
  std::size_t offset = 0;
  int responses = 0;
  while (offset < wire.size()) {
    std::size_t size = wire.size() - offset;
    if (seed != 0) {
      cut = cut * 1664525u + 1013904223u;
      size = std::min<std::size_t>(size, 1 + (cut >> 24) % 97);
    }
    auto consumed = parser.feed(wire.substr(offset, size));
    if (!consumed) return transcript.events + "E";
    check(consumed.value() <= size);
    offset += consumed.value();
    if (parser.paused()) {
      check(!parser.complete());
      parser.resume();
      continue;
    }
    if (parser.complete()) {
      if (++responses == 8) return transcript.events;
      parser.reset(flags & 1);
      continue;
    }
    check(consumed.value() == size);  // neither paused nor complete: all of it was taken
  }
  transcript.events += parser.finish() ? "F;" : "X;";
  return transcript.events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  popgate::fuzz::FuzzInput input(data, size);
  std::uint8_t flags = input.control();
  std::uint8_t seedByte = input.control();
  std::string_view wire(reinterpret_cast<const char*>(data) + (size < 2 ? size : 2),
                        size < 2 ? 0 : size - 2);
  std::string whole = run(wire, flags, 0);
  std::string split = run(wire, flags, seedByte * 2654435761u + 1);
  if (whole != split) {
    std::fprintf(stderr, "in one piece: %s\ncut:          %s\n", whole.c_str(), split.c_str());
    check(false);
  }

  // TOP over the first body: a prefix of it, whatever the cut.
  popgate::backends::MessageTop top(flags >> 4);
  std::string cut;
  for (std::size_t i = 0; i < wire.size() && !top.done(); i += 1 + seedByte % 13) {
    cut += top.take(wire.substr(i, 1 + seedByte % 13));
  }
  check(wire.substr(0, cut.size()) == cut);
  return 0;
}
