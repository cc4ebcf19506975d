#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>

#include "monitoring/metrics.hpp"

namespace thumbflow::monitoring {

TEST(Registry, counters_with_labels_are_separate_children_and_only_go_up) {
  Registry r;
  auto& f = r.counter("t_requests_total", "Requests", {"operation", "status"});
  f.with({"PutObject", "200"}).inc();
  f.with({"PutObject", "200"}).inc(2);
  f.with({"GetObject", "404"}).inc();
  f.with({"GetObject", "404"}).inc(-5);  // ignored
  EXPECT_EQ(f.with({"PutObject", "200"}).value(), 3);
  EXPECT_EQ(f.with({"GetObject", "404"}).value(), 1);
  EXPECT_EQ(f.children().size(), 2u);
  EXPECT_THROW(f.with({"PutObject"}), std::logic_error) << "a wrong number of label values is a programming error";
}

TEST(Registry, registering_a_name_again_returns_the_same_family_and_a_conflict_throws) {
  Registry r;
  auto& a = r.counter("t_total", "x", {"k"});
  auto& b = r.counter("t_total", "x", {"k"});
  EXPECT_EQ(&a, &b);
  EXPECT_THROW(r.gauge("t_total", "x", {"k"}), std::logic_error);
  EXPECT_THROW(r.counter("t_total", "x", {"other"}), std::logic_error);
  EXPECT_THROW(r.counter("bad name", "x"), std::logic_error);
  EXPECT_THROW(r.counter("t2", "x", {"le"}), std::logic_error);
  EXPECT_EQ(r.find("t_total"), &a);
  EXPECT_EQ(r.find("missing"), nullptr);
}

TEST(Registry, concurrent_increments_from_many_threads_are_all_counted) {
  Registry r;
  auto& c = r.counter("t_total", "x").with({});
  auto& h = r.histogram("t_seconds", "x", {0.5, 1}).with({});
  auto& labelled = r.counter("t_labelled_total", "x", {"thread"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        c.inc();
        h.observe(0.25);
        labelled.with({std::to_string(t % 4)}).inc();
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 80000);
  EXPECT_EQ(h.count(), 80000u);
  EXPECT_DOUBLE_EQ(h.sum(), 20000);
  EXPECT_EQ(labelled.children().size(), 4u);
  for (const auto& [labels, child] : labelled.children()) EXPECT_EQ(child->value(), 20000) << labels[0];
}

TEST(Registry, label_sets_past_the_limit_share_one_overflow_child) {
  RegistryOptions o;
  o.max_children_per_family = 3;
  Registry r(o);
  auto& f = r.counter("t_total", "x", {"status"});
  for (int i = 0; i < 10; ++i) f.with({std::to_string(i)}).inc();
  auto children = f.children();
  EXPECT_EQ(children.size(), 4u);  // 3 real ones and the overflow
  EXPECT_EQ(f.with({"_overflow"}).value(), 7);
  EXPECT_EQ(f.with({"0"}).value(), 1) << "existing children keep counting";
}

TEST(Registry, gauges_set_and_add) {
  Registry r;
  auto& g = r.gauge("t_depth", "x").with({});
  g.set(5);
  g.add(-2);
  EXPECT_EQ(g.value(), 3);
}

TEST(Registry, histogram_buckets_are_sorted_and_observations_fall_in_the_first_bucket_at_or_above) {
  Registry r;
  auto& h = r.histogram("t_seconds", "x", {1, 0.1, 1, 10}).with({});
  EXPECT_EQ(h.bounds(), (std::vector<double>{0.1, 1, 10}));
  h.observe(0.1);   // le=0.1
  h.observe(0.5);   // le=1
  h.observe(1);     // le=1
  h.observe(100);   // +Inf
  EXPECT_EQ(h.bucket(0), 1u);
  EXPECT_EQ(h.bucket(1), 2u);
  EXPECT_EQ(h.bucket(2), 0u);
  EXPECT_EQ(h.bucket(3), 1u);
  EXPECT_EQ(h.count(), 4u);
}

TEST(Registry, only_watched_families_record_datapoints_with_time_and_labels) {
  std::int64_t now = 1000;
  RegistryOptions o;
  o.now_ms = [&] { return now; };
  Registry r(o);
  auto& f = r.counter("t_failed_total", "x", {"kind"});
  f.with({"corrupt"}).inc();  // not watched yet: no datapoint
  Series s(100);
  f.watch(&s);
  now = 2000;
  f.with({"corrupt"}).inc();
  now = 3000;
  f.with({"io"}).inc(2);
  auto points = s.range(0, 10'000);
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[0].at_ms, 2000);
  EXPECT_EQ(points[0].value, 1);
  EXPECT_EQ((*points[0].labels)[0], "corrupt");
  EXPECT_EQ(points[1].value, 2);
  EXPECT_EQ((*points[1].labels)[0], "io");
  EXPECT_EQ(s.range(2500, 10'000).size(), 1u);
  s.drop_before(2500);
  EXPECT_EQ(s.size(), 1u);
}

TEST(Series, keeps_at_most_its_capacity_dropping_the_oldest_and_stays_sorted) {
  Series s(3);
  s.add(10, 1, nullptr);
  s.add(30, 3, nullptr);
  s.add(20, 2, nullptr);  // a late arrival is inserted in order
  s.add(40, 4, nullptr);
  auto p = s.range(0, 100);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].at_ms, 20);
  EXPECT_EQ(p[1].at_ms, 30);
  EXPECT_EQ(p[2].at_ms, 40);
  EXPECT_EQ(s.dropped(), 1u);
}

TEST(Exposition, renders_help_type_samples_and_cumulative_histogram_buckets) {
  Registry r;
  r.counter("t_requests_total", "Requests served", {"operation", "status"}).with({"PutObject", "200"}).inc(3);
  r.gauge("t_queue_depth", "Jobs waiting").with({}).set(2.5);
  auto& h = r.histogram("t_seconds", "Time", {0.1, 1}).with({});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(7);
  int collected = 0;
  r.add_collector([&] { ++collected; });
  const std::string text = r.prometheus_text();
  EXPECT_EQ(collected, 1) << "collectors run before an exposition";
  EXPECT_EQ(text,
            "# HELP t_requests_total Requests served\n"
            "# TYPE t_requests_total counter\n"
            "t_requests_total{operation=\"PutObject\",status=\"200\"} 3\n"
            "# HELP t_queue_depth Jobs waiting\n"
            "# TYPE t_queue_depth gauge\n"
            "t_queue_depth 2.5\n"
            "# HELP t_seconds Time\n"
            "# TYPE t_seconds histogram\n"
            "t_seconds_bucket{le=\"0.1\"} 1\n"
            "t_seconds_bucket{le=\"1\"} 2\n"
            "t_seconds_bucket{le=\"+Inf\"} 3\n"
            "t_seconds_sum 7.55\n"
            "t_seconds_count 3\n");
}

TEST(Exposition, escapes_label_values_and_help_and_formats_special_values) {
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(escape_help("line\\one\nline two"), "line\\\\one\\nline two");
  EXPECT_EQ(format_value(3), "3");
  EXPECT_EQ(format_value(0.1), "0.1");
  EXPECT_EQ(format_value(1e20), "1e+20");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
  Registry r;
  r.counter("t_total", "x", {"key"}).with({"we\"ird\nkey"}).inc();
  EXPECT_NE(r.prometheus_text().find("t_total{key=\"we\\\"ird\\nkey\"} 1\n"), std::string::npos);
}

TEST(Exposition, metric_and_label_names_follow_the_text_format) {
  EXPECT_TRUE(valid_metric_name("thumbflow_http_requests_total"));
  EXPECT_TRUE(valid_metric_name("ns:sub_total"));
  EXPECT_FALSE(valid_metric_name("2xx"));
  EXPECT_FALSE(valid_metric_name("a-b"));
  EXPECT_TRUE(valid_label_name("operation"));
  EXPECT_FALSE(valid_label_name("__reserved"));
  EXPECT_FALSE(valid_label_name("a:b"));
}

}  // namespace thumbflow::monitoring
