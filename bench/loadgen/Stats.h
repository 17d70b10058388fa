#pragma once
// What a run measures besides byte counts: session latencies, errors by kind, and the load
// generator's own CPU time (so a report can show it was not the bottleneck).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "JsonWriter.h"

namespace loadgen {

// Monotonic seconds (uv_hrtime).
double nowSeconds();

class LatencyRecorder {
 public:
  LatencyRecorder() { samples_.reserve(1 << 16); }
  void add(double seconds) { samples_.push_back(seconds); }
  std::size_t count() const { return samples_.size(); }
  // Writes {"p50":..,"p90":..,"p99":..,"mean":..,"max":..} in milliseconds.
  void write(JsonWriter& json, const char* key);

 private:
  std::vector<double> samples_;
};

class ErrorTally {
 public:
  void add(const std::string& what);
  std::uint64_t total() const { return total_; }
  void write(JsonWriter& json, const char* key) const;

 private:
  std::map<std::string, std::uint64_t> byKind_;
  std::uint64_t total_ = 0;
};

// getrusage(RUSAGE_SELF) at construction; write() adds the difference and its share of
// `wallSeconds` (100 = one core fully busy).
class CpuMeter {
 public:
  CpuMeter();
  void write(JsonWriter& json, const char* key, double wallSeconds) const;

 private:
  double startUser_;
  double startSystem_;
};

// Raises RLIMIT_NOFILE to its hard limit; returns the new soft limit.
std::uint64_t raiseFileLimit();

// Peak resident set size of this process (VmHWM), KiB.
std::uint64_t peakRssKib();

}  // namespace loadgen
