// The admin endpoint's answers (pure: method and path in, status and bytes out), and the code
// label a failed login is counted under.

#include <gtest/gtest.h>

#include "proxy/server/AdminServer.h"
#include "proxy/server/SessionInstruments.h"

namespace popgate::server {
namespace {

AdminServer::Handlers handlers(bool ready) {
  return {[] { return std::string("popgate_sessions_active 0\n"); }, [ready] { return ready; }};
}

TEST(AdminServerTest, MetricsInTheTextFormat) {
  AdminServer::Reply reply = AdminServer::answer("GET", "/metrics", handlers(true));
  EXPECT_EQ(AdminServer::serialize(reply, true),
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
            "Content-Length: 26\r\n"
            "Cache-Control: no-store\r\n"
            "Connection: close\r\n"
            "\r\n"
            "popgate_sessions_active 0\n");
}

TEST(AdminServerTest, HealthAndReadiness) {
  EXPECT_EQ(AdminServer::answer("GET", "/healthz", handlers(false)).status, 200);
  EXPECT_EQ(AdminServer::answer("GET", "/readyz", handlers(true)).status, 200);
  EXPECT_EQ(AdminServer::answer("GET", "/readyz", handlers(false)).status, 503);
}

TEST(AdminServerTest, HeadHasNoBody) {
  AdminServer::Reply reply = AdminServer::answer("HEAD", "/healthz", handlers(true));
  EXPECT_EQ(AdminServer::serialize(reply, false),
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 3\r\n"
            "Cache-Control: no-store\r\n"
            "Connection: close\r\n"
            "\r\n");
}

TEST(AdminServerTest, OtherMethodsAndPaths) {
  AdminServer::Reply post = AdminServer::answer("POST", "/metrics", handlers(true));
  EXPECT_EQ(post.status, 405);
  EXPECT_NE(AdminServer::serialize(post, true).find("\r\nAllow: GET, HEAD\r\n"), std::string::npos);
  EXPECT_EQ(AdminServer::answer("GET", "/", handlers(true)).status, 404);
  EXPECT_EQ(AdminServer::answer("GET", "/metrics/x", handlers(true)).status, 404);
}

TEST(LoginCodeTest, TheCodeTheClientGot) {
  EXPECT_EQ(loginCode(Error{ErrorCode::Auth, "refused"}), "AUTH");
  EXPECT_EQ(loginCode(Error{ErrorCode::Temporary, "down"}), "SYS/TEMP");
  EXPECT_EQ(loginCode(Error{ErrorCode::Permanent, "no"}), "SYS/PERM");
  EXPECT_EQ(loginCode(Error{ErrorCode::InUse, "locked"}), "IN-USE");
  EXPECT_EQ(loginCode(Error{ErrorCode::Temporary, "LOGIN-DELAY not yet passed",
                            "-ERR [LOGIN-DELAY] Minimum time between logins not yet passed."}),
            "LOGIN-DELAY");
  EXPECT_EQ(loginCode(Error{ErrorCode::Auth, "x", "-ERR no code here"}), "");
}

}  // namespace
}  // namespace popgate::server
