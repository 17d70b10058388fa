#pragma once
// Pieces of bytes joined into one string: what a byte stream or a session sink does with
// scattered pieces when it cannot hand them on without a copy.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace popgate {

inline std::string concatenate(std::span<const std::string_view> pieces) {
  std::size_t size = 0;
  for (std::string_view piece : pieces) size += piece.size();
  std::string bytes;
  bytes.reserve(size);  // a message chunk may be many short lines: one allocation, not one each
  for (std::string_view piece : pieces) bytes.append(piece);
  return bytes;
}

}  // namespace popgate
