#include "proxy/server/LogSetup.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>

#include "lib/common/JsonLogLine.h"
#include "lib/common/LogContext.h"

namespace popgate::server {

namespace {

// %* in the text pattern: "[session] " on a session's lines, nothing elsewhere.
class SessionFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const LogContext* context = LogScope::current();
    if (!context) return;
    dest.push_back('[');
    dest.append(context->session.data(), context->session.data() + context->session.size());
    dest.append(std::string_view("] "));
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<SessionFlag>();
  }
};

std::string utcTime(std::chrono::system_clock::time_point when) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::size_t n = std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buffer + n, sizeof(buffer) - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buffer;
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto level = spdlog::level::to_string_view(msg.level);
    std::string line = jsonLogLine(utcTime(msg.time), std::string_view(level.data(), level.size()),
                                   std::string_view(msg.payload.data(), msg.payload.size()),
                                   LogScope::current(), LogScope::event());
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

std::unique_ptr<spdlog::formatter> formatterFor(config::LogFormat format) {
  if (format == config::LogFormat::Json) return std::make_unique<JsonFormatter>();
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<SessionFlag>('*').set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %*%v");
  return formatter;
}

}  // namespace

void setUpLogging(const config::LogConfig& log) {
  spdlog::drop("popgate");  // a second set-up replaces the first (a name registers once)
  // The colour sink writes colours only around the range the text pattern marks (%^...%$), and
  // only to a terminal: a JSON line, which marks none, stays plain bytes.
  spdlog::set_default_logger(spdlog::stderr_color_mt("popgate"));
  applyLogSettings(log);
}

void applyLogSettings(const config::LogConfig& log) {
  // Thread-safe: each sink takes its own lock to change its formatter.
  spdlog::default_logger()->set_formatter(formatterFor(log.format));
  spdlog::set_level(spdlog::level::from_str(log.level));
}

}  // namespace popgate::server
