#include <gtest/gtest.h>

#include "monitoring/monitor.hpp"
#include "test_support.hpp"

namespace thumbflow::monitoring {

TEST(Monitor, registers_every_documented_metric_and_opens_alarms_db_in_the_data_folder) {
  test::TempDir tmp;
  config::Config c;
  auto m = Monitor::open(c, tmp.path());
  ASSERT_TRUE(m.ok()) << m.error().describe();
  for (const char* name :
       {"thumbflow_http_requests_total", "thumbflow_images_processed_total", "thumbflow_images_failed_total",
        "thumbflow_image_retries_total", "thumbflow_image_processing_seconds", "thumbflow_image_source_size_bytes",
        "thumbflow_source_bytes_total", "thumbflow_output_bytes_total", "thumbflow_queue_depth", "thumbflow_queue_leased",
        "thumbflow_queue_failed", "thumbflow_queue_oldest_job_age_seconds", "thumbflow_workers", "thumbflow_workers_active",
        "thumbflow_alarm_state", "thumbflow_notifications_total"})
    EXPECT_NE((*m)->registry().find(name), nullptr) << name;
  const std::string doc = test::read_bytes(test::source_dir() / "docs/monitoring.md");
  for (const auto* f : (*m)->registry().families())
    EXPECT_NE(doc.find("`" + f->name() + "`"), std::string::npos) << f->name() << " is not in docs/monitoring.md";
  EXPECT_TRUE(std::filesystem::exists(alarms_db_path(tmp.path())));
  ASSERT_NE((*m)->alarms(), nullptr);
  auto rules = (*m)->alarms()->rules();
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].rule.name, "image-processing-errors");
}

TEST(Monitor, max_label_sets_bounds_every_metric) {
  test::TempDir tmp;
  config::Config c;
  c.metrics.max_label_sets = 2;
  auto m = Monitor::open(c, tmp.path());
  ASSERT_TRUE(m.ok());
  for (int s = 200; s < 210; ++s) (*m)->metrics().http_request("GetObject", s);
  auto* f = dynamic_cast<CounterFamily*>((*m)->registry().find("thumbflow_http_requests_total"));
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->children().size(), 3u);
  EXPECT_EQ(f->with({"_overflow", "_overflow"}).value(), 8);
}

TEST(Monitor, with_alarms_disabled_there_is_no_evaluator_and_no_alarms_db) {
  test::TempDir tmp;
  config::Config c;
  c.alarms.enabled = false;
  auto m = Monitor::open(c, tmp.path());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)->alarms(), nullptr);
  EXPECT_FALSE(std::filesystem::exists(alarms_db_path(tmp.path())));
  (*m)->start();
  (*m)->stop();
}

}  // namespace thumbflow::monitoring
