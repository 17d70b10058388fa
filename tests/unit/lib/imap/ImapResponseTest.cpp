// parseHead: the tag, number, keyword, response code and text of a response line.

#include <gtest/gtest.h>

#include "lib/imap/ImapResponse.h"

namespace popgate::imap {
namespace {

ImapResponse line(std::string text) {
  ImapResponse response;
  response.segments.push_back(std::move(text));
  return response;
}

TEST(ParseHead, GreetingWithCapabilityCode) {
  ImapResponse response =
      line("* OK [CAPABILITY IMAP4rev1 LITERAL+ AUTH=PLAIN] Dovecot (Debian) ready.");
  ImapHead head = parseHead(response);
  EXPECT_EQ(head.tag, "*");
  EXPECT_EQ(head.number, std::nullopt);
  EXPECT_EQ(head.keyword, "OK");
  EXPECT_EQ(head.code, "CAPABILITY");
  EXPECT_EQ(head.codeArgs, "IMAP4rev1 LITERAL+ AUTH=PLAIN");
  EXPECT_EQ(head.text, "Dovecot (Debian) ready.");
  EXPECT_TRUE(response.isUntagged());
  EXPECT_FALSE(response.isContinuation());
}

TEST(ParseHead, NumberedData) {
  ImapResponse response = line("* 23 EXISTS");
  ImapHead head = parseHead(response);
  EXPECT_EQ(head.number, 23u);
  EXPECT_EQ(head.keyword, "EXISTS");
  EXPECT_EQ(head.code, "");
  EXPECT_EQ(head.text, "");

  ImapResponse fetch = line("* 1 fetch (UID 7 RFC822.SIZE 12)");
  ImapHead fetchHead = parseHead(fetch);
  EXPECT_EQ(fetchHead.number, 1u);
  EXPECT_EQ(fetchHead.keyword, "FETCH");  // upper-cased
  EXPECT_EQ(fetch.segments[0].substr(fetchHead.restOffset), "(UID 7 RFC822.SIZE 12)");
  EXPECT_EQ(fetchHead.text, "");  // no text for data responses
}

TEST(ParseHead, NumberTooLargeIsNotANumber) {
  ImapHead head = parseHead(line("* 99999999999 EXISTS"));
  EXPECT_EQ(head.number, std::nullopt);
  EXPECT_EQ(head.keyword, "99999999999");
}

TEST(ParseHead, UntaggedCodeWithArgument) {
  ImapHead head = parseHead(line("* OK [UIDVALIDITY 1700000000] UIDs valid"));
  EXPECT_EQ(head.code, "UIDVALIDITY");
  EXPECT_EQ(head.codeArgs, "1700000000");
  EXPECT_EQ(head.text, "UIDs valid");
}

TEST(ParseHead, TaggedCompletions) {
  ImapHead ok = parseHead(line("p3 ok [read-write] Select completed."));
  EXPECT_EQ(ok.tag, "p3");
  EXPECT_EQ(ok.keyword, "OK");
  EXPECT_EQ(ok.code, "READ-WRITE");
  EXPECT_EQ(ok.codeArgs, "");
  EXPECT_EQ(ok.text, "Select completed.");

  ImapHead no = parseHead(line("p2 NO [UNAVAILABLE] Temporary authentication failure."));
  EXPECT_EQ(no.keyword, "NO");
  EXPECT_EQ(no.code, "UNAVAILABLE");
  EXPECT_EQ(no.text, "Temporary authentication failure.");

  ImapHead bad = parseHead(line("p9 BAD Error in IMAP command UID: Invalid arguments."));
  EXPECT_EQ(bad.keyword, "BAD");
  EXPECT_EQ(bad.code, "");
  EXPECT_EQ(bad.text, "Error in IMAP command UID: Invalid arguments.");
}

TEST(ParseHead, CodeWithoutTextAndUnclosedBracket) {
  ImapHead bare = parseHead(line("p1 OK [ALERT]"));
  EXPECT_EQ(bare.code, "ALERT");
  EXPECT_EQ(bare.text, "");

  ImapHead unclosed = parseHead(line("p1 NO [ALERT oops"));
  EXPECT_EQ(unclosed.code, "");
  EXPECT_EQ(unclosed.text, "[ALERT oops");
}

TEST(ParseHead, ByeAndPreauth) {
  EXPECT_EQ(parseHead(line("* BYE Too many connections")).keyword, "BYE");
  EXPECT_EQ(parseHead(line("* BYE Too many connections")).text, "Too many connections");
  EXPECT_EQ(parseHead(line("* PREAUTH [CAPABILITY IMAP4rev1] Logged in as x")).code, "CAPABILITY");
}

TEST(ParseHead, Continuation) {
  ImapResponse response = line("+ OK");
  ImapHead head = parseHead(response);
  EXPECT_EQ(head.tag, "+");
  EXPECT_EQ(head.text, "OK");
  EXPECT_TRUE(response.isContinuation());
  EXPECT_EQ(parseHead(line("+")).text, "");
}

TEST(ParseHead, EmptyResponse) {
  ImapHead head = parseHead(ImapResponse{});
  EXPECT_EQ(head.tag, "");
  EXPECT_EQ(head.keyword, "");
  EXPECT_EQ(parseHead(line("")).keyword, "");
}

TEST(StatusOf, KnownKeywords) {
  EXPECT_EQ(statusOf("OK"), ImapStatus::Ok);
  EXPECT_EQ(statusOf("NO"), ImapStatus::No);
  EXPECT_EQ(statusOf("BAD"), ImapStatus::Bad);
  EXPECT_EQ(statusOf("BYE"), ImapStatus::Bye);
  EXPECT_EQ(statusOf("PREAUTH"), ImapStatus::Preauth);
  EXPECT_EQ(statusOf("FETCH"), std::nullopt);
  EXPECT_EQ(statusOf("ok"), std::nullopt);  // callers pass the upper-cased keyword
}

}  // namespace
}  // namespace popgate::imap
