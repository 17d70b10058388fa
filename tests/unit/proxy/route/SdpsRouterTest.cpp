// SDPS routing: "user@host" / "user+host" -> backend and upstream login.

#include <gtest/gtest.h>

#include "proxy/route/SdpsRouter.h"

namespace popgate::route {
namespace {

RoutingTable table(std::optional<std::string> defaultBackend = "default") {
  RoutingTable t;
  t.defaultBackend = std::move(defaultBackend);
  t.domains["example.org"] = DomainRule{"imap-example", UpstreamUser::Full};
  t.domains["Local.Example"] = DomainRule{"imap-local", UpstreamUser::Local};
  return t;
}

void expectRoute(const SdpsRouter& router, std::string_view login, std::string_view backend,
                 std::string_view upstreamUser) {
  SCOPED_TRACE(login);
  Result<Route> route = router.route(login);
  ASSERT_TRUE(route.ok()) << route.error().detail;
  EXPECT_EQ(route.value().backend, backend);
  EXPECT_EQ(route.value().upstreamUser, upstreamUser);
}

void expectNoRoute(const SdpsRouter& router, std::string_view login) {
  SCOPED_TRACE(login);
  Result<Route> route = router.route(login);
  ASSERT_FALSE(route.ok());
  EXPECT_EQ(route.error().code, ErrorCode::Auth);
}

TEST(SdpsRouterTest, KnownHostWithFullSendsUserAtHost) {
  SdpsRouter router(table());
  expectRoute(router, "alice@example.org", "imap-example", "alice@example.org");
}

TEST(SdpsRouterTest, PlusSeparatorBecomesAtUpstream) {
  SdpsRouter router(table());
  expectRoute(router, "carol+example.org", "imap-example", "carol@example.org");
}

TEST(SdpsRouterTest, KnownHostWithLocalSendsOnlyUser) {
  SdpsRouter router(table());
  expectRoute(router, "bob@local.example", "imap-local", "bob");
  expectRoute(router, "bob+local.example", "imap-local", "bob");
}

TEST(SdpsRouterTest, HostMatchesCaseInsensitively) {
  SdpsRouter router(table());
  expectRoute(router, "alice@EXAMPLE.Org", "imap-example", "alice@EXAMPLE.Org");
  expectRoute(router, "bob@LOCAL.EXAMPLE", "imap-local", "bob");
}

TEST(SdpsRouterTest, SplitsAtTheLastSeparator) {
  SdpsRouter router(table());
  expectRoute(router, "a+b@example.org", "imap-example", "a+b@example.org");
  expectRoute(router, "a@b+example.org", "imap-example", "a@b@example.org");
  expectRoute(router, "x@y@local.example", "imap-local", "x@y");
  // The last separator decides, even when an earlier split would name a known host.
  expectRoute(router, "a@example.org+unknown.net", "default", "a@example.org+unknown.net");
}

TEST(SdpsRouterTest, UnknownHostGoesToDefaultUnchanged) {
  SdpsRouter router(table());
  expectRoute(router, "dave@unknown.net", "default", "dave@unknown.net");
  expectRoute(router, "dave+unknown.net", "default", "dave+unknown.net");
  expectRoute(router, "dave@example.org.evil", "default", "dave@example.org.evil");
}

TEST(SdpsRouterTest, NameWithoutSeparatorGoesToDefaultUnchanged) {
  SdpsRouter router(table());
  expectRoute(router, "erin", "default", "erin");
  expectRoute(router, "example.org", "default", "example.org");
}

TEST(SdpsRouterTest, SeparatorAtEitherEndIsAPlainName) {
  SdpsRouter router(table());
  expectRoute(router, "@example.org", "default", "@example.org");
  expectRoute(router, "alice@", "default", "alice@");
  expectRoute(router, "+", "default", "+");
}

TEST(SdpsRouterTest, WithoutDefaultUnroutedNamesFailWithAuth) {
  SdpsRouter router(table(std::nullopt));
  expectRoute(router, "alice@example.org", "imap-example", "alice@example.org");
  expectNoRoute(router, "dave@unknown.net");
  expectNoRoute(router, "erin");
  expectNoRoute(router, "alice@");
  expectNoRoute(router, "");
}

TEST(SdpsRouterTest, CustomSeparators) {
  RoutingTable t = table();
  t.separators = "%";
  SdpsRouter router(std::move(t));
  expectRoute(router, "alice%example.org", "imap-example", "alice@example.org");
  expectRoute(router, "alice@example.org", "default", "alice@example.org");
}

TEST(SdpsRouterTest, NoSeparatorsDisablesSplitting) {
  RoutingTable t = table();
  t.separators.clear();
  SdpsRouter router(std::move(t));
  expectRoute(router, "alice@example.org", "default", "alice@example.org");
}

TEST(SdpsRouterTest, EmptyTableRoutesNothing) {
  SdpsRouter router(RoutingTable{});
  expectNoRoute(router, "alice@example.org");
}

}  // namespace
}  // namespace popgate::route
