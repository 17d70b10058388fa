#include "Options.h"

#include <cstdlib>
#include <cstring>
#include <string_view>

namespace loadgen {

const char* const kUsage = R"(usage: popgate-loadgen SCENARIO [options]

scenarios:
  poll       N clients loop USER/PASS, UIDL, QUIT over the users (sessions/s, latency)
  bulk       N clients loop USER/PASS, LIST, RETR every message, QUIT (message octets/s)
  big        one session: USER/PASS, RETR --message at --read-rate, QUIT (wall time)
  idle       open --connections, read the greeting (after a TLS handshake with --tls), hold
  imap-fetch one IMAP session: LOGIN, SELECT INBOX, UID FETCH --message BODY.PEEK[] (the floor)

options:
  --host ADDR (127.0.0.1)   --port N   --label TEXT (copied into the JSON)
  --users FILE              poll/bulk: "name password" per line
  --user NAME --password PW big/imap-fetch
  --concurrency N (1)       --duration S (10)  --warmup S (1)  --sessions K (0: by duration;
                            otherwise K sessions or --duration, whichever ends first)
  --session-timeout S (120) --read-rate BYTES/s (0: unlimited; suffixes k, M)
  --message N (1)           --connections N (1000)  --connect-batch N (200)
  --tls                     --hold S (60)  --ready-file PATH
One JSON object per run goes to stdout; progress and errors go to stderr.
)";

const char* scenarioName(Scenario scenario) {
  switch (scenario) {
    case Scenario::Poll:
      return "poll";
    case Scenario::Bulk:
      return "bulk";
    case Scenario::Big:
      return "big";
    case Scenario::Idle:
      return "idle";
    case Scenario::ImapFetch:
      return "imap-fetch";
  }
  return "?";
}

namespace {

bool parseScenario(std::string_view name, Scenario& out) {
  for (Scenario s :
       {Scenario::Poll, Scenario::Bulk, Scenario::Big, Scenario::Idle, Scenario::ImapFetch}) {
    if (name == scenarioName(s)) {
      out = s;
      return true;
    }
  }
  return false;
}

bool parseNumber(const char* text, double& out) {
  char* end = nullptr;
  out = std::strtod(text, &end);
  return end != text && *end == '\0' && out >= 0;
}

// "25M" = 25,000,000; "512k" = 512,000 (decimal, like MB/s in the report).
bool parseRate(const char* text, std::uint64_t& out) {
  char* end = nullptr;
  double value = std::strtod(text, &end);
  if (end == text || value < 0) return false;
  if (*end == 'k' || *end == 'K') {
    value *= 1e3;
    ++end;
  } else if (*end == 'm' || *end == 'M') {
    value *= 1e6;
    ++end;
  }
  if (*end != '\0') return false;
  out = static_cast<std::uint64_t>(value);
  return true;
}

}  // namespace

std::optional<Options> parseOptions(int argc, char** argv, std::string& error) {
  Options options;
  if (argc < 2 || !parseScenario(argv[1], options.scenario)) {
    error = argc < 2 ? "no scenario given" : std::string("unknown scenario: ") + argv[1];
    return std::nullopt;
  }
  for (int i = 2; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (flag == "--tls") {
      options.tls = true;
      continue;
    }
    if (i + 1 >= argc) {
      error = "missing value for " + std::string(flag);
      return std::nullopt;
    }
    const char* value = argv[++i];
    double number = 0;
    bool ok = true;
    auto integer = [&](int& out) {
      ok = parseNumber(value, number) && number >= 1 && number < 1e7;
      out = static_cast<int>(number);
    };
    auto seconds = [&](double& out) {
      ok = parseNumber(value, number);
      out = number;
    };
    if (flag == "--host")
      options.host = value;
    else if (flag == "--port")
      integer(options.port);
    else if (flag == "--label")
      options.label = value;
    else if (flag == "--users")
      options.usersFile = value;
    else if (flag == "--user")
      options.user = value;
    else if (flag == "--password")
      options.password = value;
    else if (flag == "--concurrency")
      integer(options.concurrency);
    else if (flag == "--duration")
      seconds(options.durationS);
    else if (flag == "--warmup")
      seconds(options.warmupS);
    else if (flag == "--sessions") {
      ok = parseNumber(value, number);
      options.sessions = static_cast<std::uint64_t>(number);
    } else if (flag == "--session-timeout")
      seconds(options.sessionTimeoutS);
    else if (flag == "--read-rate")
      ok = parseRate(value, options.readRate);
    else if (flag == "--message")
      integer(options.message);
    else if (flag == "--connections")
      integer(options.connections);
    else if (flag == "--connect-batch")
      integer(options.connectBatch);
    else if (flag == "--hold")
      seconds(options.holdS);
    else if (flag == "--ready-file")
      options.readyFile = value;
    else {
      error = "unknown option " + std::string(flag);
      return std::nullopt;
    }
    if (!ok) {
      error = "bad value for " + std::string(flag) + ": " + value;
      return std::nullopt;
    }
  }
  bool needsUsers = options.scenario == Scenario::Poll || options.scenario == Scenario::Bulk;
  bool needsUser = options.scenario == Scenario::Big || options.scenario == Scenario::ImapFetch;
  if (needsUsers && options.usersFile.empty()) error = "--users is required";
  if (needsUser && options.user.empty()) error = "--user is required";
  if (!error.empty()) return std::nullopt;
  return options;
}

}  // namespace loadgen
