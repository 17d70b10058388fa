#include "proxy/login/LocalUsers.h"

#include <openssl/mem.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>
#include <utility>

#include "lib/common/FileText.h"
#include "lib/common/LogText.h"
#include "lib/net/LoopExecutor.h"
#include "proxy/login/PasswordSchemes.h"

namespace popgate::login {

struct LocalUsers::Table {
  struct User {
    std::string password;  // as stored, scheme prefix included
    ExtraFields extraFields;
  };
  std::unordered_map<std::string, User> users;
  // What an unknown user's password is verified against: the first stored password in the file
  // that is not plaintext-equivalent (so, most likely, the scheme and cost most users have), or
  // kFallbackDummy. Its verdict is thrown away; only the time it takes matters.
  std::string dummy;
  bool challengeSecrets = false;
};

namespace {

// `doveadm pw -s SHA512-CRYPT` of 32 random bytes nobody kept: the cost of Dovecot's default
// scheme, for a file whose every password is plaintext-equivalent.
constexpr std::string_view kFallbackDummy =
    "{SHA512-CRYPT}$6$1gmbKRd3zkLEj5lA$"
    "KHMxhlXyLqUELAeaFil4K8yiFSul2nNoj7nlcp4CSMAQVQCBkDsdF5c0JOl2G1I"
    "421JJQvc7dTx134UEInPYK/";
// A passwd-file is a few hundred bytes per user; this bounds a mistake (a path to a log file).
constexpr std::size_t kMaxFileBytes = 64u << 20;
constexpr std::size_t kMaxProblemsInDetail = 20;

Result<std::shared_ptr<const LocalUsers::Table>> readTable(const std::string& path) {
  Result<std::string> text = readFileText(path, kMaxFileBytes);
  if (!text) return text.error();
  PasswdFileContents contents = parsePasswdFile(text.value());
  OPENSSL_cleanse(text.value().data(), text.value().size());
  if (!contents.problems.empty()) {
    std::string detail = "passwd-file " + path + ":";
    for (std::size_t i = 0; i < contents.problems.size() && i < kMaxProblemsInDetail; ++i) {
      detail += (i == 0 ? " " : "; ") + describe(contents.problems[i]);
    }
    if (contents.problems.size() > kMaxProblemsInDetail) {
      detail +=
          "; and " + std::to_string(contents.problems.size() - kMaxProblemsInDetail) + " more";
    }
    return Error{ErrorCode::Invalid, detail};
  }
  auto table = std::make_shared<LocalUsers::Table>();
  for (PasswdEntry& entry : contents.entries) {
    if (!passwordSchemeSupported(entry.password)) {
      // Not a problem of the file (a build with libargon2 reads it): said once, at load.
      spdlog::warn(
          "passwd-file {}: user {} (line {}): password scheme {} is not supported by "
          "this build; its logins will fail",
          path, logText(entry.user), entry.line, logText(passwordSchemeName(entry.password)));
    } else if (plaintextSecret(entry.password)) {
      table->challengeSecrets = true;
    } else if (table->dummy.empty()) {
      table->dummy = entry.password;
    }
    table->users.emplace(
        std::move(entry.user),
        LocalUsers::Table::User{std::move(entry.password), std::move(entry.extraFields)});
  }
  if (table->dummy.empty()) table->dummy = kFallbackDummy;
  return std::shared_ptr<const LocalUsers::Table>(std::move(table));
}

Error refused(std::string detail) {
  return Error{ErrorCode::Auth, std::move(detail)};
}

Result<LocalUser> outcome(const std::string& name, const LocalUsers::Table::User* user,
                          PasswordVerdict verdict) {
  if (!user) return refused("unknown user");
  switch (verdict) {
    case PasswordVerdict::Match:
      return LocalUser{name, user->extraFields};
    case PasswordVerdict::Mismatch:
      return refused("wrong password");
    case PasswordVerdict::Unsupported:
      break;
  }
  return refused("password scheme " + logText(passwordSchemeName(user->password)) +
                 " is not supported by this build");
}

// A password check on libuv's thread pool. The Work owns its inputs (the table snapshot keeps
// the entry alive) and is freed in after_work on the loop; the handle only points at it, and
// going away makes the Work find no owner, so nothing is called.
class PoolCheck final : public Cancelable {
 public:
  struct Work {
    uv_work_t req{};
    PoolCheck* owner = nullptr;
    std::shared_ptr<const LocalUsers::Table> table;
    const LocalUsers::Table::User* user = nullptr;  // null: unknown, verify the dummy
    std::string name;
    std::string password;
    PasswordVerdict verdict = PasswordVerdict::Mismatch;
    ~Work() { OPENSSL_cleanse(password.data(), password.size()); }
  };

  explicit PoolCheck(LocalUsers::Done done) : done_(std::move(done)) {}
  ~PoolCheck() override {
    if (!work_) return;
    work_->owner = nullptr;
    uv_cancel(reinterpret_cast<uv_req_t*>(&work_->req));  // fails harmlessly once running
  }

  LocalUsers::Done takeDone() { return std::move(done_); }

  // False when libuv refused the request (the Work is then freed here).
  bool start(uv_loop_t* loop, std::unique_ptr<Work> work) {
    work->owner = this;
    int rc = uv_queue_work(loop, &work->req, &PoolCheck::run, &PoolCheck::finished);
    if (rc != 0) return false;
    work_ = work.release();  // owned by the request until finished()
    return true;
  }

 private:
  static void run(uv_work_t* req) {
    auto* work = reinterpret_cast<Work*>(req);
    const std::string& stored = work->user ? work->user->password : work->table->dummy;
    work->verdict = verifyPassword(stored, work->password);
  }

  static void finished(uv_work_t* req, int status) {
    std::unique_ptr<Work> work(reinterpret_cast<Work*>(req));
    PoolCheck* owner = work->owner;
    if (!owner) return;  // cancelled: nobody to tell
    owner->work_ = nullptr;
    Result<LocalUser> result =
        status != 0 ? Result<LocalUser>(Error{ErrorCode::Temporary, "password check cancelled"})
                    : outcome(work->name, work->user, work->verdict);
    LocalUsers::Done done = std::move(owner->done_);  // `done` may destroy the handle
    done(std::move(result));
  }

  LocalUsers::Done done_;
  Work* work_ = nullptr;
};

// APOP and CRAM-MD5, computed now (an MD5 or two) and delivered on the next loop turn.
Result<LocalUser> checkChallenge(const LocalUsers::Table& table, const std::string& name,
                                 const Proof& proof) {
  auto found = table.users.find(name);
  const LocalUsers::Table::User* user = found == table.users.end() ? nullptr : &found->second;
  std::optional<std::string> secret = user ? plaintextSecret(user->password) : std::nullopt;
  const char* what = std::holds_alternative<ApopProof>(proof) ? "APOP" : "CRAM-MD5";
  // Unknown users and users without a secret are answered after the same work as the others.
  std::string key = secret ? *secret : std::string();
  bool match = false;
  if (const auto* apop = std::get_if<ApopProof>(&proof)) {
    match = verifyApop(key, apop->timestamp, apop->digest);
  } else if (const auto* cram = std::get_if<CramMd5Proof>(&proof)) {
    match = verifyCramMd5(key, cram->challenge, cram->digest);
  }
  if (secret) OPENSSL_cleanse(secret->data(), secret->size());
  if (!user) return refused("unknown user");
  if (!secret) {
    return refused(std::string(what) + " needs a plaintext-equivalent password; scheme " +
                   logText(passwordSchemeName(user->password)) + " is not");
  }
  if (!match) return refused(std::string("wrong ") + what + " digest");
  return LocalUser{name, user->extraFields};
}

}  // namespace

LocalUsers::LocalUsers(std::string path, std::shared_ptr<const Table> table)
    : path_(std::move(path)), table_(std::move(table)) {}

Result<std::shared_ptr<LocalUsers>> LocalUsers::load(std::string path) {
  auto table = readTable(path);
  if (!table) return table.error();
  return std::make_shared<LocalUsers>(std::move(path), std::move(table.value()));
}

Status LocalUsers::reload() {
  std::lock_guard lock(reloading_);
  auto table = readTable(path_);
  if (!table) {
    spdlog::error("{}; keeping the {} users loaded before", table.error().detail, size());
    return table.error();
  }
  std::size_t count = table.value()->users.size();
  std::shared_ptr<const Table> old;  // the last owner of the old table frees it, not under the lock
  {
    std::lock_guard replacing(tableMutex_);
    old = std::exchange(table_, std::move(table.value()));
  }
  spdlog::info("passwd-file {}: {} users", path_, count);
  return Ok{};
}

bool LocalUsers::hasChallengeSecrets() const {
  return snapshot()->challengeSecrets;
}

std::size_t LocalUsers::size() const {
  return snapshot()->users.size();
}

Pending LocalUsers::check(uv_loop_t* loop, std::string user, Proof proof, Done done) const {
  std::shared_ptr<const Table> table = snapshot();
  net::LoopExecutor executor(loop);
  auto answer = [&executor, &done](Result<LocalUser> result) {
    return executor.post([done = std::move(done), result = std::move(result)]() mutable {
      done(std::move(result));
    });
  };
  if (auto* password = std::get_if<PasswordProof>(&proof)) {
    auto work = std::make_unique<PoolCheck::Work>();
    auto found = table->users.find(user);
    work->user = found == table->users.end() ? nullptr : &found->second;
    work->table = std::move(table);
    work->name = std::move(user);
    work->password = std::move(password->password);
    auto pending = std::make_unique<PoolCheck>(std::move(done));
    if (pending->start(loop, std::move(work))) return pending;
    done = pending->takeDone();  // libuv refused the request: answer from the loop all the same
    return answer(Error{ErrorCode::Temporary, "cannot queue the password check"});
  }
  if (std::holds_alternative<BearerProof>(proof)) {
    return answer(refused("a bearer token cannot be checked against a passwd-file"));
  }
  return answer(checkChallenge(*table, user, proof));
}

}  // namespace popgate::login
