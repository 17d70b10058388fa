#pragma once
// A small Prometheus registry: counters, gauges and histograms with fixed buckets, each a family
// of children by label values, rendered in the text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/). Every worker thread updates the
// same children: values are atomics (relaxed: a scrape needs no order between two counters), and
// only creating a child or rendering takes the family's mutex. Callers keep the reference that
// labels() returns (children live as long as the registry), so the hot path is one atomic add.
// Bounds: a family holds at most kMaxChildren label sets; past it, further sets share one
// overflow child (labels "_overflow"), so a label fed from outside cannot grow memory forever.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace popgate::metrics {

using LabelValues = std::vector<std::string>;

class Counter {
 public:
  void inc(std::uint64_t by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void add(std::int64_t by) { value_.fetch_add(by, std::memory_order_relaxed); }
  void set(std::int64_t to) { value_.store(to, std::memory_order_relaxed); }
  std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

class Histogram {
 public:
  explicit Histogram(const std::vector<double>& bounds);
  void observe(double value);

  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  // per bound, then +Inf
    double sum = 0;
  };
  Snapshot snapshot() const;

 private:
  const std::vector<double>& bounds_;                     // the family's, ascending
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // per bound, then +Inf
  std::atomic<double> sum_{0};
};

class Registry;

// The children of one metric name, by label values (in the order of the family's label names).
template <class Child>
class Family {
 public:
  static constexpr std::size_t kMaxChildren = 1000;

  // The child for these values, created at 0 on first use. Values beyond the label names are
  // ignored; missing ones are empty.
  Child& labels(LabelValues values);

 private:
  friend class Registry;
  Family(std::string name, std::string help, std::vector<std::string> labelNames,
         std::vector<double> bounds = {})
      : name_(std::move(name)),
        help_(std::move(help)),
        labelNames_(std::move(labelNames)),
        bounds_(std::move(bounds)) {}
  void render(std::string& out, const char* type) const;

  std::string name_;
  std::string help_;
  std::vector<std::string> labelNames_;
  std::vector<double> bounds_;  // histograms only
  mutable std::mutex mutex_;
  std::map<LabelValues, std::unique_ptr<Child>> children_;
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

class Registry {
 public:
  // Names and label names must be valid Prometheus names ([a-zA-Z_:][a-zA-Z0-9_:]*); they are
  // written by popgate, never taken from the network. Families render in registration order.
  CounterFamily& counter(std::string name, std::string help, std::vector<std::string> labels = {});
  GaugeFamily& gauge(std::string name, std::string help, std::vector<std::string> labels = {});
  HistogramFamily& histogram(std::string name, std::string help, std::vector<double> bounds,
                             std::vector<std::string> labels = {});
  // A counter whose values are read when rendered (counts kept elsewhere, thread-safe): one
  // sample per label set that `read` returns.
  using Samples = std::vector<std::pair<LabelValues, std::uint64_t>>;
  void counterFunction(std::string name, std::string help, std::vector<std::string> labels,
                       std::function<Samples()> read);

  // The text exposition format 0.0.4.
  std::string render() const;

 private:
  // Keeps the family, gives it its series at 0 when it has no labels, and renders it.
  template <class Child>
  Family<Child>& add(std::vector<std::unique_ptr<Family<Child>>>& list, Family<Child>* family,
                     const char* type);

  mutable std::mutex mutex_;  // registration, and the list while rendering
  std::vector<std::function<void(std::string&)>> renderers_;
  std::vector<std::unique_ptr<CounterFamily>> counters_;
  std::vector<std::unique_ptr<GaugeFamily>> gauges_;
  std::vector<std::unique_ptr<HistogramFamily>> histograms_;
};

// Text format escaping: label values escape backslash, double quote and line feed; HELP text
// escapes backslash and line feed.
std::string escapeLabelValue(std::string_view value);
std::string escapeHelp(std::string_view text);
// A sample value or bucket bound as Prometheus writes it: "+Inf", integers without a point.
std::string formatValue(double value);

}  // namespace popgate::metrics
