#pragma once
// Turns one fuzzer input into the calls a parser sees from the network: the bytes cut into
// chunks at places the input itself chooses, so that every split of a line, a literal or a
// terminator across reads gets tried. No libFuzzer header: the same targets build with GCC as
// corpus replays (ReplayMain.cpp).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace popgate::fuzz {

// A broken invariant: abort, so that libFuzzer keeps the input (and a replay test fails).
inline void check(bool condition) {
  if (!condition) std::abort();
}

class FuzzInput {
 public:
  FuzzInput(const std::uint8_t* data, std::size_t size)
      : bytes_(reinterpret_cast<const char*>(data), size) {}

  // A byte of control (0 once the input is used up).
  std::uint8_t control() {
    if (bytes_.empty()) return 0;
    auto value = static_cast<std::uint8_t>(bytes_.front());
    bytes_.remove_prefix(1);
    return value;
  }
  // The next chunk: its length comes from one control byte (1..64, or up to 4 KiB when the
  // byte's top bit is set), the bytes themselves from what follows.
  std::string_view chunk() {
    std::uint8_t c = control();
    std::size_t want = (c & 0x80) ? (static_cast<std::size_t>(c & 0x7F) + 1) * 32 : (c & 0x3F) + 1u;
    std::string_view out = bytes_.substr(0, want);
    bytes_.remove_prefix(out.size());
    return out;
  }
  bool empty() const { return bytes_.empty(); }

 private:
  std::string_view bytes_;
};

}  // namespace popgate::fuzz
