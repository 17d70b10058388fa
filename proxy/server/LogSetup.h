#pragma once
// The process's logger: stderr, at `log.level`, as text (the default: time, level, the session id
// in brackets on every line of a session, the message) or as one JSON object a line
// (`log.format: json`, lib/common/JsonLogLine.h). Both read the session of the line from
// lib/common/LogContext.h.

#include "proxy/config/Config.h"

namespace popgate::server {

// Once, at start: creates the logger.
void setUpLogging(const config::LogConfig& log);
// SIGHUP: the level and format of the logger setUpLogging made, changed while workers log.
void applyLogSettings(const config::LogConfig& log);

}  // namespace popgate::server
