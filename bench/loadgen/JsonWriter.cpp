#include "JsonWriter.h"

#include <cmath>
#include <cstdio>

namespace loadgen {

JsonWriter& JsonWriter::beginObject(std::string_view name) {
  if (!name.empty())
    key(name);
  else if (needComma_)
    out_ += ',';
  out_ += '{';
  needComma_ = false;
  return *this;
}

JsonWriter& JsonWriter::endObject() {
  out_ += '}';
  needComma_ = true;
  return *this;
}

JsonWriter& JsonWriter::field(std::string_view name, std::string_view value) {
  key(name);
  quoted(value);
  return *this;
}

JsonWriter& JsonWriter::field(std::string_view name, double value) {
  key(name);
  if (!std::isfinite(value)) {
    out_ += "null";
  } else {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.6g", value);
    out_ += buffer;
  }
  return *this;
}

JsonWriter& JsonWriter::field(std::string_view name, std::uint64_t value) {
  key(name);
  out_ += std::to_string(value);
  return *this;
}

JsonWriter& JsonWriter::field(std::string_view name, bool value) {
  key(name);
  out_ += value ? "true" : "false";
  return *this;
}

void JsonWriter::key(std::string_view name) {
  if (needComma_) out_ += ',';
  quoted(name);
  out_ += ':';
  needComma_ = true;
}

void JsonWriter::quoted(std::string_view text) {
  out_ += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out_ += '\\';
      out_ += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\u%04x", static_cast<unsigned>(c));
      out_ += buffer;
    } else {
      out_ += c;
    }
  }
  out_ += '"';
}

}  // namespace loadgen
