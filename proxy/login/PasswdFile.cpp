#include "proxy/login/PasswdFile.h"

#include <unordered_set>

#include "lib/common/LogText.h"

namespace popgate::login {

namespace {

std::vector<std::string_view> splitColons(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  for (;;) {
    std::size_t colon = line.find(':', start);
    if (colon == std::string_view::npos) {
      fields.push_back(line.substr(start));
      return fields;
    }
    fields.push_back(line.substr(start, colon - start));
    start = colon + 1;
  }
}

// Fields 8 and later, joined again with ':' (Dovecot's t_strarray_join), split at spaces.
ExtraFields parseExtraFields(const std::vector<std::string_view>& fields) {
  std::string joined;
  for (std::size_t i = 7; i < fields.size(); ++i) {
    if (i > 7) joined += ':';
    joined += fields[i];
  }
  ExtraFields extra;
  std::size_t pos = 0;
  while (pos < joined.size()) {
    std::size_t end = joined.find(' ', pos);
    if (end == std::string::npos) end = joined.size();
    std::string_view word = std::string_view(joined).substr(pos, end - pos);
    if (!word.empty()) {
      std::size_t eq = word.find('=');
      if (eq == std::string_view::npos) {
        extra.emplace_back(std::string(word), std::string());
      } else {
        extra.emplace_back(std::string(word.substr(0, eq)), std::string(word.substr(eq + 1)));
      }
    }
    pos = end + 1;
  }
  return extra;
}

std::string field(const std::vector<std::string_view>& fields, std::size_t i) {
  return i < fields.size() ? std::string(fields[i]) : std::string();
}

}  // namespace

PasswdFileContents parsePasswdFile(std::string_view text) {
  PasswdFileContents out;
  std::unordered_set<std::string> seen;
  std::size_t lineNumber = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    ++lineNumber;
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    auto problem = [&](std::string what) { out.problems.push_back({lineNumber, std::move(what)}); };
    if (line.find('\0') != std::string_view::npos) {
      problem("NUL byte in the line");
      continue;
    }
    std::vector<std::string_view> fields = splitColons(line);
    if (fields[0].empty()) {
      problem("empty user name");
      continue;
    }
    std::string user(fields[0]);
    if (fields.size() < 2) {
      problem("user " + logText(user) + " has no password field");
      continue;
    }
    if (fields[1].empty()) {
      // Dovecot would take an empty password with the `nopassword` extra field (any password
      // logs in); popgate has no such mode, so an empty field is a mistake, not an open door.
      problem("user " + logText(user) + " has an empty password");
      continue;
    }
    if (!seen.insert(user).second) {
      problem("user " + logText(user) + " appears more than once (the first entry is kept)");
      continue;
    }
    PasswdEntry entry;
    entry.user = std::move(user);
    entry.password = std::string(fields[1]);
    entry.uid = field(fields, 2);
    entry.gid = field(fields, 3);
    entry.gecos = field(fields, 4);
    entry.home = field(fields, 5);
    entry.shell = field(fields, 6);
    entry.extraFields = parseExtraFields(fields);
    entry.line = lineNumber;
    out.entries.push_back(std::move(entry));
  }
  return out;
}

std::string describe(const PasswdProblem& problem) {
  return "line " + std::to_string(problem.line) + ": " + problem.text;
}

}  // namespace popgate::login
