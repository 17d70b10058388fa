// The kept snapshot and Email/queryChanges (RFC 8620 §5.6): the request and its answer as the
// RFC and Cyrus 3.6 shape them, applying changes exactly or not at all, the cache's bound, and
// JmapMailbox's later logins against the fake server (a real Cyrus: tests/integration).

#include "backends/jmap/JmapMailboxFixture.h"
#include "backends/jmap/JmapSnapshots.h"

namespace popgate::jmap {
namespace {

using nlohmann::json;

JmapSession session() {
  JmapSession out;
  out.accountId = "alice";
  return out;
}

MailboxSnapshot kept(std::vector<std::string> ids, std::string state = "q1") {
  MailboxSnapshot out{"Minbox", std::move(state), {}};
  for (const std::string& id : ids) out.entries.push_back({id, "B" + id, id.size() * 10});
  return out;
}

EmailChanges changes(std::vector<std::string> removed, std::vector<AddedEmail> added,
                     std::optional<std::uint64_t> total) {
  EmailChanges out{"q1", "q2", std::move(removed), std::move(added), total, {}, ""};
  for (const AddedEmail& item : out.added) out.got[item.id] = {"B" + item.id, 77};
  return out;
}

std::vector<std::string> idsOf(const std::vector<SnapshotEntry>& entries) {
  std::vector<std::string> out;
  for (const SnapshotEntry& entry : entries) out.push_back(entry.id);
  return out;
}

TEST(JmapSnapshotsTest, ChangesRequestAsksSinceTheKeptStateAndGetsWhatWasAdded) {
  json request = json::parse(emailChangesRequest(session(), "Minbox", "503:0"));
  const json& query = request["methodCalls"][0];
  EXPECT_EQ(query[0], "Email/queryChanges");
  EXPECT_EQ(query[1]["filter"]["inMailbox"], "Minbox");
  EXPECT_EQ(query[1]["sort"][0]["property"], "receivedAt");
  EXPECT_EQ(query[1]["sinceQueryState"], "503:0");
  EXPECT_EQ(query[1]["calculateTotal"], true);
  const json& get = request["methodCalls"][1][1];
  EXPECT_EQ(get["#ids"]["resultOf"], "c");
  EXPECT_EQ(get["#ids"]["path"], "/added/*/id");
  EXPECT_EQ(get["properties"], json({"id", "blobId", "size"}));
}

TEST(JmapSnapshotsTest, ChangesAnswerAsCyrusSendsIt) {
  auto parsed = parseEmailChanges(R"({"methodResponses": [
      ["Email/queryChanges", {"filter": {"inMailbox": "Minbox"}, "oldQueryState": "503:0",
        "newQueryState": "505:0", "upToId": null, "removed": ["Ea"], "total": 2,
        "added": [{"id": "Ec", "index": 1}], "accountId": "alice"}, "c"],
      ["Email/get", {"list": [{"id": "Ec", "blobId": "Gc", "size": 30}], "notFound": []}, "g"]],
    "sessionState": "s9"})");
  ASSERT_TRUE(parsed.ok()) << parsed.error().detail;
  const EmailChanges& got = parsed.value();
  EXPECT_EQ(got.oldQueryState, "503:0");
  EXPECT_EQ(got.newQueryState, "505:0");
  EXPECT_EQ(got.removed, std::vector<std::string>{"Ea"});
  ASSERT_EQ(got.added.size(), 1u);
  EXPECT_EQ(got.added[0].index, 1u);
  EXPECT_EQ(got.total, 2u);
  EXPECT_EQ(got.got.at("Ec"), std::make_pair(std::string("Gc"), std::uint64_t{30}));
  EXPECT_EQ(got.sessionState, "s9");

  auto refused = parseEmailChanges(R"({"methodResponses": [
      ["error", {"type": "cannotCalculateChanges"}, "c"],
      ["error", {"type": "invalidResultReference"}, "g"]], "sessionState": "s9"})");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().detail.find("cannotCalculateChanges"), std::string::npos);
  EXPECT_FALSE(parseEmailChanges(R"({"methodResponses": [["Email/queryChanges", {}, "c"],
      ["Email/get", {"list": []}, "g"]]})")
                   .ok());
}

TEST(JmapSnapshotsTest, RemovedGoAndAddedGoInAtTheirIndexInAscendingOrder) {
  auto entries = applyChanges(kept({"E1", "E2", "E3", "E4"}),
                              changes({"E2", "Eunknown"}, {{4, "E6"}, {0, "E0"}}, 5));
  ASSERT_TRUE(entries);
  EXPECT_EQ(idsOf(*entries), (std::vector<std::string>{"E0", "E1", "E3", "E4", "E6"}));
  EXPECT_EQ((*entries)[0].blobId, "BE0");
  EXPECT_EQ((*entries)[0].size, 77u);
  EXPECT_EQ((*entries)[1].size, 20u);  // kept entries keep their size
}

TEST(JmapSnapshotsTest, AMovedEmailLeavesItsOldPlaceWhetherOrNotItIsInRemoved) {
  for (bool listedInRemoved : {false, true}) {
    std::vector<std::string> removed;
    if (listedInRemoved) removed.push_back("E3");
    auto entries = applyChanges(kept({"E1", "E2", "E3"}), changes(removed, {{0, "E3"}}, 3));
    ASSERT_TRUE(entries);
    EXPECT_EQ(idsOf(*entries), (std::vector<std::string>{"E3", "E1", "E2"}));
  }
}

TEST(JmapSnapshotsTest, AnythingNotExactIsRefused) {
  MailboxSnapshot old = kept({"E1", "E2"});
  EXPECT_FALSE(applyChanges(old, changes({}, {}, 3)));                      // total does not match
  EXPECT_FALSE(applyChanges(old, changes({}, {{5, "E9"}}, 3)));             // index past the end
  EXPECT_FALSE(applyChanges(old, changes({}, {{1, "E1"}, {2, "E1"}}, 3)));  // an id twice
  EXPECT_FALSE(applyChanges(old, changes({}, {{1, "E8"}, {1, "E9"}}, 4)));  // two at one index
  EmailChanges gone = changes({}, {{2, "E3"}}, 3);
  gone.got.clear();  // destroyed between the queryChanges and the get
  EXPECT_FALSE(applyChanges(old, gone));
  EmailChanges other = changes({}, {}, 2);
  other.oldQueryState = "q0";  // not the state the snapshot was read at
  EXPECT_FALSE(applyChanges(old, other));
  EXPECT_TRUE(applyChanges(old, changes({}, {}, std::nullopt)));  // no total: nothing to check
}

TEST(JmapSnapshotsTest, TheCacheKeepsAtMostItsBoundOfMessagesOldestOutFirst) {
  JmapSnapshots cache;
  auto of = [](std::size_t n) {
    auto out = std::make_shared<MailboxSnapshot>();
    out->entries.resize(n);
    return out;
  };
  cache.put("a", of(4), 10);
  cache.put("b", of(4), 10);
  cache.touch("a");  // used again: b is now the oldest
  cache.put("c", of(4), 10);
  EXPECT_TRUE(cache.find("a"));
  EXPECT_FALSE(cache.find("b"));
  EXPECT_TRUE(cache.find("c"));
  EXPECT_EQ(cache.messages(), 8u);
  cache.put("d", of(11), 10);  // larger than the bound: not kept, and nothing else goes
  EXPECT_FALSE(cache.find("d"));
  EXPECT_EQ(cache.messages(), 8u);
  cache.put("a", of(1), 10);  // replaced, not added
  EXPECT_EQ(cache.messages(), 5u);
  cache.forget("c");
  EXPECT_EQ(cache.messages(), 1u);
  cache.put("e", of(0), 0);  // 0: nothing is kept
  EXPECT_FALSE(cache.find("e"));
}

class JmapKeptSnapshotTest : public JmapMailboxTest {
 protected:
  std::vector<std::string> uidlsOfLogin() {
    auto box = mailbox();
    auto snapshot = open(*box);
    EXPECT_TRUE(snapshot.ok());
    std::vector<std::string> out;
    if (!snapshot.ok()) return out;
    for (std::size_t i = 0; i < snapshot.value().size(); ++i) {
      EXPECT_EQ(snapshot.value()[i].size, sizeOf(snapshot.value()[i].id));
      out.push_back(snapshot.value()[i].uidl);
    }
    return out;
  }
  std::uint64_t sizeOf(const std::string& id) const {
    for (const auto& email : server_.emails) {
      if (email.id == id) return email.blob.size();
    }
    return 0;
  }
  std::vector<std::string> serverIds() const {
    std::vector<std::string> out;
    for (const auto& email : server_.emails) out.push_back(email.id);
    return out;
  }
};

TEST_F(JmapKeptSnapshotTest, ALaterLoginAsksOnlyForTheChanges) {
  EXPECT_EQ(uidlsOfLogin(), serverIds());
  server_.emails.erase(server_.emails.begin() + 1);  // E2 deleted elsewhere
  server_.emails.push_back({"E6", "Subject: 6\r\n\r\nnew\r\n"});
  server_.queryState = "q2";
  int posts = server_.apiPosts;
  EXPECT_EQ(uidlsOfLogin(), serverIds());
  EXPECT_EQ(server_.apiPosts, posts + 1);
  EXPECT_EQ(server_.queryChanges, 1);
  EXPECT_EQ(uidlsOfLogin(), serverIds());  // unchanged: the kept one as it is
  EXPECT_EQ(server_.queryChanges, 2);
  EXPECT_EQ(server_.apiPosts, posts + 2);
  auto box = mailbox();
  ASSERT_TRUE(open(*box).ok());
  Sink sink;
  retrieve(*box, {"E6", "E6", sizeOf("E6")}, std::nullopt, sink);
  EXPECT_EQ(sink.data, "Subject: 6\r\n\r\nnew\r\n");  // the blob of an added email
}

TEST_F(JmapKeptSnapshotTest, ChangesTheServerCannotCalculateMeanAFreshListing) {
  EXPECT_EQ(uidlsOfLogin(), serverIds());
  server_.refuseQueryChanges = true;
  server_.emails.push_back({"E6", "x\r\n"});
  server_.queryState = "q2";
  int posts = server_.apiPosts;
  EXPECT_EQ(uidlsOfLogin(), serverIds());
  EXPECT_EQ(server_.apiPosts, posts + 2);  // the refused changes, then the listing
}

TEST_F(JmapKeptSnapshotTest, AStatusForTheChangesMeansAFreshListing) {
  EXPECT_EQ(uidlsOfLogin(), serverIds());
  server_.intercept = [this](const test::FakeJmapServer::Request& request) {
    if (request.body.find("Email/queryChanges") == std::string::npos) return false;
    http_.send(request.connection, "HTTP/1.1 500 X\r\nContent-Length: 0\r\n\r\n");
    return true;
  };
  server_.emails.pop_back();
  server_.queryState = "q2";
  EXPECT_EQ(uidlsOfLogin(), serverIds());
}

TEST_F(JmapKeptSnapshotTest, ChangesThatDoNotAddUpMeanAFreshListing) {
  EXPECT_EQ(uidlsOfLogin(), serverIds());
  server_.queryChangesTotal = 99;
  server_.emails.pop_back();
  server_.queryState = "q2";
  EXPECT_EQ(uidlsOfLogin(), serverIds());
  EXPECT_EQ(server_.queryChanges, 1);
}

TEST_F(JmapKeptSnapshotTest, ZeroKeepsNothing) {
  settings_.snapshotCacheMessages = 0;
  EXPECT_EQ(uidlsOfLogin(), serverIds());
  EXPECT_EQ(uidlsOfLogin(), serverIds());
  EXPECT_EQ(server_.queryChanges, 0);
}

TEST_F(JmapKeptSnapshotTest, AFailedLoginForgetsTheSnapshot) {
  EXPECT_EQ(uidlsOfLogin(), serverIds());
  auto refused = mailbox();
  EXPECT_FALSE(open(*refused, "wrong").ok());
  EXPECT_EQ(uidlsOfLogin(), serverIds());
  EXPECT_EQ(server_.queryChanges, 0);  // the refused login's got a 401; the next one listed
}

}  // namespace
}  // namespace popgate::jmap
