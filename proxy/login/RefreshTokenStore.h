#pragma once
// The per-user refresh tokens of the OAuth2 refresh_token grant (RFC 6749 §6), from a JSON file
// the administrator writes: {"user@example.com": "refresh-token", ...}. One store per process,
// shared by every worker thread, hence the mutexes; it is read once per token request (not per
// login: access tokens are cached). When the token endpoint rotates a refresh token, update()
// keeps the new one and writes the file again atomically (a temporary file in the same folder,
// mode 0600, fsync, rename), so a crash leaves the old file or the new one, never half of one.
// Identities are matched exactly as written in the file.

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "lib/common/Result.h"

namespace popgate::login {

class RefreshTokenStore {
 public:
  // Reads `path` and remembers it for reload() and update(). An unreadable or invalid file is
  // an error (Invalid) and leaves the store as it was.
  Status load(const std::string& path);
  // Reads the file again (SIGHUP). On any error the tokens loaded before are kept.
  Status reload();
  std::optional<std::string> get(const std::string& identity) const;
  // Replaces the identity's refresh token in memory, then in the file. The file is read again
  // first and only this entry changed, so entries an administrator edited since the last load
  // are not overwritten (they take effect on reload()). The token is kept in memory even when
  // writing fails; the error says why the file was not written.
  Status update(const std::string& identity, const std::string& token);

  std::size_t size() const;
  std::string path() const;

 private:
  using Tokens = std::map<std::string, std::string>;

  mutable std::mutex mutex_;  // guards tokens_ and path_; held only for lookups and copies
  std::mutex fileMutex_;      // one reader or writer of the file at a time, in order
  std::string path_;
  Tokens tokens_;
};

// The file's format, pure: a JSON object of strings. Exposed for the tests.
Result<std::map<std::string, std::string>> parseRefreshTokens(std::string_view text);
std::string serializeRefreshTokens(const std::map<std::string, std::string>& tokens);

}  // namespace popgate::login
