// The exposition checked by Prometheus' own linter (Debian `prometheus`: promtool check metrics).
#include <gtest/gtest.h>

#include "monitoring/alarm_service.hpp"
#include "monitoring/service_metrics.hpp"
#include "test_support.hpp"

namespace thumbflow::monitoring {
namespace {

bool promtool_available() { return std::filesystem::exists("/usr/bin/promtool"); }

test::ProcessResult promtool_check(const std::string& text) {
  return test::run_process({"/usr/bin/promtool", "check", "metrics"}, text);
}

}  // namespace

TEST(Promtool, accepts_every_metric_thumbflow_publishes_with_values_in_every_family) {
  if (!promtool_available()) GTEST_SKIP() << "promtool not installed (Debian prometheus; scripts/install-deps)";
  Registry r;
  ServiceMetrics m(r);
  m.http_request("PutObject", 200);
  m.http_request("GetObject", 404);
  m.http_request("Unknown", 400);
  ImageRecord ok;
  ok.processing_ms = 42;
  ok.source_bytes = 123456;
  ok.renditions = {{"thumbnail", "thumbnails/a.jpg", "jpeg", 128, 96, 4567}};
  m.image_processed(ok);
  ImageRecord bad;
  bad.status = RecordStatus::failed;
  bad.error_kind = "corrupt";
  bad.processing_ms = 3;
  bad.source_bytes = 99;
  m.image_failed(bad);
  m.image_retry("unavailable");
  m.set_queue(4, 1, 2, 1500);
  m.set_workers(2, 1);
  r.counter("thumbflow_notifications_total", "Alarm messages by notifier and outcome", {"notifier", "result"})
      .with({"email", "sent"})
      .inc();
  r.gauge("thumbflow_alarm_state", "1 for the state each alarm rule is in", {"alarm", "state"})
      .with({"image-processing-errors", "OK"})
      .set(1);
  const std::string text = r.prometheus_text();
  auto check = promtool_check(text);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err << "\n" << text;
  EXPECT_NE(text.find("thumbflow_images_failed_total{kind=\"corrupt\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("thumbflow_http_requests_total{operation=\"PutObject\",status=\"200\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("thumbflow_queue_oldest_job_age_seconds 1.5\n"), std::string::npos);
  EXPECT_NE(text.find("thumbflow_output_bytes_total 4567\n"), std::string::npos);
}

TEST(Promtool, the_check_is_real_it_refuses_a_broken_exposition) {
  if (!promtool_available()) GTEST_SKIP() << "promtool not installed (Debian prometheus; scripts/install-deps)";
  auto check = promtool_check("# TYPE x counter\nx{a=\"unterminated} 1\n");
  EXPECT_NE(check.exit_code, 0);
}

}  // namespace thumbflow::monitoring
