#pragma once
// The `local` login mode's user table (issue 11): a Dovecot passwd-file (PasswdFile.h) loaded
// once and shared by every worker thread. Readers take a snapshot of the current table (a
// shared_ptr<const Table> copied or swapped under a lock held for nothing else), so reload()
// never blocks a login for longer than that, and a check in flight finishes against the table
// it started with.
//
// check() contract (as Authenticator's): `done` fires from the caller's loop, never from inside
// check(), exactly once, unless the returned Pending is destroyed first; then `done` never
// fires. Password proofs are verified on libuv's thread pool (uv_queue_work: SHA512-CRYPT,
// BLF-CRYPT and ARGON2 take milliseconds to hundreds of ms and must not stall a loop); a work
// item whose Pending is gone still runs to its end on the pool, owns everything it reads, and
// is freed on the loop without calling anyone. APOP and CRAM-MD5 are cheap and answered on the
// next loop turn.
//
// Outcomes: Match gives the LocalUser. Everything else is Error{Auth}, the detail (for the log,
// never the client) saying why: unknown user, wrong password, a scheme this build cannot verify
// (named), no plaintext-equivalent secret for APOP/CRAM-MD5, or a bearer token (not checkable
// against a passwd-file). An unknown user's password is still verified, against the table's
// dummy (see Table), so the time taken does not tell whether the user exists.

#include <uv.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "lib/common/Pending.h"
#include "lib/common/Result.h"
#include "proxy/login/LoginRequest.h"
#include "proxy/login/PasswdFile.h"

namespace popgate::login {

struct LocalUser {
  std::string name;  // as written in the file
  ExtraFields extraFields;
};

class LocalUsers {
 public:
  struct Table;

  // Reads and parses the file; any problem (or an unreadable file) is Error{Invalid} with every
  // problem in the detail, by line number and never with a secret.
  static Result<std::shared_ptr<LocalUsers>> load(std::string path);

  // Reads the file again. On any problem the current table stays, the problems are logged (no
  // secrets) and returned as Error{Invalid}. Safe from any thread, alongside check().
  Status reload();

  // Some user has a plaintext-equivalent secret (PLAIN, CLEAR): APOP and CRAM-MD5 can work.
  bool hasChallengeSecrets() const;
  std::size_t size() const;
  const std::string& path() const { return path_; }

  using Done = std::function<void(Result<LocalUser>)>;
  [[nodiscard]] Pending check(uv_loop_t* loop, std::string user, Proof proof, Done done) const;

  explicit LocalUsers(std::string path, std::shared_ptr<const Table> table);

 private:
  std::shared_ptr<const Table> snapshot() const {
    std::lock_guard lock(tableMutex_);
    return table_;
  }

  std::string path_;
  // Not std::atomic<std::shared_ptr>: GCC 12's load() releases its internal lock with relaxed
  // order, a data race with the next store() (ThreadSanitizer, scripts/deep_checks.sh). The
  // mutex is held only to copy or replace the pointer, never while a file is read or a hash
  // checked.
  mutable std::mutex tableMutex_;
  std::shared_ptr<const Table> table_;
  std::mutex reloading_;  // one reload at a time; readers never take it
};

}  // namespace popgate::login
