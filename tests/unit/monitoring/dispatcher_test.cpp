#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/fault_point.hpp"
#include "monitoring/dispatcher.hpp"
#include "test_support.hpp"

namespace thumbflow::monitoring {
namespace {

// A notifier under the test's control: fails the first `failures` attempts with `kind`, can
// block until released, and remembers what it sent.
class FakeNotifier final : public Notifier {
 public:
  explicit FakeNotifier(std::string name, int failures = 0, ErrorKind kind = ErrorKind::unavailable)
      : name_(std::move(name)), failures_(failures), kind_(kind) {}
  const std::string& name() const override { return name_; }
  Status send(const Notification& n) override {
    std::unique_lock lock(mu_);
    ++attempts_;
    cv_.wait(lock, [&] { return !blocked_; });
    if (failures_ > 0) {
      --failures_;
      return make_error(kind_, "peer down");
    }
    sent_.push_back(n.alarm + ":" + std::string(to_string(n.new_state)));
    return ok_status();
  }
  void block() {
    std::lock_guard lock(mu_);
    blocked_ = true;
  }
  void release() {
    {
      std::lock_guard lock(mu_);
      blocked_ = false;
    }
    cv_.notify_all();
  }
  int attempts() {
    std::lock_guard lock(mu_);
    return attempts_;
  }
  std::vector<std::string> sent() {
    std::lock_guard lock(mu_);
    return sent_;
  }

 private:
  std::string name_;
  int failures_;
  ErrorKind kind_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool blocked_ = false;
  int attempts_ = 0;
  std::vector<std::string> sent_;
};

struct Recorded {
  std::mutex mu;
  std::vector<std::pair<std::int64_t, Delivery>> rows;
  Dispatcher::Recorder recorder() {
    return [this](std::int64_t id, const Delivery& d) {
      std::lock_guard lock(mu);
      rows.emplace_back(id, d);
    };
  }
  std::vector<std::string> statuses(const std::string& notifier) {
    std::lock_guard lock(mu);
    std::vector<std::string> out;
    for (auto& [id, d] : rows)
      if (d.notifier == notifier) out.push_back(d.status + "/" + std::to_string(d.attempts));
    return out;
  }
};

DispatchOptions fast(int attempts = 5) {
  DispatchOptions o;
  o.max_attempts = attempts;
  o.backoff_base = std::chrono::milliseconds(5);
  o.backoff_max = std::chrono::milliseconds(20);
  return o;
}

Notification note(const std::string& alarm, AlarmState state = AlarmState::alarm, std::int64_t id = 1) {
  Notification n;
  n.alarm = alarm;
  n.new_state = state;
  n.history_id = id;
  return n;
}

}  // namespace

TEST(Backoff, the_cap_doubles_up_to_the_maximum) {
  DispatchOptions o;
  o.backoff_base = std::chrono::milliseconds(1000);
  o.backoff_max = std::chrono::milliseconds(5000);
  EXPECT_EQ(backoff_cap(o, 0).count(), 1000);
  EXPECT_EQ(backoff_cap(o, 1).count(), 2000);
  EXPECT_EQ(backoff_cap(o, 2).count(), 4000);
  EXPECT_EQ(backoff_cap(o, 3).count(), 5000);
  EXPECT_EQ(backoff_cap(o, 1000).count(), 5000);
}

TEST(Dispatcher, a_retryable_failure_is_retried_until_it_is_sent_and_every_attempt_is_recorded) {
  auto fake = std::make_unique<FakeNotifier>("email", 2);
  auto* f = fake.get();
  Recorded rec;
  std::vector<std::unique_ptr<Notifier>> ns;
  ns.push_back(std::move(fake));
  Registry reg;
  auto& counters = reg.counter("n_total", "x", {"notifier", "result"});
  Dispatcher d(std::move(ns), fast(), rec.recorder(), &counters);
  d.submit(note("a"));
  ASSERT_TRUE(d.wait_idle(std::chrono::seconds(5)));
  EXPECT_EQ(f->attempts(), 3);
  EXPECT_EQ(f->sent(), (std::vector<std::string>{"a:ALARM"}));
  EXPECT_EQ(rec.statuses("email"), (std::vector<std::string>{"pending/1", "pending/2", "sent/3"}));
  EXPECT_EQ(counters.with({"email", "sent"}).value(), 1);
}

TEST(Dispatcher, gives_up_after_max_attempts_and_records_the_failure) {
  auto fake = std::make_unique<FakeNotifier>("webhook", 100);
  auto* f = fake.get();
  Recorded rec;
  std::vector<std::unique_ptr<Notifier>> ns;
  ns.push_back(std::move(fake));
  Dispatcher d(std::move(ns), fast(3), rec.recorder());
  d.submit(note("a"));
  ASSERT_TRUE(d.wait_idle(std::chrono::seconds(5)));
  EXPECT_EQ(f->attempts(), 3);
  EXPECT_EQ(rec.statuses("webhook").back(), "failed/3");
}

TEST(Dispatcher, a_failure_retrying_cannot_help_is_not_retried) {
  auto fake = std::make_unique<FakeNotifier>("email", 100, ErrorKind::access_denied);
  auto* f = fake.get();
  Recorded rec;
  std::vector<std::unique_ptr<Notifier>> ns;
  ns.push_back(std::move(fake));
  Dispatcher d(std::move(ns), fast(5), rec.recorder());
  d.submit(note("a"));
  ASSERT_TRUE(d.wait_idle(std::chrono::seconds(5)));
  EXPECT_EQ(f->attempts(), 1);
  EXPECT_EQ(rec.statuses("email"), (std::vector<std::string>{"failed/1"}));
}

TEST(Dispatcher, a_blocked_notifier_neither_blocks_the_caller_nor_the_other_notifiers) {
  auto slow = std::make_unique<FakeNotifier>("email");
  auto fast_one = std::make_unique<FakeNotifier>("webhook");
  auto* s = slow.get();
  auto* w = fast_one.get();
  s->block();
  std::vector<std::unique_ptr<Notifier>> ns;
  ns.push_back(std::move(slow));
  ns.push_back(std::move(fast_one));
  Dispatcher d(std::move(ns), fast());
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) d.submit(note("a" + std::to_string(i)));
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, std::chrono::milliseconds(100)) << "submit never waits for a send";
  EXPECT_TRUE(test::eventually([&] { return w->sent().size() == 20; }, std::chrono::seconds(5)));
  EXPECT_TRUE(s->sent().empty());
  s->release();
  ASSERT_TRUE(d.wait_idle(std::chrono::seconds(5)));
  auto sent = s->sent();
  ASSERT_EQ(sent.size(), 20u);
  EXPECT_EQ(sent.front(), "a0:ALARM") << "a channel delivers in order";
  EXPECT_EQ(sent.back(), "a19:ALARM");
}

TEST(Dispatcher, a_later_message_waits_for_the_one_being_retried) {
  auto fake = std::make_unique<FakeNotifier>("email", 2);
  auto* f = fake.get();
  std::vector<std::unique_ptr<Notifier>> ns;
  ns.push_back(std::move(fake));
  Dispatcher d(std::move(ns), fast());
  d.submit(note("x", AlarmState::alarm));
  d.submit(note("x", AlarmState::ok, 2));
  ASSERT_TRUE(d.wait_idle(std::chrono::seconds(5)));
  EXPECT_EQ(f->sent(), (std::vector<std::string>{"x:ALARM", "x:OK"}));
}

TEST(Dispatcher, only_the_named_notifiers_get_a_message) {
  auto a = std::make_unique<FakeNotifier>("email");
  auto b = std::make_unique<FakeNotifier>("webhook");
  auto* pa = a.get();
  auto* pb = b.get();
  std::vector<std::unique_ptr<Notifier>> ns;
  ns.push_back(std::move(a));
  ns.push_back(std::move(b));
  Dispatcher d(std::move(ns), fast());
  d.submit(note("only-webhook"), {"webhook"});
  ASSERT_TRUE(d.wait_idle(std::chrono::seconds(5)));
  EXPECT_TRUE(pa->sent().empty());
  EXPECT_EQ(pb->sent().size(), 1u);
}

TEST(Dispatcher, a_full_queue_drops_its_oldest_waiting_message_and_stop_records_what_was_left) {
  auto fake = std::make_unique<FakeNotifier>("email");
  auto* f = fake.get();
  f->block();
  Recorded rec;
  std::vector<std::unique_ptr<Notifier>> ns;
  ns.push_back(std::move(fake));
  DispatchOptions o = fast();
  o.queue_capacity = 2;
  Dispatcher d(std::move(ns), o, rec.recorder());
  d.submit(note("first", AlarmState::alarm, 1));
  ASSERT_TRUE(test::eventually([&] { return f->attempts() == 1; }, std::chrono::seconds(5)));  // being sent
  d.submit(note("second", AlarmState::alarm, 2));
  d.submit(note("third", AlarmState::alarm, 3));  // full: "second" goes, not the one in flight
  {
    std::lock_guard lock(rec.mu);
    ASSERT_EQ(rec.rows.size(), 1u);
    EXPECT_EQ(rec.rows[0].first, 2);
    EXPECT_EQ(rec.rows[0].second.status, "dropped");
  }
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    f->release();
  });
  d.stop();
  releaser.join();
  EXPECT_EQ(f->sent(), (std::vector<std::string>{"first:ALARM"}));
  std::lock_guard lock(rec.mu);
  EXPECT_EQ(rec.rows.back().first, 3);
  EXPECT_EQ(rec.rows.back().second.status, "dropped") << "what stop() leaves behind is recorded";
}


TEST(DispatcherFaults, a_notifier_down_at_the_fault_point_is_retried_and_sent_once_it_is_back) {
  struct Disarm {
    ~Disarm() { fault::disarm_all(); }
  } disarm;
  ASSERT_TRUE(fault::arm("notifier.send", fault::Action::fail, 2).ok());
  auto fake = std::make_unique<FakeNotifier>("email");
  auto* f = fake.get();
  Recorded rec;
  std::vector<std::unique_ptr<Notifier>> ns;
  ns.push_back(std::move(fake));
  Dispatcher d(std::move(ns), fast(), rec.recorder());
  d.submit(note("a"));
  ASSERT_TRUE(d.wait_idle(std::chrono::seconds(5)));
  EXPECT_EQ(fault::fired("notifier.send"), 2);
  EXPECT_EQ(f->attempts(), 1) << "the two attempts while it was down never reached it";
  EXPECT_EQ(f->sent(), (std::vector<std::string>{"a:ALARM"}));
  EXPECT_EQ(rec.statuses("email"), (std::vector<std::string>{"pending/1", "pending/2", "sent/3"}));
}

}  // namespace thumbflow::monitoring
