// CommandDecoder: byte transcripts, each replayed in one piece, one byte at a time and split at
// every position; all replays must decode to the same events.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proxy/pop3/CommandDecoder.h"

namespace popgate::pop3 {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

using namespace std::string_literals;  // NUL bytes inside transcripts

// One decoded event as text: "VERB|rest", "Invalid" or "LineTooLong".
std::string describe(DecodeStatus status, const Command& command) {
  switch (status) {
    case DecodeStatus::Command:
      return command.verb + "|" + command.rest;
    case DecodeStatus::Invalid:
      return "Invalid";
    case DecodeStatus::LineTooLong:
      return "LineTooLong";
    case DecodeStatus::NeedMore:
      break;
  }
  return "NeedMore";
}

void drain(CommandDecoder& decoder, std::vector<std::string>& events) {
  Command command;
  for (;;) {
    DecodeStatus status = decoder.next(command);
    if (status == DecodeStatus::NeedMore) return;
    events.push_back(describe(status, command));
  }
}

std::vector<std::string> replayChunks(const std::vector<std::string_view>& chunks) {
  CommandDecoder decoder;
  std::vector<std::string> events;
  for (std::string_view chunk : chunks) {
    decoder.feed(chunk);
    drain(decoder, events);
  }
  return events;
}

// Decodes `bytes` in one piece, and checks that one-byte-at-a-time and every two-piece split
// decode to exactly the same events.
std::vector<std::string> decode(std::string_view bytes) {
  std::vector<std::string> whole = replayChunks({bytes});

  std::vector<std::string_view> bytewise;
  for (std::size_t i = 0; i < bytes.size(); ++i) bytewise.push_back(bytes.substr(i, 1));
  EXPECT_EQ(replayChunks(bytewise), whole) << "replayed one byte at a time";

  for (std::size_t at = 1; at < bytes.size(); ++at) {
    EXPECT_EQ(replayChunks({bytes.substr(0, at), bytes.substr(at)}), whole)
        << "split at byte " << at;
  }
  return whole;
}

TEST(CommandDecoderTest, DecodesCrlfTerminatedCommands) {
  EXPECT_THAT(decode("USER alice\r\nSTAT\r\nLIST 2\r\n"),
              ElementsAre("USER|alice", "STAT|", "LIST|2"));
}

TEST(CommandDecoderTest, AcceptsBareLf) {
  EXPECT_THAT(decode("STAT\nRETR 1\nQUIT\r\n"), ElementsAre("STAT|", "RETR|1", "QUIT|"));
}

TEST(CommandDecoderTest, UpperCasesTheVerbOnly) {
  EXPECT_THAT(decode("user Alice\r\nStAt\r\nqUiT\n"), ElementsAre("USER|Alice", "STAT|", "QUIT|"));
}

TEST(CommandDecoderTest, KeepsPassRestVerbatimWithSpaces) {
  EXPECT_THAT(decode("PASS  two  spaces here \r\n"), ElementsAre("PASS| two  spaces here "));
  EXPECT_THAT(decode("PASS a b\tc\r\n"), ElementsAre("PASS|a b\tc"));
}

TEST(CommandDecoderTest, TrailingSpaceGivesEmptyRest) {
  EXPECT_THAT(decode("NOOP \r\n"), ElementsAre("NOOP|"));
}

TEST(CommandDecoderTest, OnlyTheFinalCrIsStripped) {
  EXPECT_THAT(decode("PASS a\r\r\n"), ElementsAre("PASS|a\r"));
  EXPECT_THAT(decode("PASS a\rb\r\n"), ElementsAre("PASS|a\rb"));
}

TEST(CommandDecoderTest, EmptyLinesAreInvalid) {
  EXPECT_THAT(decode("\r\n\nSTAT\r\n"), ElementsAre("Invalid", "Invalid", "STAT|"));
}

TEST(CommandDecoderTest, NulByteAnywhereIsInvalid) {
  EXPECT_THAT(decode("ST\0AT\r\nNOOP\r\n"s), ElementsAre("Invalid", "NOOP|"));
  EXPECT_THAT(decode("PASS se\0cret\r\nNOOP\r\n"s), ElementsAre("Invalid", "NOOP|"));
}

TEST(CommandDecoderTest, NonAlphabeticVerbIsInvalid) {
  EXPECT_THAT(decode("US3R alice\r\n"
                     "9\r\n"
                     " USER alice\r\n"
                     "NO\rOP\r\n"
                     "\r\r\n"
                     "STAT\r\n"),
              ElementsAre("Invalid", "Invalid", "Invalid", "Invalid", "Invalid", "STAT|"));
}

TEST(CommandDecoderTest, VerbLongerThanEightLettersIsInvalid) {
  EXPECT_THAT(decode("STARTTLSX\r\nSTARTTLS\r\n"), ElementsAre("Invalid", "STARTTLS|"));
}

// RFC 2449 §4: 255 octets including the CRLF.
TEST(CommandDecoderTest, AcceptsLineOfExactly255OctetsWithCrlf) {
  std::string line = "PASS " + std::string(248, 'p');  // 253 + CRLF = 255
  ASSERT_EQ(line.size() + 2, CommandDecoder::kMaxLine);
  EXPECT_THAT(decode(line + "\r\nNOOP\r\n"), ElementsAre("PASS|" + std::string(248, 'p'), "NOOP|"));
}

TEST(CommandDecoderTest, Rejects256OctetLineWithCrlfAndResynchronises) {
  std::string line = "PASS " + std::string(249, 'p');  // 254 + CRLF = 256
  EXPECT_THAT(decode(line + "\r\nNOOP\r\n"), ElementsAre("LineTooLong", "NOOP|"));
}

TEST(CommandDecoderTest, BareLfCountsAsOneOctet) {
  std::string fits = "PASS " + std::string(249, 'p');  // 254 + LF = 255
  EXPECT_THAT(decode(fits + "\n"), ElementsAre("PASS|" + std::string(249, 'p')));
  std::string tooLong = fits + "p";  // 255 + LF = 256
  EXPECT_THAT(decode(tooLong + "\nNOOP\n"), ElementsAre("LineTooLong", "NOOP|"));
}

TEST(CommandDecoderTest, RejectsInvalidOverlongLineAsTooLong) {
  EXPECT_THAT(decode(std::string(300, '\0') + "\nNOOP\n"), ElementsAre("LineTooLong", "NOOP|"));
}

TEST(CommandDecoderTest, EndlessLineIsReportedOnceAndNotBuffered) {
  for (std::size_t chunkSize : {std::size_t{1}, std::size_t{7}, std::size_t{1000}}) {
    SCOPED_TRACE(chunkSize);
    CommandDecoder decoder;
    std::vector<std::string> events;
    decoder.feed("NOOP\r\n");
    drain(decoder, events);
    const std::string chunk(chunkSize, 'x');
    for (std::size_t sent = 0; sent < 200'000; sent += chunkSize) {
      decoder.feed(chunk);
      drain(decoder, events);
      ASSERT_LT(decoder.buffered(), CommandDecoder::kMaxLine);
    }
    EXPECT_EQ(decoder.buffered(), 0u);
    EXPECT_THAT(events, ElementsAre("NOOP|", "LineTooLong"));

    decoder.feed("still the same line\r\nSTAT\r\n");
    drain(decoder, events);
    EXPECT_THAT(events, ElementsAre("NOOP|", "LineTooLong", "STAT|"));
    EXPECT_EQ(decoder.buffered(), 0u);
  }
}

TEST(CommandDecoderTest, PartialLineNeedsMore) {
  CommandDecoder decoder;
  Command command;
  decoder.feed("RET");
  EXPECT_EQ(decoder.next(command), DecodeStatus::NeedMore);
  EXPECT_EQ(decoder.buffered(), 3u);
  decoder.feed("R 1\r");
  EXPECT_EQ(decoder.next(command), DecodeStatus::NeedMore);
  decoder.feed("\n");
  ASSERT_EQ(decoder.next(command), DecodeStatus::Command);
  EXPECT_EQ(command.verb, "RETR");
  EXPECT_EQ(command.rest, "1");
  EXPECT_EQ(decoder.next(command), DecodeStatus::NeedMore);
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(CommandDecoderTest, DecodesPipelinedCommandsInOrder) {
  EXPECT_THAT(decode("USER a\r\nPASS b\r\nSTAT\r\nLIST\r\nUIDL 1\r\nRETR 1\r\nQUIT\r\n"),
              ElementsAre("USER|a", "PASS|b", "STAT|", "LIST|", "UIDL|1", "RETR|1", "QUIT|"));
}

TEST(CommandDecoderTest, LongPipelineIsCompactedAsItIsConsumed) {
  std::string input;
  for (int i = 0; i < 5000; ++i) input += "NOOP\r\n";
  CommandDecoder decoder;
  decoder.feed(input);
  decoder.feed("STA");
  std::vector<std::string> events;
  drain(decoder, events);
  EXPECT_EQ(events.size(), 5000u);
  EXPECT_EQ(decoder.buffered(), 3u);
  decoder.feed("T\r\n");
  drain(decoder, events);
  EXPECT_EQ(events.back(), "STAT|");
}

TEST(CommandDecoderTest, DiscardBufferedDropsPipelinedInput) {
  CommandDecoder decoder;
  Command command;
  decoder.feed("STLS\r\nUSER injected\r\nPASS x");
  ASSERT_EQ(decoder.next(command), DecodeStatus::Command);
  EXPECT_EQ(command.verb, "STLS");
  decoder.discardBuffered();
  EXPECT_EQ(decoder.buffered(), 0u);
  EXPECT_EQ(decoder.next(command), DecodeStatus::NeedMore);
  decoder.feed("CAPA\r\n");
  ASSERT_EQ(decoder.next(command), DecodeStatus::Command);
  EXPECT_EQ(command.verb, "CAPA");
}

TEST(CommandDecoderTest, DiscardBufferedEndsSkippingAnOverlongLine) {
  CommandDecoder decoder;
  Command command;
  decoder.feed(std::string(300, 'x'));
  EXPECT_EQ(decoder.next(command), DecodeStatus::LineTooLong);
  decoder.discardBuffered();
  decoder.feed("NOOP\r\n");
  ASSERT_EQ(decoder.next(command), DecodeStatus::Command);
  EXPECT_EQ(command.verb, "NOOP");
}

TEST(CommandDecoderTest, RawLineIsReturnedAsIs) {
  CommandDecoder decoder;
  std::string line;
  decoder.feed(" dGVzdA== x\r\n\nSTAT\r\n");
  ASSERT_EQ(decoder.nextRawLine(line), DecodeStatus::Command);
  EXPECT_EQ(line, " dGVzdA== x");
  ASSERT_EQ(decoder.nextRawLine(line), DecodeStatus::Command);
  EXPECT_EQ(line, "");
  Command command;
  ASSERT_EQ(decoder.next(command), DecodeStatus::Command);
  EXPECT_EQ(command.verb, "STAT");
  EXPECT_EQ(decoder.nextRawLine(line), DecodeStatus::NeedMore);
}

TEST(CommandDecoderTest, RawLinesHaveTheSaslLengthLimit) {
  // CRLF included, as for commands.
  CommandDecoder decoder(1000);
  std::string line;
  decoder.feed(std::string(998, 'A') + "\r\n" + std::string(999, 'B') + "\r\nabc\r\n");
  ASSERT_EQ(decoder.nextRawLine(line), DecodeStatus::Command);
  EXPECT_EQ(line, std::string(998, 'A'));
  EXPECT_EQ(decoder.nextRawLine(line), DecodeStatus::LineTooLong);
  ASSERT_EQ(decoder.nextRawLine(line), DecodeStatus::Command);
  EXPECT_EQ(line, "abc");
}

TEST(CommandDecoderTest, AnOverlongRawLineIsNotBuffered) {
  CommandDecoder decoder(1000);
  std::string line;
  decoder.feed(std::string(600, 'A'));
  EXPECT_EQ(decoder.nextRawLine(line), DecodeStatus::NeedMore);
  decoder.feed(std::string(600, 'A'));
  EXPECT_EQ(decoder.nextRawLine(line), DecodeStatus::LineTooLong);
  EXPECT_EQ(decoder.buffered(), 0u);
  decoder.feed(std::string(5000, 'A'));
  EXPECT_EQ(decoder.nextRawLine(line), DecodeStatus::NeedMore);
  EXPECT_EQ(decoder.buffered(), 0u);
  decoder.feed("A\r\n*\r\n");
  ASSERT_EQ(decoder.nextRawLine(line), DecodeStatus::Command);
  EXPECT_EQ(line, "*");
}

TEST(CommandDecoderTest, AnAuthLineMayBeAsLongAsASaslLine) {
  CommandDecoder decoder(1000);
  std::string initial(990, 'x');  // "auth xoauth2 " + 990 + CRLF: 1005 octets
  std::string ok = "auth XOAUTH2 " + std::string(985, 'x') + "\r\n";  // 1000 octets
  ASSERT_EQ(ok.size(), 1000u);
  Command command;
  // One byte at a time: the limit is decided on the first bytes, before the line's end.
  for (char c : ok) decoder.feed(std::string_view(&c, 1));
  ASSERT_EQ(decoder.next(command), DecodeStatus::Command);
  EXPECT_EQ(command.verb, "AUTH");
  EXPECT_EQ(command.rest, "XOAUTH2 " + std::string(985, 'x'));
  decoder.feed("AUTH XOAUTH2 " + initial + "\r\nNOOP\r\n");
  EXPECT_EQ(decoder.next(command), DecodeStatus::LineTooLong);
  ASSERT_EQ(decoder.next(command), DecodeStatus::Command);
  EXPECT_EQ(command.verb, "NOOP");
  // Any other verb keeps RFC 2449's 255 octets.
  decoder.feed("USER " + std::string(300, 'u') + "\r\n");
  EXPECT_EQ(decoder.next(command), DecodeStatus::LineTooLong);
  // The default SASL bound: 16384 octets.
  EXPECT_EQ(CommandDecoder::kMaxSaslLine, 16384u);
}

TEST(CommandDecoderTest, NothingFedDecodesNothing) {
  EXPECT_THAT(decode(""), IsEmpty());
}

}  // namespace
}  // namespace popgate::pop3
