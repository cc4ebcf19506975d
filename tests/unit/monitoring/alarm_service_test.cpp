#include <gtest/gtest.h>

#include <mutex>

#include "monitoring/alarm_service.hpp"
#include "monitoring/service_metrics.hpp"
#include "test_support.hpp"

namespace thumbflow::monitoring {
namespace {

class Capture final : public Notifier {
 public:
  const std::string& name() const override { return name_; }
  Status send(const Notification& n) override {
    std::lock_guard lock(mu);
    got.push_back(n);
    return ok_status();
  }
  std::vector<Notification> take() {
    std::lock_guard lock(mu);
    return got;
  }
  std::string name_ = "email";
  std::mutex mu;
  std::vector<Notification> got;
};

ImageRecord failed_record(const std::string& key, const std::string& kind = "corrupt") {
  ImageRecord r;
  r.bucket = "b";
  r.original_key = key;
  r.status = RecordStatus::failed;
  r.error_kind = kind;
  r.error_message = key + " is truncated";
  return r;
}

// A registry on a clock the test moves, the service metrics, a store in a temp folder, and a
// dispatcher with one capturing notifier.
struct Fixture {
  explicit Fixture(std::vector<AlarmRule> rules, const std::filesystem::path& db) {
    RegistryOptions ro;
    ro.now_ms = [this] { return now; };
    registry = std::make_unique<Registry>(ro);
    metrics = std::make_unique<ServiceMetrics>(*registry);
    auto s = AlarmStore::open(db);
    EXPECT_TRUE(s.ok());
    store = std::move(*s);
    auto c = std::make_unique<Capture>();
    capture = c.get();
    std::vector<std::unique_ptr<Notifier>> ns;
    ns.push_back(std::move(c));
    DispatchOptions o;
    o.backoff_base = std::chrono::milliseconds(1);
    o.backoff_max = std::chrono::milliseconds(1);
    AlarmStore* st = store.get();
    dispatcher = std::make_unique<Dispatcher>(std::move(ns), o,
                                              [st](std::int64_t id, const Delivery& d) { (void)st->record_delivery(id, d); });
    AlarmOptions ao;
    ao.rules = std::move(rules);
    service = std::make_unique<AlarmService>(*registry, *store, *dispatcher, ao);
  }
  void fail(const std::string& key) {
    service->record_failure({now, "s3://b/" + key, "corrupt", key + " is truncated"});
    metrics->image_failed(failed_record(key));
  }
  std::vector<Notification> messages() {
    EXPECT_TRUE(dispatcher->wait_idle(std::chrono::seconds(5)));
    return capture->take();
  }

  std::int64_t now = 1'000'000;  // a period boundary for periods of 1, 5 and 10 s
  std::unique_ptr<Registry> registry;
  std::unique_ptr<ServiceMetrics> metrics;
  std::unique_ptr<AlarmStore> store;
  Capture* capture = nullptr;
  std::unique_ptr<Dispatcher> dispatcher;
  std::unique_ptr<AlarmService> service;
};

AlarmRule failures_rule(std::int64_t period_ms = 10'000) {
  AlarmRule r = default_failure_rule();
  r.period = std::chrono::milliseconds(period_ms);
  return r;
}

}  // namespace

TEST(AlarmService, three_failures_make_one_alarm_message_naming_them_then_one_ok_message) {
  test::TempDir tmp;
  Fixture f({failures_rule()}, tmp.path() / "alarms.db");
  ASSERT_TRUE(f.service->prepare().ok());
  f.service->evaluate(f.now);  // no data: OK (missing data is not breaching), no message
  f.now += 1000;
  f.fail("uploads/a.jpg");
  f.now += 10;
  f.fail("uploads/b.jpg");
  f.now += 10;
  f.fail("uploads/c.jpg");
  f.now += 2000;
  f.service->evaluate(f.now);  // the period is not complete yet
  EXPECT_TRUE(f.messages().empty());
  f.now = 1'010'000;
  f.service->evaluate(f.now);
  f.now += 1000;
  f.service->evaluate(f.now);  // still the same state: nothing new
  auto msgs = f.messages();
  ASSERT_EQ(msgs.size(), 1u);
  const auto& m = msgs[0];
  EXPECT_EQ(m.alarm, "image-processing-errors");
  EXPECT_EQ(m.old_state, AlarmState::ok);
  EXPECT_EQ(m.new_state, AlarmState::alarm);
  ASSERT_TRUE(m.value);
  EXPECT_EQ(*m.value, 3);
  EXPECT_EQ(m.threshold, 1);
  ASSERT_EQ(m.recent_failures.size(), 3u);
  EXPECT_EQ(m.recent_failures[0].uri, "s3://b/uploads/c.jpg") << "newest first";
  EXPECT_EQ(m.recent_failures[2].uri, "s3://b/uploads/a.jpg");
  EXPECT_EQ(m.recent_failures[0].error_kind, "corrupt");
  // Quiet for a period: back to OK, one message.
  f.now = 1'020'000;
  f.service->evaluate(f.now);
  f.now = 1'030'000;
  f.service->evaluate(f.now);
  msgs = f.messages();
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[1].old_state, AlarmState::alarm);
  EXPECT_EQ(msgs[1].new_state, AlarmState::ok);
  EXPECT_TRUE(msgs[1].recent_failures.empty());
  // The history says so, with each delivery.
  auto h = f.store->history("", 10);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 3u);  // INSUFFICIENT_DATA -> OK, OK -> ALARM, ALARM -> OK
  EXPECT_EQ((*h)[0].new_state, AlarmState::ok);
  EXPECT_EQ((*h)[1].new_state, AlarmState::alarm);
  EXPECT_TRUE((*h)[1].notified);
  EXPECT_FALSE((*h)[2].notified);
  ASSERT_EQ((*h)[1].deliveries.size(), 1u);
  EXPECT_EQ((*h)[1].deliveries[0].status, "sent");
  EXPECT_EQ((*h)[1].deliveries[0].notifier, "email");
}

TEST(AlarmService, labels_select_the_datapoints_a_rule_sees) {
  test::TempDir tmp;
  AlarmRule r = failures_rule();
  r.name = "too-large";
  r.labels = {{"kind", "too_large"}};
  Fixture f({r}, tmp.path() / "alarms.db");
  ASSERT_TRUE(f.service->prepare().ok());
  f.now += 1000;
  f.fail("uploads/a.jpg");  // corrupt, not too_large
  f.now = 1'010'000;
  f.service->evaluate(f.now);
  EXPECT_TRUE(f.messages().empty());
  EXPECT_EQ(f.service->rules()[0].status.state, AlarmState::ok);
}

TEST(AlarmService, state_survives_a_restart_so_an_alarm_is_not_announced_twice) {
  test::TempDir tmp;
  {
    Fixture f({failures_rule()}, tmp.path() / "alarms.db");
    ASSERT_TRUE(f.service->prepare().ok());
    f.now += 1000;
    f.fail("uploads/a.jpg");
    f.now = 1'010'000;
    f.service->evaluate(f.now);
    ASSERT_EQ(f.messages().size(), 1u);
  }
  Fixture g({failures_rule()}, tmp.path() / "alarms.db");
  ASSERT_TRUE(g.service->prepare().ok());
  EXPECT_EQ(g.service->rules()[0].status.state, AlarmState::alarm) << "loaded from alarms.db";
  g.now = 1'010'500;
  g.fail("uploads/b.jpg");  // still failing in the next period
  g.now = 1'020'000;
  g.service->evaluate(g.now);
  EXPECT_TRUE(g.messages().empty()) << "ALARM -> ALARM is no change";
}

TEST(AlarmService, a_rule_on_an_unknown_metric_or_label_is_refused_naming_it) {
  test::TempDir tmp;
  AlarmRule r = failures_rule();
  r.metric = "thumbflow_images_exploded_total";
  Fixture f({r}, tmp.path() / "alarms.db");
  auto st = f.service->prepare();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("alarms.rules[0].metric"), std::string::npos) << st.error().message;
  AlarmRule l = failures_rule();
  l.labels = {{"colour", "red"}};
  Fixture g({l}, tmp.path() / "alarms2.db");
  st = g.service->prepare();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("alarms.rules[0].labels"), std::string::npos) << st.error().message;
}

TEST(AlarmService, gauges_sampled_by_collectors_are_datapoints_for_average_and_maximum) {
  test::TempDir tmp;
  AlarmRule r;
  r.name = "backlog";
  r.metric = "thumbflow_queue_depth";
  r.statistic.kind = Statistic::Kind::maximum;
  r.period = std::chrono::milliseconds(5000);
  r.comparison = Comparison::greater;
  r.threshold = 100;
  r.missing_data = MissingData::missing;
  Fixture f({r}, tmp.path() / "alarms.db");
  std::int64_t depth = 0;
  f.registry->add_collector([&] { f.metrics->set_queue(depth, 0, 0, 0); });
  ASSERT_TRUE(f.service->prepare().ok());
  for (int i = 0; i < 5; ++i) {  // one sample a second, a spike in the middle
    depth = i == 2 ? 500 : 10;
    f.service->evaluate(f.now);
    f.now += 1000;
  }
  f.service->evaluate(f.now);  // 1'005'000: the period [1'000'000, 1'005'000) is complete
  auto msgs = f.messages();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(*msgs[0].value, 500);
  EXPECT_EQ(msgs[0].new_state, AlarmState::alarm);
}

TEST(AlarmService, the_alarm_state_gauge_shows_each_rules_state) {
  test::TempDir tmp;
  Fixture f({failures_rule()}, tmp.path() / "alarms.db");
  ASSERT_TRUE(f.service->prepare().ok());
  f.now += 1000;
  f.fail("uploads/a.jpg");
  f.now = 1'010'000;
  f.service->evaluate(f.now);
  const std::string text = f.registry->prometheus_text();
  EXPECT_NE(text.find("thumbflow_alarm_state{alarm=\"image-processing-errors\",state=\"ALARM\"} 1"), std::string::npos)
      << text;
  EXPECT_NE(text.find("thumbflow_alarm_state{alarm=\"image-processing-errors\",state=\"OK\"} 0"), std::string::npos);
}

}  // namespace thumbflow::monitoring
