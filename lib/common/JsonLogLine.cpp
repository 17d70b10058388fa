#include "lib/common/JsonLogLine.h"

namespace popgate {

std::string jsonString(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte == '"') {
      out += "\\\"";
    } else if (byte == '\\') {
      out += "\\\\";
    } else if (byte == '\n') {
      out += "\\n";
    } else if (byte == '\r') {
      out += "\\r";
    } else if (byte == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte >= 0x7f) {
      out += "\\u00";
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

namespace {

void field(std::string& out, std::string_view name, std::string_view value) {
  out += ",\"";
  out += name;
  out += "\":";
  out += jsonString(value);
}

}  // namespace

std::string jsonLogLine(std::string_view time, std::string_view level, std::string_view message,
                        const LogContext* context, const LogEvent& event) {
  std::string out = "{\"time\":" + jsonString(time);
  field(out, "level", level);
  field(out, "event", event.name ? event.name : "log");
  field(out, "message", message);
  if (context) {
    field(out, "session", context->session);
    if (!context->client.empty()) field(out, "client", context->client);
    if (!context->user.empty()) field(out, "user", context->user);
    if (!context->backend.empty()) field(out, "backend", context->backend);
  }
  if (event.durationMs) out += ",\"duration_ms\":" + std::to_string(*event.durationMs);
  out += '}';
  return out;
}

}  // namespace popgate
