#pragma once
// A scripted backends::Mailbox. It honours the Mailbox contract: no callback ever fires from
// inside the call that started an operation; the test fires them with completeOpen(),
// startBody()/deliverBody()/endBody() and completeCommit(). It also checks the caller's side of
// the contract (one operation at a time, no destruction from inside its own callback) and
// records everything in a MailboxLog that outlives it, so a test can look after the session let
// go of the mailbox.

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "backends/mailbox/Mailbox.h"
#include "fakes/MessageLists.h"

namespace popgate::fakes {

class FakeMailbox;

struct MailboxLog {
  struct Retrieval {
    std::string id;
    std::optional<std::uint32_t> bodyLines;
  };
  std::vector<backends::Credentials> opens;
  std::vector<Retrieval> retrievals;
  std::vector<std::vector<std::string>> commits;  // ids passed to each commit()
  int pauses = 0;
  int resumes = 0;
  int created = 0;
  int destroyed = 0;
  int cancelled = 0;            // operations still running when their mailbox was destroyed
  FakeMailbox* live = nullptr;  // the most recently created mailbox, while it exists
};

// The password a mailbox was opened with ("" for another kind of credential).
inline std::string passwordOf(const backends::Credentials& credentials) {
  const std::string* password = credentials.password();
  return password ? *password : std::string();
}

inline backends::MessageRef message(std::string id, std::string uidl, std::uint64_t size) {
  return backends::MessageRef{std::move(id), std::move(uidl), size};
}

class FakeMailbox final : public backends::Mailbox {
 public:
  enum class Operation { None, Open, Retrieve, Commit };

  explicit FakeMailbox(MailboxLog& log) : log_(log) {
    ++log_.created;
    log_.live = this;
  }
  ~FakeMailbox() override {
    EXPECT_EQ(callbackDepth_, 0) << "mailbox destroyed from inside its own callback";
    *alive_ = false;
    ++log_.destroyed;
    if (pending_ != Operation::None) ++log_.cancelled;
    if (log_.live == this) log_.live = nullptr;
  }
  FakeMailbox(const FakeMailbox&) = delete;
  FakeMailbox& operator=(const FakeMailbox&) = delete;

  // backends::Mailbox
  void open(const backends::Credentials& credentials, SnapshotDone done) override {
    begin(Operation::Open);
    log_.opens.push_back(credentials);
    openDone_ = std::move(done);
  }
  void retrieve(const backends::MessageRef& ref, std::optional<std::uint32_t> bodyLines,
                backends::BodySink& sink) override {
    begin(Operation::Retrieve);
    log_.retrievals.push_back({ref.id, bodyLines});
    bodySink_ = &sink;
    bodyStarted_ = false;
    paused_ = false;
  }
  void pauseBody() override {
    EXPECT_EQ(pending_, Operation::Retrieve) << "pauseBody() outside a retrieval";
    EXPECT_FALSE(paused_) << "pauseBody() twice";
    paused_ = true;
    ++log_.pauses;
  }
  void resumeBody() override {
    EXPECT_EQ(pending_, Operation::Retrieve) << "resumeBody() outside a retrieval";
    EXPECT_TRUE(paused_) << "resumeBody() without pauseBody()";
    paused_ = false;
    ++log_.resumes;
  }
  void commit(const std::vector<backends::MessageRef>& toDelete, Done done) override {
    begin(Operation::Commit);
    std::vector<std::string> ids;
    for (const auto& ref : toDelete) ids.push_back(ref.id);
    log_.commits.push_back(std::move(ids));
    commitDone_ = std::move(done);
  }

  // Test side.
  Operation pending() const { return pending_; }
  bool paused() const { return paused_; }

  void completeOpen(Result<std::vector<backends::MessageRef>> snapshot) {
    if (!finish(Operation::Open)) return;
    Result<backends::MessageList> packed =
        snapshot ? Result<backends::MessageList>(listOf(snapshot.value()))
                 : Result<backends::MessageList>(snapshot.error());
    fire([&] { std::exchange(openDone_, nullptr)(std::move(packed)); });
  }
  void startBody() {
    ASSERT_EQ(pending_, Operation::Retrieve) << "no retrieval to start";
    ASSERT_FALSE(bodyStarted_) << "body started twice";
    bodyStarted_ = true;
    fire([&] { bodySink_->onBodyStart(); });
  }
  void deliverBody(std::string_view bytes) {
    ASSERT_EQ(pending_, Operation::Retrieve) << "no retrieval to deliver to";
    ASSERT_TRUE(bodyStarted_) << "body data before onBodyStart";
    fire([&] { bodySink_->onBodyData(bytes); });
  }
  void endBody(Status status = Ok{}) {
    if (!finish(Operation::Retrieve)) return;
    fire([&] { std::exchange(bodySink_, nullptr)->onBodyEnd(std::move(status)); });
  }
  // The whole retrieval in one go: start, the bytes, a successful end.
  void deliverMessage(std::string_view bytes) {
    startBody();
    if (!bytes.empty()) deliverBody(bytes);
    endBody();
  }
  void completeCommit(Status status = Ok{}) {
    if (!finish(Operation::Commit)) return;
    fire([&] { std::exchange(commitDone_, nullptr)(std::move(status)); });
  }

 private:
  void begin(Operation operation) {
    // Starting the next operation from inside the previous one's final callback is fine.
    EXPECT_EQ(pending_, Operation::None) << "a second operation started while one runs";
    pending_ = operation;
  }
  bool finish(Operation operation) {
    EXPECT_EQ(pending_, operation) << "completing an operation that is not running";
    if (pending_ != operation) return false;
    pending_ = Operation::None;  // the callback may start the next operation
    paused_ = false;
    return true;
  }
  // Runs a callback; the session may retire (not free) this mailbox from inside it.
  template <class F>
  void fire(F&& callback) {
    std::shared_ptr<bool> alive = alive_;
    ++callbackDepth_;
    callback();
    if (*alive) --callbackDepth_;
  }

  MailboxLog& log_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  int callbackDepth_ = 0;
  Operation pending_ = Operation::None;
  SnapshotDone openDone_;
  Done commitDone_;
  backends::BodySink* bodySink_ = nullptr;
  bool bodyStarted_ = false;
  bool paused_ = false;
};

}  // namespace popgate::fakes
