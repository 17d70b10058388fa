// JmapMailbox against a fake JMAP server on a scripted HTTP server: the login snapshot and its
// pages, the per-user cache, RFC 3206 outcomes, downloads with TOP, and the deletion at QUIT.

#include "backends/jmap/JmapMailboxFixture.h"

namespace popgate::jmap {
namespace {

TEST_F(JmapMailboxTest, SnapshotInReceivedAtOrderWithExactSizesAndIdsAsUidls) {
  auto box = mailbox();
  auto snapshot = open(*box);
  ASSERT_TRUE(snapshot.ok()) << snapshot.error().detail;
  ASSERT_EQ(snapshot.value().size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(snapshot.value()[i].id, server_.emails[i].id);
    EXPECT_EQ(snapshot.value()[i].uidl, server_.emails[i].id);
    EXPECT_EQ(snapshot.value()[i].size, server_.emails[i].blob.size());
  }
  EXPECT_EQ(server_.sessionGets, 1);
  EXPECT_EQ(server_.apiPosts, 2);  // the mailboxes, then one page
}

TEST_F(JmapMailboxTest, PagesFollowMaxObjectsInGet) {
  server_.maxObjectsInGet = 2;
  auto box = mailbox();
  auto snapshot = open(*box);
  ASSERT_TRUE(snapshot.ok());
  EXPECT_EQ(snapshot.value().size(), 5u);
  EXPECT_EQ(snapshot.value()[4].id, "E5");
  EXPECT_EQ(server_.apiPosts, 1 + 3);
}

TEST_F(JmapMailboxTest, AQueryStateThatChangesBetweenPagesStartsOver) {
  server_.maxObjectsInGet = 2;
  int pages = 0;
  server_.afterPage = [&] {
    if (++pages == 1) server_.queryState = "q2";  // a message arrived after the first page
  };
  auto box = mailbox();
  auto snapshot = open(*box);
  ASSERT_TRUE(snapshot.ok()) << snapshot.error().detail;
  EXPECT_EQ(snapshot.value().size(), 5u);
  EXPECT_GT(pages, 3);
}

TEST_F(JmapMailboxTest, TheNextLoginOfTheUserNeedsOneCall) {
  auto first = mailbox();
  ASSERT_TRUE(open(*first).ok());
  auto second = mailbox();
  ASSERT_TRUE(open(*second).ok());
  EXPECT_EQ(server_.sessionGets, 1);
  EXPECT_EQ(server_.apiPosts, 3);
}

TEST_F(JmapMailboxTest, AnotherSessionStateRefreshesTheSessionNextTime) {
  auto first = mailbox();
  ASSERT_TRUE(open(*first).ok());
  server_.sessionState = "s2";
  auto second = mailbox();
  ASSERT_TRUE(open(*second).ok());  // its answers say s2: the cache is dropped
  auto third = mailbox();
  ASSERT_TRUE(open(*third).ok());
  EXPECT_EQ(server_.sessionGets, 2);
}

TEST_F(JmapMailboxTest, WrongPasswordIsAuthEvenWithACachedSession) {
  auto first = mailbox();
  ASSERT_TRUE(open(*first).ok());
  auto second = mailbox();
  auto refused = open(*second, "wrong");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::Auth);
  auto fresh = mailbox();
  auto refusedAgain = open(*fresh, "wrong");
  ASSERT_FALSE(refusedAgain.ok());
  EXPECT_EQ(refusedAgain.error().code, ErrorCode::Auth);  // at the session resource this time
}

TEST_F(JmapMailboxTest, ServerErrorsAreTemporary) {
  server_.intercept = [&](const test::FakeJmapServer::Request& r) {
    http_.send(r.connection, "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n");
    return true;
  };
  auto box = mailbox();
  auto failed = open(*box);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::Temporary);
  EXPECT_NE(failed.error().detail.find("HTTP 500"), std::string::npos);
}

TEST_F(JmapMailboxTest, BearerTokenWhenTheLoginStepGivesOne) {
  auto box = mailbox();
  std::optional<Result<std::vector<MessageRef>>> got;
  box->open({"alice", backends::TokenCredential{"tok"}},
            [&](Result<backends::MessageList> r) { got = fakes::refsOf(r); });
  ASSERT_TRUE(runner_.runUntil([&] { return got.has_value(); }));
  ASSERT_TRUE(got->ok());
  EXPECT_EQ(http_.requests().at(0).header("Authorization"), "Bearer tok");
}

TEST_F(JmapMailboxTest, RetrieveStreamsTheBlob) {
  auto box = mailbox();
  auto snapshot = open(*box).value();
  Sink sink;
  retrieve(*box, snapshot[2], std::nullopt, sink);
  EXPECT_TRUE(sink.end->ok());
  EXPECT_EQ(sink.starts, 1);
  EXPECT_EQ(sink.data, server_.emails[2].blob);
  const auto& get = http_.requests().back();
  EXPECT_EQ(get.target, "/jmap/download/alice/BE3/message.eml?accept=message%2Frfc822");
}

TEST_F(JmapMailboxTest, TopSendsAPrefixAndClosesTheDownload) {
  server_.emails[0].blob = "Subject: big\r\n\r\nfirst\r\n" + std::string(3'000'000, 'x') + "\r\n";
  auto box = mailbox();
  auto snapshot = open(*box).value();
  Sink sink;
  retrieve(*box, snapshot[0], 1, sink);
  EXPECT_TRUE(sink.end->ok());
  EXPECT_EQ(sink.data, "Subject: big\r\n\r\nfirst\r\n");
  Sink whole;  // and the mailbox goes on: RETR after TOP on a new connection
  retrieve(*box, snapshot[1], std::nullopt, whole);
  EXPECT_EQ(whole.data, server_.emails[1].blob);
}

TEST_F(JmapMailboxTest, AMessageGoneUpstreamIsGone) {
  auto box = mailbox();
  auto snapshot = open(*box).value();
  server_.emails.erase(server_.emails.begin());
  Sink sink;
  retrieve(*box, snapshot[0], std::nullopt, sink);
  ASSERT_FALSE(sink.end->ok());
  EXPECT_EQ(sink.end->error().code, ErrorCode::Gone);
  EXPECT_EQ(sink.starts, 0);
}

TEST_F(JmapMailboxTest, ADownloadCutShortIsAnErrorNotAnEnd) {
  auto box = mailbox();
  auto snapshot = open(*box).value();
  server_.intercept = [&](const test::FakeJmapServer::Request& r) {
    if (r.target.find("/download/") == std::string::npos) return false;
    http_.send(r.connection, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nSubject: cut");
    http_.close(r.connection);
    return true;
  };
  Sink sink;
  retrieve(*box, snapshot[0], std::nullopt, sink);
  EXPECT_FALSE(sink.end->ok());
  EXPECT_EQ(sink.data, "Subject: cut");
}

TEST_F(JmapMailboxTest, BackPressurePausesTheDownload) {
  server_.emails[0].blob = "Subject: big\r\n\r\n" + std::string(8'000'000, 'y');
  auto box = mailbox();
  auto snapshot = open(*box).value();
  Sink sink;
  sink.afterData = [&] {
    if (sink.data.size() > 200'000) box->pauseBody();
  };
  box->retrieve(snapshot[0], std::nullopt, sink);
  ASSERT_TRUE(runner_.runUntil([&] { return sink.data.size() > 200'000; }));
  runner_.runFor(100ms);
  EXPECT_LT(sink.data.size(), 600'000u);
  sink.afterData = nullptr;
  box->resumeBody();
  ASSERT_TRUE(runner_.runUntil([&] { return sink.end.has_value(); }));
  EXPECT_EQ(sink.data.size(), server_.emails[0].blob.size());
}

TEST_F(JmapMailboxTest, ABlobOfAnotherSizeStillGoesOutWhole) {
  auto box = mailbox();
  auto snapshot = open(*box).value();
  std::string longer = server_.emails[0].blob + "X-Added: by the store\r\n";
  server_.intercept = [&](const test::FakeJmapServer::Request& r) {
    if (r.target.find("/download/") == std::string::npos) return false;
    http_.send(r.connection, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(longer.size()) +
                                 "\r\n\r\n" + longer);
    return true;
  };
  Sink sink;
  retrieve(*box, snapshot[0], std::nullopt, sink);
  EXPECT_TRUE(sink.end->ok());
  EXPECT_EQ(sink.data, longer);
}

TEST_F(JmapMailboxTest, RetryAfterIsWaitedOutWithinTheBudget) {
  settings_.retryBudget = 5s;
  int refusals = 0;
  server_.intercept = [&](const test::FakeJmapServer::Request& r) {
    if (r.method != "POST" || refusals++ > 0) return false;
    http_.send(r.connection,
               "HTTP/1.1 429 Slow Down\r\nRetry-After: 0\r\nContent-Length: 0\r\n\r\n");
    return true;
  };
  auto box = mailbox();
  auto snapshot = open(*box);
  ASSERT_TRUE(snapshot.ok()) << snapshot.error().detail;
  EXPECT_EQ(refusals, 3);  // one refused, then the mailbox call and the page
}

TEST_F(JmapMailboxTest, RetryAfterBeyondTheBudgetIsTemporary) {
  settings_.retryBudget = 1s;
  server_.intercept = [&](const test::FakeJmapServer::Request& r) {
    if (r.method != "POST") return false;
    http_.send(r.connection, "HTTP/1.1 503 Busy\r\nRetry-After: 30\r\nContent-Length: 0\r\n\r\n");
    return true;
  };
  auto box = mailbox();
  auto failed = open(*box);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::Temporary);
  EXPECT_NE(failed.error().detail.find("HTTP 503"), std::string::npos);
}

TEST_F(JmapMailboxTest, CommitDestroysExactlyTheMarkedMessages) {
  auto box = mailbox();
  auto snapshot = open(*box).value();
  EXPECT_TRUE(commit(*box, {snapshot[1], snapshot[3]}).ok());
  EXPECT_EQ(server_.destroyed, (std::vector<std::string>{"E2", "E4"}));
}

TEST_F(JmapMailboxTest, CommitThatRemovesOnlySomeIsTemporary) {
  server_.refuseDestroy = {"E4"};
  auto box = mailbox();
  auto snapshot = open(*box).value();
  Status status = commit(*box, {snapshot[1], snapshot[3]});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::Temporary);
  EXPECT_EQ(status.error().reply, "1 of 2 deleted messages were not removed.");
}

TEST_F(JmapMailboxTest, EmptyCommitSendsNothing) {
  auto box = mailbox();
  ASSERT_TRUE(open(*box).ok());
  int before = server_.apiPosts;
  EXPECT_TRUE(commit(*box, {}).ok());
  EXPECT_EQ(server_.apiPosts, before);
}

TEST_F(JmapMailboxTest, TrashModeMovesToTheTrashMailbox) {
  settings_.deleteMode = DeleteMode::Trash;
  auto box = mailbox();
  auto snapshot = open(*box).value();
  EXPECT_TRUE(commit(*box, {snapshot[0]}).ok());
  EXPECT_TRUE(server_.destroyed.empty());
  EXPECT_EQ(server_.moved.at("E1"), "Mtrash");
}

TEST_F(JmapMailboxTest, TrashModeWithoutATrashMailboxRefusesTheLogin) {
  settings_.deleteMode = DeleteMode::Trash;
  server_.hasTrash = false;
  auto box = mailbox();
  auto failed = open(*box);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::Permanent);
}

TEST_F(JmapMailboxTest, NamedMailboxIsTheExactTopLevelOne) {
  settings_.mailbox = "Archive";
  auto box = mailbox();
  ASSERT_TRUE(open(*box).ok());
  EXPECT_NE(http_.requests().at(2).body.find("\"Marchive\""), std::string::npos);
}

TEST_F(JmapMailboxTest, DestroyingTheMailboxCancelsEverything) {
  auto box = mailbox();
  bool called = false;
  box->open({"alice", backends::PasswordCredential{"secret"}},
            [&](Result<backends::MessageList>) { called = true; });
  ASSERT_TRUE(runner_.runUntil([&] { return !http_.requests().empty(); }));
  box.reset();
  runner_.runFor(100ms);
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace popgate::jmap
