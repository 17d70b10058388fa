#pragma once
// The IMAP protocol trace (log.level: trace): what went each way, as one log line per command
// and per response, safe to log: LOGIN's and AUTHENTICATE's arguments become ***, literals are
// summarised by their size, and every byte outside printable ASCII is escaped (logText).

#include <string>

#include "lib/imap/ImapResponse.h"

namespace popgate::imap {

// A command as sent (tag and its parts), with credentials hidden.
std::string traceCommand(const std::string& tag, const std::vector<std::string>& parts);
// A response: its lines, with "{N}" literals shown as "<N octets>".
std::string traceResponse(const ImapResponse& response);

}  // namespace popgate::imap
