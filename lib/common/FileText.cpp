#include "lib/common/FileText.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace popgate {

Result<std::string> readFileText(const std::string& path, std::size_t maxBytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{ErrorCode::Invalid, "cannot open " + path + ": " + std::strerror(errno)};
  std::string text;
  char buffer[16 * 1024];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Error error{ErrorCode::Invalid, "cannot read " + path + ": " + std::strerror(errno)};
      ::close(fd);
      return error;
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > maxBytes) {
      ::close(fd);
      return Error{ErrorCode::Invalid,
                   path + " is larger than " + std::to_string(maxBytes) + " octets"};
    }
  }
  ::close(fd);
  return text;
}

}  // namespace popgate
