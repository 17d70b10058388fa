#include "Stats.h"

#include <sys/resource.h>
#include <uv.h>

#include <algorithm>
#include <cstdio>
#include <numeric>

namespace loadgen {

double nowSeconds() {
  return static_cast<double>(uv_hrtime()) / 1e9;
}

void LatencyRecorder::write(JsonWriter& json, const char* key) {
  json.beginObject(key);
  if (samples_.empty()) {
    json.field("count", std::uint64_t{0}).endObject();
    return;
  }
  std::sort(samples_.begin(), samples_.end());
  auto at = [&](double q) {
    std::size_t index =
        static_cast<std::size_t>(q * static_cast<double>(samples_.size() - 1) + 0.5);
    return samples_[std::min(index, samples_.size() - 1)] * 1e3;
  };
  double sum = std::accumulate(samples_.begin(), samples_.end(), 0.0);
  json.field("count", static_cast<std::uint64_t>(samples_.size()))
      .field("p50", at(0.50))
      .field("p90", at(0.90))
      .field("p99", at(0.99))
      .field("mean", sum / static_cast<double>(samples_.size()) * 1e3)
      .field("max", samples_.back() * 1e3)
      .endObject();
}

void ErrorTally::add(const std::string& what) {
  ++byKind_[what];
  ++total_;
}

void ErrorTally::write(JsonWriter& json, const char* key) const {
  json.beginObject(key);
  for (const auto& [kind, count] : byKind_) json.field(kind, count);
  json.endObject();
}

namespace {
double seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}
}  // namespace

CpuMeter::CpuMeter() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  startUser_ = seconds(usage.ru_utime);
  startSystem_ = seconds(usage.ru_stime);
}

void CpuMeter::write(JsonWriter& json, const char* key, double wallSeconds) const {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  double user = seconds(usage.ru_utime) - startUser_;
  double system = seconds(usage.ru_stime) - startSystem_;
  json.beginObject(key)
      .field("user_s", user)
      .field("system_s", system)
      .field("cpu_s", user + system)
      .field("wall_s", wallSeconds)
      .field("cpu_pct", wallSeconds > 0 ? 100.0 * (user + system) / wallSeconds : 0.0)
      .field("max_rss_kib", peakRssKib())
      .endObject();
}

std::uint64_t raiseFileLimit() {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  getrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_cur;
}

std::uint64_t peakRssKib() {
  // Not ru_maxrss: Linux carries it over fork and exec, so a child of a big parent reports the
  // parent's peak. VmHWM belongs to this process's own memory.
  std::FILE* status = std::fopen("/proc/self/status", "r");
  if (!status) return 0;
  char line[256];
  unsigned long long kib = 0;
  while (std::fgets(line, sizeof line, status)) {
    if (std::sscanf(line, "VmHWM: %llu kB", &kib) == 1) break;
  }
  std::fclose(status);
  return kib;
}

}  // namespace loadgen
