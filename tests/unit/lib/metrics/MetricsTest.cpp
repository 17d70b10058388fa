// The registry's exposition text, byte for byte (format 0.0.4), and its bounds.

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "lib/metrics/Metrics.h"

namespace popgate::metrics {
namespace {

TEST(MetricsTest, CounterWithoutLabelsStartsAtZero) {
  Registry registry;
  registry.counter("popgate_things_total", "Things seen.");
  EXPECT_EQ(registry.render(),
            "# HELP popgate_things_total Things seen.\n"
            "# TYPE popgate_things_total counter\n"
            "popgate_things_total 0\n");
}

TEST(MetricsTest, LabelledChildrenInLabelOrder) {
  Registry registry;
  auto& logins = registry.counter("popgate_logins_total", "Logins.", {"result", "code"});
  logins.labels({"ok", ""}).inc();
  logins.labels({"failed", "AUTH"}).inc(2);
  auto& active = registry.gauge("popgate_sessions_active", "Open sessions.", {"listener"});
  active.labels({"pop3"}).add(3);
  active.labels({"pop3"}).add(-1);
  EXPECT_EQ(registry.render(),
            "# HELP popgate_logins_total Logins.\n"
            "# TYPE popgate_logins_total counter\n"
            "popgate_logins_total{result=\"failed\",code=\"AUTH\"} 2\n"
            "popgate_logins_total{result=\"ok\",code=\"\"} 1\n"
            "# HELP popgate_sessions_active Open sessions.\n"
            "# TYPE popgate_sessions_active gauge\n"
            "popgate_sessions_active{listener=\"pop3\"} 2\n");
}

TEST(MetricsTest, LabelValuesAndHelpAreEscaped) {
  Registry registry;
  auto& family = registry.counter("x_total", "a \\ b\nc", {"name"});
  family.labels({"q\"uote\\back\nline"}).inc();
  EXPECT_EQ(registry.render(),
            "# HELP x_total a \\\\ b\\nc\n"
            "# TYPE x_total counter\n"
            "x_total{name=\"q\\\"uote\\\\back\\nline\"} 1\n");
}

TEST(MetricsTest, HistogramBucketsAreCumulativeAndInclusive) {
  Registry registry;
  auto& latency = registry.histogram("op_seconds", "Latency.", {0.005, 0.1, 1}, {"kind"});
  Histogram& open = latency.labels({"open"});
  open.observe(0.005);  // on the bound: counted in le="0.005"
  open.observe(0.05);
  open.observe(2.5);
  EXPECT_EQ(registry.render(),
            "# HELP op_seconds Latency.\n"
            "# TYPE op_seconds histogram\n"
            "op_seconds_bucket{kind=\"open\",le=\"0.005\"} 1\n"
            "op_seconds_bucket{kind=\"open\",le=\"0.1\"} 2\n"
            "op_seconds_bucket{kind=\"open\",le=\"1\"} 2\n"
            "op_seconds_bucket{kind=\"open\",le=\"+Inf\"} 3\n"
            "op_seconds_sum{kind=\"open\"} 2.555\n"
            "op_seconds_count{kind=\"open\"} 3\n");
}

TEST(MetricsTest, CounterFunctionIsReadAtRenderTime) {
  Registry registry;
  std::uint64_t seen = 4;
  registry.counterFunction("read_total", "Read.", {"action"}, [&] {
    return Registry::Samples{{{"refused"}, seen}, {{"delayed"}, 1}};
  });
  seen = 7;
  EXPECT_EQ(registry.render(),
            "# HELP read_total Read.\n"
            "# TYPE read_total counter\n"
            "read_total{action=\"refused\"} 7\n"
            "read_total{action=\"delayed\"} 1\n");
}

TEST(MetricsTest, ChildrenAreBounded) {
  Registry registry;
  auto& family = registry.counter("many_total", "Many.", {"name"});
  for (std::size_t i = 0; i < CounterFamily::kMaxChildren + 5; ++i)
    family.labels({std::to_string(i)}).inc();
  std::string text = registry.render();
  EXPECT_NE(text.find("many_total{name=\"_overflow\"} 5\n"), std::string::npos);
}

TEST(MetricsTest, ThreadsAddUp) {
  Registry registry;
  auto& family = registry.counter("bytes_total", "Bytes.", {"direction"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&family] {
      for (int i = 0; i < 10000; ++i) family.labels({"in"}).inc(2);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(family.labels({"in"}).value(), 80000u);
}

TEST(MetricsTest, ValuesAsPrometheusWritesThem) {
  EXPECT_EQ(formatValue(0.005), "0.005");
  EXPECT_EQ(formatValue(1), "1");
  EXPECT_EQ(formatValue(2.5), "2.5");
  EXPECT_EQ(formatValue(1e-05), "1e-05");
  EXPECT_EQ(formatValue(1.0 / 0.0), "+Inf");
}

}  // namespace
}  // namespace popgate::metrics
