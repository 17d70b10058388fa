#pragma once
// A minimal JSON object writer: the load generator prints one object per run.

#include <cstdint>
#include <string>
#include <string_view>

namespace loadgen {

class JsonWriter {
 public:
  JsonWriter& beginObject(std::string_view key = {});
  JsonWriter& endObject();
  JsonWriter& field(std::string_view key, std::string_view value);
  JsonWriter& field(std::string_view key, const char* value) {
    return field(key, std::string_view(value));
  }
  JsonWriter& field(std::string_view key, double value);
  JsonWriter& field(std::string_view key, std::uint64_t value);
  JsonWriter& field(std::string_view key, int value) {
    return field(key, static_cast<std::uint64_t>(value < 0 ? 0 : value));
  }
  JsonWriter& field(std::string_view key, bool value);

  const std::string& text() const { return out_; }

 private:
  void key(std::string_view name);
  void quoted(std::string_view text);

  std::string out_;
  bool needComma_ = false;
};

}  // namespace loadgen
