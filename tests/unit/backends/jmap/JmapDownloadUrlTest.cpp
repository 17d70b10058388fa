// The download URL of a blob (RFC 8620 §6.2): the template expanded per blob, and the URL that
// DownloadUrl prepares once per login, which must be exactly what expanding and parsing each
// blob's URL gives, for any template a server may send.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "backends/jmap/JmapDownloadUrl.h"

namespace popgate::jmap {
namespace {

JmapSession session(std::string tpl) {
  JmapSession s;
  s.accountId = "alice";
  s.downloadUrl = std::move(tpl);
  return s;
}

const char* kCyrus =
    "http://127.0.0.1:8080/jmap/download/{accountId}/{blobId}/{name}?accept={type}";

TEST(JmapDownloadUrlTest, ExpandsAndEncodesTheTemplate) {
  EXPECT_EQ(
      downloadUrl(session(kCyrus), "G12/ab+c"),
      "http://127.0.0.1:8080/jmap/download/alice/G12%2Fab%2Bc/message.eml?accept=message%2Frfc822");
}

TEST(JmapDownloadUrlTest, LeavesUnknownVariablesEmptyAndAnUnclosedBraceLiteral) {
  JmapSession s = session("https://h/d/{accountId}/{blobId}{nope}/x?{type}&q={open");
  EXPECT_EQ(downloadUrl(s, "~a-b_c.d\xc3\xa9 "),
            "https://h/d/alice/~a-b_c.d%C3%A9%20/x?message%2Frfc822&q={open");
  s.downloadUrl = "/plain/path";
  EXPECT_EQ(downloadUrl(s, "b"), "/plain/path");
}

void expectSameAsParsingEachUrl(const std::string& tpl) {
  JmapSession s = session(tpl);
  DownloadUrl prepared(s);
  for (std::string blob : {"G6a1f", "G12/ab+c", "%zz", "a%2Fb", "#frag", "~a-b_c.d\xc3\xa9 ", ""}) {
    auto want = http::parseHttpUrl(downloadUrl(s, blob));
    auto got = prepared.forBlob(blob);
    ASSERT_EQ(want.ok(), got.ok()) << tpl << " / " << blob;
    if (!want.ok()) continue;
    EXPECT_EQ(got.value().https, want.value().https) << tpl << " / " << blob;
    EXPECT_EQ(got.value().host, want.value().host) << tpl << " / " << blob;
    EXPECT_EQ(got.value().port, want.value().port) << tpl << " / " << blob;
    EXPECT_EQ(got.value().target, want.value().target) << tpl << " / " << blob;
  }
}

TEST(JmapDownloadUrlTest, PreparedUrlIsWhatParsingEachBlobsUrlGives) {
  for (const char* tpl : {
           kCyrus,
           "https://H.example:8443/d/{blobId}",
           "http://h/{blobId}/{blobId}/x",            // the blobId twice
           "http://h/d?blob={blobId}&t={type}",       // in the query
           "http://h?b={blobId}",                     // a query without a path
           "http://h/d/x#{blobId}",                   // cut off with the fragment
           "http://h{blobId}/d",                      // in the host: parsed per blob
           "http://h:{blobId}/d",                     // as the port: an error per blob
           "http://[::1]:8080/{accountId}/{blobId}",  // an IPv6 literal
           "http://h/%zz/{blobId}",                   // the template holds the mark itself
           "http://h/{blobId}{nope}/{name}",          // an unknown variable next to it
           "/relative/{blobId}",                      // not absolute: an error per blob
           "http://h/no/variables",
       }) {
    expectSameAsParsingEachUrl(tpl);
  }
}

TEST(JmapDownloadUrlTest, CyrusTemplateIsPreparedOnce) {
  DownloadUrl prepared(session(kCyrus));
  auto url = prepared.forBlob("G0123456789abcdef");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url.value().host, "127.0.0.1");
  EXPECT_EQ(url.value().port, 8080);
  EXPECT_EQ(url.value().target,
            "/jmap/download/alice/G0123456789abcdef/message.eml?accept=message%2Frfc822");
}

}  // namespace
}  // namespace popgate::jmap
