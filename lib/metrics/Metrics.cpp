#include "lib/metrics/Metrics.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace popgate::metrics {

namespace {

const LabelValues kOverflow = {"_overflow"};

// `name{a="x",b="y"}` (or `name` without labels), with an extra label (histogram buckets' le).
void writeSeries(std::string& out, const std::string& name, const std::vector<std::string>& names,
                 const LabelValues& values, const char* extraName = nullptr,
                 const std::string& extraValue = {}) {
  out += name;
  if (names.empty() && !extraName) return;
  out += '{';
  bool first = true;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!first) out += ',';
    first = false;
    out += names[i];
    out += "=\"";
    out += escapeLabelValue(i < values.size() ? values[i] : std::string());
    out += '"';
  }
  if (extraName) {
    if (!first) out += ',';
    out += extraName;
    out += "=\"";
    out += extraValue;
    out += '"';
  }
  out += '}';
}

void writeSample(std::string& out, const std::string& value) {
  out += ' ';
  out += value;
  out += '\n';
}

void renderChild(std::string& out, const std::string& name, const std::vector<std::string>& names,
                 const std::vector<double>&, const LabelValues& values, const Counter& child) {
  writeSeries(out, name, names, values);
  writeSample(out, std::to_string(child.value()));
}

void renderChild(std::string& out, const std::string& name, const std::vector<std::string>& names,
                 const std::vector<double>&, const LabelValues& values, const Gauge& child) {
  writeSeries(out, name, names, values);
  writeSample(out, std::to_string(child.value()));
}

void renderChild(std::string& out, const std::string& name, const std::vector<std::string>& names,
                 const std::vector<double>& bounds, const LabelValues& values,
                 const Histogram& child) {
  Histogram::Snapshot snapshot = child.snapshot();
  for (std::size_t i = 0; i <= bounds.size(); ++i) {
    double bound = i < bounds.size() ? bounds[i] : std::numeric_limits<double>::infinity();
    writeSeries(out, name + "_bucket", names, values, "le", formatValue(bound));
    writeSample(out, std::to_string(snapshot.cumulative[i]));
  }
  writeSeries(out, name + "_sum", names, values);
  writeSample(out, formatValue(snapshot.sum));
  writeSeries(out, name + "_count", names, values);
  writeSample(out, std::to_string(snapshot.cumulative.back()));
}

void writeHeader(std::string& out, const std::string& name, const std::string& help,
                 const char* type) {
  out += "# HELP " + name + " " + escapeHelp(help) + "\n";
  out += "# TYPE " + name + " " + type + "\n";
}

}  // namespace

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), counts_(new std::atomic<std::uint64_t>[bounds.size() + 1]) {
  for (std::size_t i = 0; i <= bounds.size(); ++i) counts_[i].store(0);
}

void Histogram::observe(double value) {
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;  // le: the bound is inclusive
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot out;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    out.cumulative.push_back(running);
  }
  out.sum = sum_.load(std::memory_order_relaxed);
  return out;
}

template <class Child>
Child& Family<Child>::labels(LabelValues values) {
  values.resize(labelNames_.size());
  std::lock_guard lock(mutex_);
  auto it = children_.find(values);
  if (it != children_.end()) return *it->second;
  if (children_.size() >= kMaxChildren) {
    LabelValues overflow(labelNames_.size(), kOverflow.front());
    values = std::move(overflow);
    if (auto existing = children_.find(values); existing != children_.end())
      return *existing->second;
  }
  std::unique_ptr<Child> child;
  if constexpr (std::is_same_v<Child, Histogram>)
    child = std::make_unique<Histogram>(bounds_);
  else
    child = std::make_unique<Child>();
  Child& ref = *child;
  children_.emplace(std::move(values), std::move(child));
  return ref;
}

template <class Child>
void Family<Child>::render(std::string& out, const char* type) const {
  writeHeader(out, name_, help_, type);
  std::lock_guard lock(mutex_);
  for (const auto& [values, child] : children_)
    renderChild(out, name_, labelNames_, bounds_, values, *child);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

template <class Child>
Family<Child>& Registry::add(std::vector<std::unique_ptr<Family<Child>>>& list,
                             Family<Child>* family, const char* type) {
  std::lock_guard lock(mutex_);
  list.emplace_back(family);
  // A family without labels has its one series from the start: 0 is a value, absence is not.
  if (family->labelNames_.empty()) family->labels({});
  renderers_.push_back([family, type](std::string& out) { family->render(out, type); });
  return *family;
}

CounterFamily& Registry::counter(std::string name, std::string help,
                                 std::vector<std::string> labels) {
  return add(counters_, new CounterFamily(std::move(name), std::move(help), std::move(labels)),
             "counter");
}

GaugeFamily& Registry::gauge(std::string name, std::string help, std::vector<std::string> labels) {
  return add(gauges_, new GaugeFamily(std::move(name), std::move(help), std::move(labels)),
             "gauge");
}

HistogramFamily& Registry::histogram(std::string name, std::string help, std::vector<double> bounds,
                                     std::vector<std::string> labels) {
  return add(
      histograms_,
      new HistogramFamily(std::move(name), std::move(help), std::move(labels), std::move(bounds)),
      "histogram");
}

void Registry::counterFunction(std::string name, std::string help, std::vector<std::string> labels,
                               std::function<Samples()> read) {
  std::lock_guard lock(mutex_);
  renderers_.push_back([name = std::move(name), help = std::move(help), labels = std::move(labels),
                        read = std::move(read)](std::string& out) {
    writeHeader(out, name, help, "counter");
    for (const auto& [values, value] : read()) {
      writeSeries(out, name, labels, values);
      writeSample(out, std::to_string(value));
    }
  });
}

std::string Registry::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& render : renderers_) render(out);
  return out;
}

namespace {
// Backslash and line feed always; the double quote only inside a label value.
std::string escapeText(std::string_view text, bool quotes) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"' && quotes)
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}
}  // namespace

std::string escapeLabelValue(std::string_view value) {
  return escapeText(value, true);
}

std::string escapeHelp(std::string_view text) {
  return escapeText(text, false);
}

std::string formatValue(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (std::isnan(value)) return "NaN";
  char buffer[32];
  // %.17g round-trips every double; shorter forms first so that 0.005 is not 0.0050000000000000001.
  for (int precision = 6; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

}  // namespace popgate::metrics
