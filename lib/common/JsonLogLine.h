#pragma once
// One log line as a JSON object (`log: {format: json}`): time, level, event, message, and the
// session's fields where the line is about a session (lib/common/LogContext.h). Pure, so the
// escaping is unit-tested: every string is a JSON string whatever bytes it holds (quotes,
// backslashes, control bytes as \uXXXX; bytes above 0x7F as \u00XX, read as Latin-1, so that
// bytes from the network that are not UTF-8 still give valid JSON). The output is ASCII.

#include <string>
#include <string_view>

#include "lib/common/LogContext.h"

namespace popgate {

// `text` as a JSON string, quotes included.
std::string jsonString(std::string_view text);

// The object, without a line end. Fields left out when unknown: event (lines that are no step of
// a session are "log"), session, client, user, backend, duration_ms.
std::string jsonLogLine(std::string_view time, std::string_view level, std::string_view message,
                        const LogContext* context, const LogEvent& event);

}  // namespace popgate
