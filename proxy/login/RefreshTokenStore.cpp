#include "proxy/login/RefreshTokenStore.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "lib/common/FileText.h"

namespace popgate::login {

namespace {

using nlohmann::json;

// A file of refresh tokens is a few hundred octets per user; this bounds a mistake (a log
// file named instead), not a real deployment.
constexpr std::size_t kMaxFileBytes = 64 * 1024 * 1024;

Error invalid(const std::string& path, const std::string& why) {
  return Error{ErrorCode::Invalid, "refresh tokens " + path + ": " + why};
}

std::string systemError(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

Result<std::map<std::string, std::string>> readTokens(const std::string& path) {
  auto text = readFileText(path, kMaxFileBytes);
  if (!text) return invalid(path, text.error().detail);
  auto tokens = parseRefreshTokens(text.value());
  if (!tokens) return invalid(path, tokens.error().detail);
  return tokens;
}

bool writeAll(int fd, const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Write to a temporary file beside the target, make it durable, then rename it over the
// target (rename(2) is atomic within one file system) and make the rename durable too.
Status writeAtomically(const std::string& path, const std::string& bytes) {
  std::string folder = ".";
  if (auto slash = path.rfind('/'); slash != std::string::npos) {
    folder = slash == 0 ? "/" : path.substr(0, slash);
  }
  std::string temporary = path + ".tmp.XXXXXX";
  int fd = ::mkostemp(temporary.data(), O_CLOEXEC);  // mode 0600: the file holds secrets
  if (fd < 0) return invalid(path, systemError("mkstemp"));
  bool ok = ::fchmod(fd, 0600) == 0 && writeAll(fd, bytes) && ::fsync(fd) == 0;
  std::string why = ok ? "" : systemError("write");
  if (::close(fd) != 0 && ok) {
    ok = false;
    why = systemError("close");
  }
  if (ok && ::rename(temporary.c_str(), path.c_str()) != 0) {
    ok = false;
    why = systemError("rename");
  }
  if (!ok) {
    ::unlink(temporary.c_str());
    return invalid(path, why);
  }
  int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return Ok{};
}

}  // namespace

Result<std::map<std::string, std::string>> parseRefreshTokens(std::string_view text) {
  json root = json::parse(text, nullptr, false);
  if (root.is_discarded() || !root.is_object()) {
    return Error{ErrorCode::Invalid, "not a JSON object"};
  }
  std::map<std::string, std::string> tokens;
  for (const auto& [identity, token] : root.items()) {
    if (!token.is_string() || token.get_ref<const std::string&>().empty()) {
      return Error{ErrorCode::Invalid, "the token of an entry is not a non-empty string"};
    }
    tokens.emplace(identity, token.get<std::string>());
  }
  return tokens;
}

std::string serializeRefreshTokens(const std::map<std::string, std::string>& tokens) {
  json root = json::object();
  for (const auto& [identity, token] : tokens) root[identity] = token;
  // Every key and value came from a JSON file or is a token checked to be visible ASCII, so
  // nothing is replaced here; the handler only keeps an exception out of the loop.
  return root.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

Status RefreshTokenStore::load(const std::string& path) {
  std::lock_guard file(fileMutex_);
  auto tokens = readTokens(path);
  if (!tokens) return tokens.error();
  std::lock_guard lock(mutex_);
  path_ = path;
  tokens_ = std::move(tokens.value());
  return Ok{};
}

Status RefreshTokenStore::reload() {
  std::string current = path();
  if (current.empty()) return Error{ErrorCode::Invalid, "refresh tokens: no file loaded"};
  return load(current);
}

std::optional<std::string> RefreshTokenStore::get(const std::string& identity) const {
  std::lock_guard lock(mutex_);
  auto it = tokens_.find(identity);
  if (it == tokens_.end()) return std::nullopt;
  return it->second;
}

Status RefreshTokenStore::update(const std::string& identity, const std::string& token) {
  // The file mutex is taken first and held through the write, so two rotations on two threads
  // reach the file in the order they changed the map.
  std::lock_guard file(fileMutex_);
  std::string where;
  Tokens base;
  {
    std::lock_guard lock(mutex_);
    tokens_[identity] = token;
    where = path_;
    base = tokens_;
  }
  if (where.empty()) return Error{ErrorCode::Invalid, "refresh tokens: no file loaded"};
  // The file as it is now, if it is readable, so edits made since the last load survive.
  if (auto onDisk = readTokens(where)) {
    base = std::move(onDisk.value());
    base[identity] = token;
  }
  return writeAtomically(where, serializeRefreshTokens(base));
}

std::size_t RefreshTokenStore::size() const {
  std::lock_guard lock(mutex_);
  return tokens_.size();
}

std::string RefreshTokenStore::path() const {
  std::lock_guard lock(mutex_);
  return path_;
}

}  // namespace popgate::login
