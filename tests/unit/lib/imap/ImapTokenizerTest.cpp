// ImapTokenizer: atoms (bracketed sections stay whole), quoted strings, literals, NIL, lists.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lib/imap/ImapTokenizer.h"

namespace popgate::imap {
namespace {

ImapResponse line(std::string text) {
  ImapResponse response;
  response.segments.push_back(std::move(text));
  return response;
}

// Tokens as short strings: A:atom S:string N ( ) E:error, up to the end.
std::vector<std::string> tokens(const ImapResponse& response, std::size_t offset = 0) {
  ImapTokenizer tokenizer(response, offset);
  std::vector<std::string> out;
  for (int guard = 0; guard < 100; ++guard) {
    ImapToken token = tokenizer.next();
    switch (token.kind) {
      case ImapToken::Kind::Atom:
        out.push_back("A:" + token.text);
        break;
      case ImapToken::Kind::String:
        out.push_back((token.literal ? "L:" : "S:") + token.text);
        break;
      case ImapToken::Kind::Nil:
        out.push_back("N");
        break;
      case ImapToken::Kind::ListOpen:
        out.push_back("(");
        break;
      case ImapToken::Kind::ListClose:
        out.push_back(")");
        break;
      case ImapToken::Kind::Error:
        out.push_back("E:" + token.text);
        return out;
      case ImapToken::Kind::End:
        return out;
    }
  }
  ADD_FAILURE() << "tokenizer does not end";
  return out;
}

using Tokens = std::vector<std::string>;

TEST(ImapTokenizer, AtomsNumbersAndFlags) {
  EXPECT_EQ(tokens(line("UID 7  RFC822.SIZE 1234 FLAGS (\\Seen $Junk)")),
            (Tokens{"A:UID", "A:7", "A:RFC822.SIZE", "A:1234", "A:FLAGS", "(", "A:\\Seen",
                    "A:$Junk", ")"}));
}

TEST(ImapTokenizer, BracketedSectionIsOneAtom) {
  EXPECT_EQ(tokens(line("(BODY[HEADER.FIELDS (FROM TO)]<0> NIL BODY[] \"x\")")),
            (Tokens{"(", "A:BODY[HEADER.FIELDS (FROM TO)]<0>", "N", "A:BODY[]", "S:x", ")"}));
  EXPECT_EQ(tokens(line("BODY[1.2.MIME]")), (Tokens{"A:BODY[1.2.MIME]"}));
}

TEST(ImapTokenizer, QuotedStringsWithEscapes) {
  EXPECT_EQ(tokens(line(R"x("a \"quoted\" word" "back\\slash" "" "(not a list)")x")),
            (Tokens{R"(S:a "quoted" word)", R"(S:back\slash)", "S:", "S:(not a list)"}));
}

TEST(ImapTokenizer, UnterminatedQuotedString) {
  EXPECT_EQ(tokens(line(R"(A "open)")), (Tokens{"A:A", "E:unterminated quoted string"}));
  EXPECT_EQ(tokens(line(R"("ends in \)")), (Tokens{"E:unterminated quoted string"}));
}

TEST(ImapTokenizer, NilInAnyCase) {
  EXPECT_EQ(tokens(line("NIL nil Nil NILS")), (Tokens{"N", "N", "N", "A:NILS"}));
}

TEST(ImapTokenizer, NestedLists) {
  EXPECT_EQ(tokens(line("(a (b (c)) () d)")),
            (Tokens{"(", "A:a", "(", "A:b", "(", "A:c", ")", ")", "(", ")", "A:d", ")"}));
}

TEST(ImapTokenizer, StartsAtOffset) {
  EXPECT_EQ(tokens(line("* 3 FETCH (UID 9)"), 10), (Tokens{"(", "A:UID", "A:9", ")"}));
}

TEST(ImapTokenizer, LiteralsContinueInTheNextSegment) {
  ImapResponse response;
  response.segments = {"(BODY[HEADER] {7}", " BODY[TEXT] {4}", " UID 5)"};
  response.literals = {ImapLiteral{7, LiteralMode::Buffer, "Subj: x"},
                       ImapLiteral{4, LiteralMode::Stream, ""}};
  ImapTokenizer tokenizer(response, 0);
  tokenizer.next();
  tokenizer.next();
  ImapToken header = tokenizer.next();
  EXPECT_EQ(header.kind, ImapToken::Kind::String);
  EXPECT_EQ(header.text, "Subj: x");
  EXPECT_EQ(header.literal, &response.literals[0]);
  EXPECT_EQ(tokens(response), (Tokens{"(", "A:BODY[HEADER]", "L:Subj: x", "A:BODY[TEXT]",
                                      "L:", "A:UID", "A:5", ")"}));
}

TEST(ImapTokenizer, BraceWithoutLiteralIsAnError) {
  // "{4}" mid-line, or a trailing one the framer did not read as a literal.
  EXPECT_EQ(tokens(line("(A {4} B)")), (Tokens{"(", "A:A", "E:bad literal"}));
  EXPECT_EQ(tokens(line("(A {4}")), (Tokens{"(", "A:A", "E:bad literal"}));
}

TEST(ImapTokenizer, SkipValue) {
  ImapResponse response = line("(x (y \"z)\" (w)) v) tail");
  ImapTokenizer tokenizer(response, 0);
  ImapToken first = tokenizer.next();
  EXPECT_TRUE(tokenizer.skipValue(first));
  EXPECT_EQ(tokenizer.next().text, "tail");
  EXPECT_EQ(tokenizer.next().kind, ImapToken::Kind::End);

  ImapResponse atom = line("a b");
  ImapTokenizer atoms(atom, 0);
  EXPECT_TRUE(atoms.skipValue(atoms.next()));
  EXPECT_EQ(atoms.next().text, "b");

  ImapResponse open = line("(a (b)");
  ImapTokenizer unclosed(open, 0);
  EXPECT_FALSE(unclosed.skipValue(unclosed.next()));
  EXPECT_FALSE(unclosed.skipValue(ImapToken{}));  // End
}

}  // namespace
}  // namespace popgate::imap
