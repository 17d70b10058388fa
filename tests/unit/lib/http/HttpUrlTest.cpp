// parseHttpUrl and resolveLocation: the URLs a JMAP session, a redirect or a config file holds.

#include <gtest/gtest.h>

#include "lib/http/HttpUrl.h"

namespace popgate::http {
namespace {

HttpUrl parsed(std::string_view text) {
  auto url = parseHttpUrl(text);
  EXPECT_TRUE(url.ok()) << text << ": " << (url ? "" : url.error().detail);
  return url ? url.value() : HttpUrl{};
}

TEST(HttpUrlTest, SchemesPortsAndTargets) {
  HttpUrl url = parsed("https://JMAP.Example.ORG/jmap/session?x=1#frag");
  EXPECT_TRUE(url.https);
  EXPECT_EQ(url.host, "jmap.example.org");
  EXPECT_EQ(url.port, 443);
  EXPECT_EQ(url.target, "/jmap/session?x=1");
  EXPECT_EQ(url.origin(), "https://jmap.example.org");

  url = parsed("http://127.0.0.1:8080");
  EXPECT_FALSE(url.https);
  EXPECT_EQ(url.port, 8080);
  EXPECT_EQ(url.target, "/");
  EXPECT_EQ(url.hostHeader(), "127.0.0.1:8080");
  EXPECT_EQ(url.text(), "http://127.0.0.1:8080/");

  url = parsed("http://[::1]:8443/a");
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.hostHeader(), "[::1]:8443");

  EXPECT_EQ(parsed("http://h?q").target, "/?q");
  EXPECT_EQ(parsed("HTTP://h:80/").hostHeader(), "h");
}

TEST(HttpUrlTest, RefusesWhatCannotBeARequest) {
  for (std::string_view bad :
       {"ftp://h/", "h/x", "http://", "http://:80/", "http://h:0/", "http://h:65536/",
        "http://h:8x/", "http://user:pw@h/", "http://h/a b", "http://h/\r\nX: y", "http://[::1/",
        "http://[zz]/", "http://h h/"}) {
    EXPECT_FALSE(parseHttpUrl(bad).ok()) << bad;
  }
}

TEST(HttpUrlTest, LocationForms) {
  HttpUrl base = parsed("https://api.example.org:8443/jmap/api/?x=1");
  EXPECT_EQ(resolveLocation(base, "https://other.example/x").value().text(),
            "https://other.example/x");
  EXPECT_EQ(resolveLocation(base, "//cdn.example/blob").value().text(), "https://cdn.example/blob");
  EXPECT_EQ(resolveLocation(base, "/root").value().text(), "https://api.example.org:8443/root");
  EXPECT_EQ(resolveLocation(base, "session").value().text(),
            "https://api.example.org:8443/jmap/api/session");
  EXPECT_FALSE(resolveLocation(base, "mailto:x@y").ok());
}

}  // namespace
}  // namespace popgate::http
