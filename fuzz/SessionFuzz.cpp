// A POP3 client and a mail store at once, both driven by the input: client bytes in any
// chunking, the store answering each operation (snapshot, message bodies in chunks, commit)
// with success or failure whenever the input says, the connection turning congested and
// drained, STLS completing, the idle timer firing. The session must never crash, leak, send
// after closing, delete anything without a QUIT (and a DELE) from the client, or break its side
// of the Mailbox contract (one operation at a time, pause/resume only during a retrieval, the
// mailbox never destroyed inside one of its own callbacks). The login steps (authentication and
// the mailbox lock) answer from a manual loop that also turns when the input says.

#include <spdlog/spdlog.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "FuzzInput.h"
#include "proxy/login/InProcessLocks.h"
#include "proxy/login/LocalLockService.h"
#include "proxy/pop3/Session.h"
#include "unit/fakes/ManualExecutor.h"

namespace {
using namespace popgate;

using popgate::fuzz::check;

// No log lines: each one reads the clock and writes to stdout, which made two runs with the same
// seed and inputs part ways under load (scripts/fuzz.sh --fixed must give the same verdict for
// the same code). What goes unfuzzed is the formatting of the lines, spdlog's and fmt's code;
// the session's decisions all still run.
const bool kQuiet = [] {
  spdlog::set_level(spdlog::level::off);
  return true;
}();

// Everything the client sent, upper-cased: a commit needs a QUIT in it, a deletion a DELE.
std::string clientText;
bool clientSent(std::string_view word) {
  return clientText.find(word) != std::string::npos;
}

class Sink final : public pop3::SessionSink {
 public:
  void send(std::string bytes) override {
    check(!closed);  // nothing after close()
    sent += bytes.size();
  }
  bool congested() const override { return congestedNow; }
  void pauseInput() override { inputPaused = true; }
  void resumeInput() override { inputPaused = false; }
  void close() override { closed = true; }
  void startTls() override { tlsPending = true; }

  std::size_t sent = 0;
  bool congestedNow = false;
  bool inputPaused = false;
  bool closed = false;
  bool tlsPending = false;
};

// Every operation waits until the input completes it, never inside the call that started it.
class Mailbox final : public backends::Mailbox {
 public:
  enum class Op { None, Open, Retrieve, Commit };
  explicit Mailbox(Mailbox*& live) : live_(live) { live_ = this; }
  ~Mailbox() override {
    check(depth == 0);  // never destroyed from inside its own callback
    if (live_ == this) live_ = nullptr;
  }

  void open(const backends::Credentials&, SnapshotDone done) override {
    begin(Op::Open);
    openDone = std::move(done);
  }
  void retrieve(const backends::MessageRef&, std::optional<std::uint32_t>,
                backends::BodySink& sink) override {
    begin(Op::Retrieve);
    body = &sink;
    started = paused = false;
  }
  void pauseBody() override {
    check(pending == Op::Retrieve && !paused);
    paused = true;
  }
  void resumeBody() override {
    check(pending == Op::Retrieve && paused);
    paused = false;
  }
  void commit(const std::vector<backends::MessageRef>& toDelete, Done done) override {
    begin(Op::Commit);
    check(clientSent("QUIT"));
    check(toDelete.empty() || clientSent("DELE"));
    check(toDelete.size() <= 4);
    commitDone = std::move(done);
  }

  void begin(Op op) {
    check(pending == Op::None);
    pending = op;
  }
  // Callbacks run through this, so the destructor can tell whether it is inside one.
  template <class F>
  void callback(F&& f) {
    ++depth;
    f();
    --depth;
  }

  Op pending = Op::None;
  SnapshotDone openDone;
  Done commitDone;
  backends::BodySink* body = nullptr;
  bool started = false;
  bool paused = false;
  int depth = 0;

 private:
  Mailbox*& live_;
};

class Authenticator final : public login::Authenticator {
 public:
  explicit Authenticator(Executor& executor) : executor_(executor) {}
  Pending authenticate(login::LoginRequest request, Done done) override {
    return executor_.post([this, login = request.login, done = std::move(done)] {
      if (login.empty() || login.front() == '!')
        return done(Error{ErrorCode::Auth, "no such user"});
      login::LoginGrant grant;
      grant.mailbox = std::make_unique<Mailbox>(live);
      grant.credentials.user = login;
      grant.lockKey = login;
      done(std::move(grant));
    });
  }
  login::LoginAbilities abilities() const override { return can; }
  Mailbox* live = nullptr;
  login::LoginAbilities can;  // APOP, CRAM-MD5 and the bearer mechanisms as the input says

 private:
  Executor& executor_;
};

backends::MessageList snapshot(std::uint8_t count) {
  backends::MessageList messages;
  for (std::uint8_t i = 0; i < count % 5; ++i) {
    messages.append(std::to_string(i), "uidl-" + std::to_string(i), 100u * (i + 1));
  }
  return messages;
}

// Completes what the mailbox is doing; `ok` chooses success or failure.
void complete(Mailbox& mailbox, popgate::fuzz::FuzzInput& input, bool ok) {
  switch (mailbox.pending) {
    case Mailbox::Op::None:
      return;
    case Mailbox::Op::Open: {
      auto done = std::move(mailbox.openDone);
      mailbox.pending = Mailbox::Op::None;
      std::uint8_t count = input.control();
      mailbox.callback([&] {
        if (ok) {
          done(snapshot(count));
        } else {
          done(Error{count & 1 ? ErrorCode::Auth : ErrorCode::Temporary, "refused"});
        }
      });
      return;
    }
    case Mailbox::Op::Retrieve: {
      if (mailbox.paused) return;  // the store waits for resumeBody()
      backends::BodySink* sink = mailbox.body;
      if (!mailbox.started && ok) {
        mailbox.started = true;
        mailbox.callback([&] { sink->onBodyStart(); });
        return;
      }
      if (mailbox.started && ok && !input.empty() && (input.control() & 3) != 0) {
        std::string chunk(input.chunk());
        mailbox.callback([&] { sink->onBodyData(chunk); });
        return;
      }
      mailbox.pending = Mailbox::Op::None;
      mailbox.callback([&] {
        sink->onBodyEnd(ok ? Status(Ok{}) : Status(Error{ErrorCode::Temporary, "lost"}));
      });
      return;
    }
    case Mailbox::Op::Commit: {
      auto done = std::move(mailbox.commitDone);
      mailbox.pending = Mailbox::Op::None;
      mailbox.callback([&] {
        done(ok ? Status(Ok{}) : Status(Error{ErrorCode::Temporary, "expunge failed"}));
      });
      return;
    }
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  popgate::fuzz::FuzzInput input(data, size);
  clientText.clear();
  std::uint8_t flags = input.control();
  pop3::SessionSettings settings;
  settings.stlsAvailable = flags & 1;
  settings.secure = flags & 2;
  settings.authRequiresTls = (flags & 4) && !(flags & 2) && (flags & 1);
  Sink sink;
  fakes::ManualExecutor loop;
  Authenticator directory(loop);
  directory.can = {!(flags & 32), (flags & 8) != 0, (flags & 16) != 0};
  login::InProcessLocks locks;
  login::LocalLockService lockService(locks, loop);
  auto session = std::make_unique<pop3::Session>(sink, directory, lockService, settings);
  session->start();
  while (!input.empty() && !sink.closed) {
    std::uint8_t op = input.control();
    switch (op % 8) {
      case 0:
      case 1:
      case 2:
        if (!sink.inputPaused) {
          std::string_view bytes = input.chunk();
          for (char c : bytes)
            clientText.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
          session->onInput(bytes);
        }
        break;
      case 3:
        loop.runAll();
        break;
      case 4:
        if (directory.live) complete(*directory.live, input, true);
        break;
      case 5:
        if (directory.live) complete(*directory.live, input, false);
        break;
      case 6:
        sink.congestedNow = !sink.congestedNow;
        if (!sink.congestedNow) session->onDrained();
        break;
      default:
        if (sink.tlsPending) {
          sink.tlsPending = false;
          session->onTlsEstablished();
        } else if (op & 0x80) {
          session->onIdleTimeout();
        } else if (op & 0x40) {
          session->shutdown(op & 0x20);  // the drain's start, or its timeout
        }
        break;
    }
  }
  session.reset();  // cancels whatever still runs; the mailbox must go with it
  loop.runAll();    // a cancelled login step must not bring a mailbox back
  check(directory.live == nullptr);
  check(locks.size() == 0);
  return 0;
}
