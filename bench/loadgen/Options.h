#pragma once
// The load generator's command line: `popgate-loadgen SCENARIO [--flag value]...`.

#include <cstdint>
#include <optional>
#include <string>

namespace loadgen {

enum class Scenario { Poll, Bulk, Big, Idle, ImapFetch };

struct Options {
  Scenario scenario = Scenario::Poll;
  std::string label;  // copied into the JSON (e.g. the target's name)
  std::string host = "127.0.0.1";
  int port = 110;
  // poll, bulk: users, one "name password" per line; sessions take free users in turn.
  std::string usersFile;
  // big, imap-fetch: one user.
  std::string user;
  std::string password;
  int concurrency = 1;
  double durationS = 10;         // measured window (poll, bulk)
  double warmupS = 1;            // sessions ending before this are not counted
  std::uint64_t sessions = 0;    // stop after this many measured sessions, or at the duration
  double sessionTimeoutS = 120;  // a session that takes longer is aborted and counted as error
  std::uint64_t readRate = 0;    // bytes/s the client reads at (big, imap-fetch); 0: no limit
  int message = 1;               // big: POP3 message number; imap-fetch: UID
  int connections = 1000;        // idle
  int connectBatch = 200;        // idle: connection attempts in flight at once
  bool tls = false;              // idle: implicit TLS (POP3S)
  double holdS = 60;             // idle: hold this long unless signalled (SIGUSR1/SIGTERM)
  std::string readyFile;         // idle: written once every connection is up
};

// Parses argv; on error returns nullopt and writes a message to `error`.
std::optional<Options> parseOptions(int argc, char** argv, std::string& error);

const char* scenarioName(Scenario scenario);

extern const char* const kUsage;

}  // namespace loadgen
