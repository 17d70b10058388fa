// The JMAP requests popgate writes and the answers it reads, with answers shaped as RFC 8620
// and RFC 8621 show them (and as Cyrus 3.6 sends them).

#include <gtest/gtest.h>

#include "backends/jmap/JmapProtocol.h"

namespace popgate::jmap {
namespace {

using nlohmann::json;

const char* kSession = R"({
  "capabilities": {
    "urn:ietf:params:jmap:core": {"maxSizeUpload": 50000000, "maxConcurrentUpload": 4,
      "maxSizeRequest": 10000000, "maxConcurrentRequests": 4, "maxCallsInRequest": 16,
      "maxObjectsInGet": 4096, "maxObjectsInSet": 4096, "collationAlgorithms": []},
    "urn:ietf:params:jmap:mail": {}
  },
  "accounts": {"alice": {"name": "alice", "isPersonal": true, "isReadOnly": false,
                         "accountCapabilities": {"urn:ietf:params:jmap:mail": {}}}},
  "primaryAccounts": {"urn:ietf:params:jmap:mail": "alice"},
  "username": "alice",
  "apiUrl": "http://127.0.0.1:8080/jmap/",
  "downloadUrl": "http://127.0.0.1:8080/jmap/download/{accountId}/{blobId}/{name}?accept={type}",
  "uploadUrl": "http://127.0.0.1:8080/jmap/upload/{accountId}/",
  "eventSourceUrl": "http://127.0.0.1:8080/jmap/eventsource/",
  "state": "75128aab4b1b"
})";

JmapSession session() {
  return parseSession(kSession).value();
}

TEST(JmapProtocolTest, SessionResource) {
  auto parsed = parseSession(kSession);
  ASSERT_TRUE(parsed.ok()) << parsed.error().detail;
  EXPECT_EQ(parsed.value().apiUrl, "http://127.0.0.1:8080/jmap/");
  EXPECT_EQ(parsed.value().accountId, "alice");
  EXPECT_EQ(parsed.value().maxObjectsInGet, 4096u);
  EXPECT_EQ(parsed.value().state, "75128aab4b1b");
}

TEST(JmapProtocolTest, SessionWithoutMailIsAnError) {
  EXPECT_FALSE(parseSession("{}").ok());
  EXPECT_FALSE(parseSession("not json").ok());
  EXPECT_FALSE(parseSession(R"({"apiUrl": "x", "downloadUrl": "y", "capabilities": {},
                                "primaryAccounts": {}})")
                   .ok());
  EXPECT_FALSE(parseSession(R"({"apiUrl": 5})").ok());  // a wrong type: no exception escapes
}

TEST(JmapProtocolTest, MailboxRequestByRoleAndTrash) {
  json request = json::parse(mailboxRequest(session(), {"", true}));
  EXPECT_EQ(request["using"][1], kMailCapability);
  const json& calls = request["methodCalls"];
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0][0], "Mailbox/query");
  EXPECT_EQ(calls[0][1]["filter"]["role"], "inbox");
  EXPECT_EQ(calls[0][1]["accountId"], "alice");
  EXPECT_EQ(calls[1][1]["filter"]["role"], "trash");

  auto ids = parseMailboxes(R"({"methodResponses": [
      ["Mailbox/query", {"accountId": "alice", "ids": ["Minbox"], "queryState": "1"}, "m"],
      ["Mailbox/query", {"accountId": "alice", "ids": ["Mtrash"], "queryState": "1"}, "t"]],
    "sessionState": "s1"})",
                            {"", true}, nullptr);
  ASSERT_TRUE(ids.ok()) << ids.error().detail;
  EXPECT_EQ(ids.value().mailboxId, "Minbox");
  EXPECT_EQ(ids.value().trashId, "Mtrash");
}

TEST(JmapProtocolTest, MailboxByExactTopLevelName) {
  json request = json::parse(mailboxRequest(session(), {"Archive", false}));
  EXPECT_EQ(request["methodCalls"][1][0], "Mailbox/get");
  EXPECT_EQ(request["methodCalls"][1][1]["#ids"]["resultOf"], "m");
  auto ids = parseMailboxes(R"({"methodResponses": [
      ["Mailbox/query", {"ids": ["M1", "M2", "M3"]}, "m"],
      ["Mailbox/get", {"list": [{"id": "M1", "name": "Old Archive", "parentId": null},
                                {"id": "M2", "name": "Archive", "parentId": "M9"},
                                {"id": "M3", "name": "Archive", "parentId": null}]}, "n"]]})",
                            {"Archive", false}, nullptr);
  ASSERT_TRUE(ids.ok()) << ids.error().detail;
  EXPECT_EQ(ids.value().mailboxId, "M3");
}

TEST(JmapProtocolTest, NoInboxIsPermanentAndAMethodErrorIsNamed) {
  auto none = parseMailboxes(R"({"methodResponses": [["Mailbox/query", {"ids": []}, "m"]]})",
                             {"", false}, nullptr);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::Permanent);
  auto failed =
      parseMailboxes(R"({"methodResponses": [["error", {"type": "accountNotFound"}, "m"]]})",
                     {"", false}, nullptr);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().detail.find("accountNotFound"), std::string::npos);
}

TEST(JmapProtocolTest, EmailPageRequestSortsByReceivedAtAndGetsByBackReference) {
  json request = json::parse(emailPageRequest(session(), "Minbox", 4096, 4096));
  const json& query = request["methodCalls"][0][1];
  EXPECT_EQ(query["filter"]["inMailbox"], "Minbox");
  EXPECT_EQ(query["sort"][0]["property"], "receivedAt");
  EXPECT_EQ(query["sort"][0]["isAscending"], true);
  EXPECT_EQ(query["position"], 4096);
  EXPECT_EQ(query["limit"], 4096);
  EXPECT_EQ(query["calculateTotal"], true);
  const json& get = request["methodCalls"][1][1];
  EXPECT_EQ(get["#ids"]["path"], "/ids");
  EXPECT_EQ(get["properties"], json({"id", "blobId", "size"}));
}

TEST(JmapProtocolTest, EmailPageFollowsTheQueryOrder) {
  auto page = parseEmailPage(R"({"methodResponses": [
      ["Email/query", {"ids": ["Ea", "Eb", "Ec"], "total": 7, "position": 0,
                       "queryState": "q1"}, "q"],
      ["Email/get", {"list": [{"id": "Ec", "blobId": "Bc", "size": 30},
                              {"id": "Ea", "blobId": "Ba", "size": 10}],
                     "notFound": ["Eb"]}, "g"]],
    "sessionState": "s2"})");
  ASSERT_TRUE(page.ok()) << page.error().detail;
  ASSERT_EQ(page.value().messages.size(), 2u);
  EXPECT_EQ(page.value().messages[0].id, "Ea");
  EXPECT_EQ(page.value().messages[0].uidl, "Ea");
  EXPECT_EQ(page.value().messages[0].size, 10u);
  EXPECT_EQ(page.value().blobIds[1], "Bc");
  EXPECT_EQ(page.value().idsReturned, 3u);
  EXPECT_EQ(page.value().total, 7u);
  EXPECT_EQ(page.value().queryState, "q1");
  EXPECT_EQ(page.value().sessionState, "s2");
}

TEST(JmapProtocolTest, DestroyAndItsPartialFailure) {
  json request = json::parse(destroyRequest(session(), {"Ea", "Eb"}));
  EXPECT_EQ(request["methodCalls"][0][0], "Email/set");
  EXPECT_EQ(request["methodCalls"][0][1]["destroy"], json({"Ea", "Eb"}));
  auto answer = parseSet(R"({"methodResponses": [["Email/set", {"destroyed": ["Ea"],
      "notDestroyed": {"Eb": {"type": "notFound"}}}, "d"]]})",
                         true);
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer.value().done, std::vector<std::string>{"Ea"});
  EXPECT_EQ(answer.value().notDone, std::vector<std::string>{"Eb: notFound"});
}

TEST(JmapProtocolTest, MoveToTrashReplacesTheMailboxes) {
  json request = json::parse(moveToTrashRequest(session(), {"Ea"}, "Mtrash"));
  EXPECT_EQ(request["methodCalls"][0][1]["update"]["Ea"]["mailboxIds"], json({{"Mtrash", true}}));
  auto answer = parseSet(R"({"methodResponses": [["Email/set", {"updated": {"Ea": null},
      "notUpdated": null}, "d"]]})",
                         false);
  ASSERT_TRUE(answer.ok()) << answer.error().detail;
  EXPECT_EQ(answer.value().done, std::vector<std::string>{"Ea"});
}

TEST(JmapProtocolTest, UidlIsTheIdWhenItFitsRfc1939) {
  EXPECT_EQ(uidlForId("M1b2c3"), "M1b2c3");
  std::string longId(71, 'x');
  std::string digest = uidlForId(longId);
  EXPECT_EQ(digest.size(), 65u);
  EXPECT_EQ(digest, uidlForId(longId));  // stable
  EXPECT_NE(digest, uidlForId(std::string(72, 'x')));
  EXPECT_NE(uidlForId("has space"), "has space");
  for (char c : uidlForId("has space")) EXPECT_TRUE(c >= 0x21 && c <= 0x7e);
}

}  // namespace
}  // namespace popgate::jmap
