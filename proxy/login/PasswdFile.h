#pragma once
// Dovecot's passwd-file format (doc.dovecot.org, "passwd-file"), parsed without I/O:
//
//   user:password:uid:gid:gecos:home:shell:extra_fields
//
// Only user and password are required; uid, gid, gecos, home and shell are kept as written and
// never interpreted (popgate logs users in upstream, it runs nothing as them). Everything after
// the seventh colon is one field of space-separated `key=value` pairs (a bare `key` has an empty
// value), as Dovecot joins the remaining fields with ':' before splitting them at spaces.
// Dovecot's old layout (an empty eighth field, then a mail location) is not recognised: its
// fields are read as extra fields. Blank lines and lines starting with '#' are skipped; a CR
// before the LF is dropped.
//
// User names are compared as Dovecot's passwd-file does: byte for byte, case as written (its
// hash table uses strcmp; any lower-casing is Dovecot's auth_username_format, applied to the
// login before the lookup, never to the file). "Alice" and "alice" are two users here.
//
// Problems carry their line number and never the password field, nor the line's text (a line
// that is not in the format may be a password pasted in the wrong place): only the user name,
// escaped with logText(). The first entry of a duplicated user is kept, as Dovecot does.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace popgate::login {

using ExtraFields = std::vector<std::pair<std::string, std::string>>;

struct PasswdEntry {
  std::string user;
  std::string password;  // as written: an optional {SCHEME} prefix, then the stored form
  std::string uid, gid, gecos, home, shell;
  ExtraFields extraFields;
  std::size_t line = 0;
};

struct PasswdProblem {
  std::size_t line;
  std::string text;  // no secret: safe for any log level
};

struct PasswdFileContents {
  std::vector<PasswdEntry> entries;
  std::vector<PasswdProblem> problems;
};

PasswdFileContents parsePasswdFile(std::string_view text);

// "line N: text", for logs and Error details.
std::string describe(const PasswdProblem& problem);

}  // namespace popgate::login
