#include "proxy/pop3/Apop.h"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <chrono>

#include "proxy/sasl/CramMd5Mechanism.h"

namespace popgate::pop3 {

std::string formatApopTimestamp(std::uint64_t pid, std::uint64_t counter, std::int64_t clock,
                                std::string_view hostname) {
  return fmt::format("<{}.{}.{}@{}>", pid, counter, clock, hostname);
}

std::string nextApopTimestamp(std::string_view hostname) {
  static std::atomic<std::uint64_t> counter{0};
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return formatApopTimestamp(
      static_cast<std::uint64_t>(::getpid()), counter.fetch_add(1, std::memory_order_relaxed),
      std::chrono::duration_cast<std::chrono::seconds>(now).count(), hostname);
}

std::optional<ApopArguments> parseApopArguments(std::string_view args) {
  std::size_t space = args.rfind(' ');
  if (space == std::string_view::npos || space == 0) return std::nullopt;
  auto digest = sasl::parseHexDigest(args.substr(space + 1));
  if (!digest) return std::nullopt;
  return ApopArguments{std::string(args.substr(0, space)), std::move(*digest)};
}

}  // namespace popgate::pop3
