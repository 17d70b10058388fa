#pragma once
// The IMAP protocol trace (log.level: trace): what went each way, as one log line per command
// and per response, safe to log: LOGIN's and AUTHENTICATE's arguments become ***, literals are
// summarised by their size, and every byte outside printable ASCII is escaped (logText).

#include <string>
#include <string_view>
#include <vector>

#include "lib/imap/ImapResponse.h"

namespace popgate::imap {

// A command as sent (tag and its parts), with credentials hidden.
std::string traceCommand(const std::string& tag, const std::vector<std::string>& parts);
// A line the client sends in a SASL exchange (RFC 3501 §6.2.2): always "***", whatever it
// holds (a password, a token, or the empty or dummy answer to an error challenge).
std::string traceSaslResponse(std::string_view line);
// A response: its lines, with "{N}" literals shown as "<N octets>".
std::string traceResponse(const ImapResponse& response);

}  // namespace popgate::imap
