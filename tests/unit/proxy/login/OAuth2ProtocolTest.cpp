// The token endpoint's wire format (RFC 6749): the request as it goes on the wire, byte for
// byte, and the reading of §5.1 and §5.2 answers.

#include <gtest/gtest.h>

#include "lib/common/Base64.h"
#include "proxy/login/OAuth2Protocol.h"

namespace popgate::login {
namespace {

using namespace std::chrono_literals;

OAuth2Settings settings(OAuth2Settings::Grant grant = OAuth2Settings::Grant::ClientCredentials) {
  OAuth2Settings s;
  s.tokenUrl = http::parseHttpUrl("https://login.example.com/tenant/oauth2/v2.0/token").value();
  s.clientId = "app-1";
  s.clientSecret = "s3cret";
  s.scope = "https://outlook.office365.com/.default";
  s.grant = grant;
  return s;
}

TEST(OAuth2FormEncode, EscapesAllButTheUnreservedFormCharacters) {
  EXPECT_EQ(formEncode("AZaz09*-._"), "AZaz09*-._");
  EXPECT_EQ(formEncode("a b"), "a+b");
  EXPECT_EQ(formEncode("a+b&c=d%e/f:g~"), "a%2Bb%26c%3Dd%25e%2Ff%3Ag%7E");
  EXPECT_EQ(formEncode("\xc3\xa9\r\n"), "%C3%A9%0D%0A");
  EXPECT_EQ(formEncode(""), "");
}

TEST(OAuth2TokenRequest, ClientCredentialsWithThePasswordInTheBody) {
  // RFC 6749 §4.4.2 and §2.3.1 (client_id and client_secret in the request body).
  auto request = buildTokenRequest(settings());
  std::string body =
      "grant_type=client_credentials&scope=https%3A%2F%2Foutlook.office365.com%2F.default"
      "&client_id=app-1&client_secret=s3cret";
  EXPECT_EQ(http::serializeRequest(request, false),
            "POST /tenant/oauth2/v2.0/token HTTP/1.1\r\n"
            "Host: login.example.com\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            "Accept: application/json\r\n"
            "User-Agent: popgate\r\n"
            "Content-Length: " +
                std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_FALSE(request.resendable);
  EXPECT_EQ(request.maxRedirects, 0);  // the body carries the secret
}

TEST(OAuth2TokenRequest, RefreshTokenGrantSendsTheRefreshToken) {
  // §6: grant_type=refresh_token, refresh_token, optional scope.
  auto s = settings(OAuth2Settings::Grant::RefreshToken);
  s.scope.clear();
  s.clientSecret.clear();  // a public client sends only its id (§3.2.1)
  auto request = buildTokenRequest(s, "tGzv3JOkF0XG5Qx2TlKWIA/+=");
  EXPECT_EQ(request.body,
            "grant_type=refresh_token&refresh_token=tGzv3JOkF0XG5Qx2TlKWIA%2F%2B%3D"
            "&client_id=app-1");
}

TEST(OAuth2TokenRequest, BasicClientAuthFormEncodesIdAndSecretFirst) {
  // §2.3.1: "The client identifier is encoded using the application/x-www-form-urlencoded
  // encoding algorithm ... and the encoded value is used as the username; the client password
  // is encoded using the same algorithm and used as the password."
  auto s = settings();
  s.clientAuth = OAuth2Settings::ClientAuth::Basic;
  s.clientId = "my app:1";
  s.clientSecret = "p@ss w%rd";
  auto request = buildTokenRequest(s);
  std::string expected = "Basic " + encodeBase64("my+app%3A1:p%40ss+w%25rd");
  EXPECT_EQ(expected, "Basic bXkrYXBwJTNBMTpwJTQwc3MrdyUyNXJk");
  std::string wire = http::serializeRequest(request, false);
  EXPECT_NE(wire.find("\r\nAuthorization: " + expected + "\r\n"), std::string::npos) << wire;
  EXPECT_EQ(request.body,
            "grant_type=client_credentials&scope=https%3A%2F%2Foutlook.office365.com%2F.default");
}

TEST(OAuth2TokenRequest, TheTimeoutBoundsTheWholeRequest) {
  auto s = settings();
  s.timeout = 2500ms;
  auto request = buildTokenRequest(s);
  EXPECT_EQ(request.deadlines.total, 2500ms);
  EXPECT_EQ(request.deadlines.response, 2500ms);
  EXPECT_LE(request.deadlines.connect, 2500ms);
}

TEST(OAuth2TokenAnswer, SuccessWithLifetimeAndRotatedRefreshToken) {
  // The example answer of RFC 6749 §5.1.
  auto token = parseTokenResponse(200, R"({
       "access_token":"2YotnFZFEjr1zCsicMWpAA",
       "token_type":"example-bearer-free",
       "expires_in":3600})");
  EXPECT_FALSE(token.ok());  // a type popgate cannot use
  token = parseTokenResponse(200, R"({"access_token":"2YotnFZFEjr1zCsicMWpAA",
       "token_type":"bearer","expires_in":3600,"refresh_token":"tGzv3JOkF0XG5Qx2TlKWIA",
       "example_parameter":"example_value"})");
  ASSERT_TRUE(token.ok()) << token.error().detail;
  EXPECT_EQ(token.value().accessToken, "2YotnFZFEjr1zCsicMWpAA");
  EXPECT_EQ(token.value().lifetime, 3600s);
  EXPECT_EQ(token.value().refreshToken, "tGzv3JOkF0XG5Qx2TlKWIA");
}

TEST(OAuth2TokenAnswer, LifetimeDefaultsStringsAndBounds) {
  auto lifetime = [](std::string expires) {
    auto token =
        parseTokenResponse(200, R"({"access_token":"a","token_type":"Bearer")" + expires + "}");
    EXPECT_TRUE(token.ok());
    return token ? token.value().lifetime : -1s;
  };
  EXPECT_EQ(lifetime(""), kDefaultTokenLifetime);
  EXPECT_EQ(lifetime(R"(,"expires_in":"3599")"), 3599s);  // Azure AD v1 sends a string
  EXPECT_EQ(lifetime(R"(,"expires_in":"soon")"), kDefaultTokenLifetime);
  EXPECT_EQ(lifetime(R"(,"expires_in":0)"), 0s);
  EXPECT_EQ(lifetime(R"(,"expires_in":-5)"), 0s);
  EXPECT_EQ(lifetime(R"(,"expires_in":99999999999999999999)"), kDefaultTokenLifetime);
  EXPECT_EQ(lifetime(R"(,"expires_in":9999999999)"), kMaxTokenLifetime);
  EXPECT_EQ(lifetime(R"(,"expires_in":"99999999999999999999999")"), kMaxTokenLifetime);
}

TEST(OAuth2TokenAnswer, RefusesWhatCannotBeUsed) {
  for (std::string body : {
           std::string("not json"),
           std::string(R"(["access_token"])"),
           std::string(R"({"token_type":"Bearer"})"),
           std::string(R"({"access_token":"","token_type":"Bearer"})"),
           std::string(R"({"access_token":42,"token_type":"Bearer"})"),
           std::string(R"({"access_token":"a b\r\nX: y","token_type":"Bearer"})"),
           std::string(R"({"access_token":"abc"})"),
           std::string(R"({"access_token":"abc","token_type":"MAC"})"),
           std::string(R"({"access_token":"abc","token_type":"Bearer","refresh_token":7})"),
           std::string(R"({"access_token":"abc","token_type":"Bearer","refresh_token":"\n"})"),
       }) {
    auto token = parseTokenResponse(200, body);
    ASSERT_FALSE(token.ok()) << body;
    EXPECT_EQ(token.error().code, ErrorCode::Temporary);
    EXPECT_EQ(token.error().detail.find("abc"), std::string::npos) << "never the token";
  }
}

TEST(OAuth2TokenAnswer, ErrorAnswerNamesItsCodeAndDescriptionEscaped) {
  // §5.2, with a description that tries to forge a log line.
  auto token = parseTokenResponse(
      400, R"({"error":"invalid_grant","error_description":"AADSTS70000: expired\r\nfake line"})");
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().code, ErrorCode::Temporary);
  EXPECT_EQ(token.error().detail,
            "token endpoint: HTTP 400 invalid_grant (AADSTS70000: expired\\x0d\\x0afake line)");
  token = parseTokenResponse(503, "<html>busy</html>");
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().detail, "token endpoint: HTTP 503");
  // A 200 is the only success, even with a token in the body.
  token = parseTokenResponse(201, R"({"access_token":"abc","token_type":"Bearer"})");
  EXPECT_FALSE(token.ok());
}

}  // namespace
}  // namespace popgate::login
