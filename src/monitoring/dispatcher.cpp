#include "monitoring/dispatcher.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

#include <spdlog/spdlog.h>

#include "core/fault_point.hpp"

namespace thumbflow::monitoring {

std::chrono::milliseconds backoff_cap(const DispatchOptions& o, int retry) {
  const auto base = std::max<std::int64_t>(1, o.backoff_base.count());
  const auto max = std::max<std::int64_t>(base, o.backoff_max.count());
  std::int64_t cap = base;
  for (int i = 0; i < retry && cap < max; ++i) cap = std::min(max, cap * 2);
  return std::chrono::milliseconds(std::min(cap, max));
}

struct Dispatcher::Channel {
  struct Item {
    Notification n;
    int attempts = 0;
    std::chrono::steady_clock::time_point due;
    std::uint64_t seq = 0;
  };

  Channel(std::unique_ptr<Notifier> nf, const DispatchOptions& o, const Recorder& r, CounterFamily* c)
      : notifier(std::move(nf)), options(o), recorder(r), counters(c), rng(std::random_device{}()) {
    thread = std::thread([this] { run(); });
  }

  void record(const Item& item, const std::string& status, const std::string& error) {
    if (counters && status != "pending") counters->with({notifier->name(), status}).inc();
    if (recorder && item.n.history_id > 0)
      recorder(item.n.history_id, Delivery{notifier->name(), status, item.attempts, error, unix_now_ms()});
  }

  void submit(const Notification& n) {
    std::optional<Item> dropped;
    {
      std::lock_guard lock(mu);
      if (stopping) return;
      if (queue.size() >= std::max<std::size_t>(1, options.queue_capacity)) {
        // The oldest message not being sent right now goes.
        auto victim = sending && queue.size() > 1 ? queue.begin() + 1 : queue.begin();
        dropped = std::move(*victim);
        queue.erase(victim);
      }
      queue.push_back({n, 0, std::chrono::steady_clock::now(), ++next_seq});
    }
    cv.notify_all();
    if (dropped) {
      spdlog::warn("alarm notifier {}: queue full, dropped the message for {}", notifier->name(), dropped->n.alarm);
      record(*dropped, "dropped", "queue full (notify.queue_capacity)");
    }
  }

  void run() {
    std::unique_lock lock(mu);
    for (;;) {
      cv.wait(lock, [&] { return stopping || !queue.empty(); });
      if (stopping) break;
      const auto due = queue.front().due;
      if (std::chrono::steady_clock::now() < due) {
        cv.wait_until(lock, due, [&] { return stopping; });
        continue;
      }
      Item item = queue.front();  // stays queued while it is being sent (ordering, wait_idle)
      sending = true;
      lock.unlock();
      ++item.attempts;
      Status st = make_error(ErrorKind::internal, "not sent");
      try {
        // Fault point notifier.send: the destination is down; the send is retried as any other.
        st = fault::hit("notifier.send")
                 ? Status(make_error(ErrorKind::unavailable, "fault point notifier.send: the destination is down"))
                 : notifier->send(item.n);
      } catch (const std::exception& e) {
        st = make_error(ErrorKind::internal, std::string("notifier threw: ") + e.what());
      }
      std::string status, error;
      bool done = true;
      if (st) {
        status = "sent";
        spdlog::info("alarm {}: {} sent by {} (attempt {})", item.n.alarm, to_string(item.n.new_state), notifier->name(),
                     item.attempts);
      } else {
        error = st.error().describe();
        if (st.error().retryable() && item.attempts < options.max_attempts) {
          done = false;
          status = "pending";
          const auto cap = backoff_cap(options, item.attempts - 1).count();
          std::uniform_int_distribution<std::int64_t> jitter(cap / 2, cap);
          item.due = std::chrono::steady_clock::now() + std::chrono::milliseconds(jitter(rng));
          spdlog::warn("alarm {}: {} could not send (attempt {} of {}), retrying: {}", item.n.alarm, notifier->name(),
                       item.attempts, options.max_attempts, error);
        } else {
          status = "failed";
          spdlog::error("alarm {}: {} gave up after {} attempt(s): {}", item.n.alarm, notifier->name(), item.attempts,
                        error);
        }
      }
      record(item, status, error);
      lock.lock();
      sending = false;
      auto it = std::find_if(queue.begin(), queue.end(), [&](const Item& q) { return q.seq == item.seq; });
      if (it != queue.end()) {
        if (done) queue.erase(it);
        else *it = std::move(item);
      }
      idle_cv.notify_all();
    }
    // Stopped: whatever is still queued is not going to be sent by this process.
    std::deque<Item> rest;
    rest.swap(queue);
    lock.unlock();
    for (auto& item : rest) record(item, "dropped", "server stopped before the message was sent");
    idle_cv.notify_all();
  }

  bool wait_idle(std::chrono::milliseconds limit) {
    std::unique_lock lock(mu);
    return idle_cv.wait_for(lock, limit, [&] { return queue.empty() && !sending; });
  }

  void stop() {
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    cv.notify_all();
    if (thread.joinable()) thread.join();
  }

  std::unique_ptr<Notifier> notifier;
  DispatchOptions options;
  const Recorder& recorder;
  CounterFamily* counters;
  std::mt19937_64 rng;
  std::mutex mu;
  std::condition_variable cv, idle_cv;
  std::deque<Item> queue;
  bool sending = false;
  bool stopping = false;
  std::uint64_t next_seq = 0;
  std::thread thread;
};

Dispatcher::Dispatcher(std::vector<std::unique_ptr<Notifier>> notifiers, DispatchOptions options, Recorder recorder,
                       CounterFamily* counters)
    : recorder_(std::move(recorder)) {
  for (auto& n : notifiers) channels_.push_back(std::make_unique<Channel>(std::move(n), options, recorder_, counters));
}

Dispatcher::~Dispatcher() { stop(); }

void Dispatcher::submit(const Notification& n, const std::vector<std::string>& only) {
  for (auto& c : channels_)
    if (only.empty() || std::find(only.begin(), only.end(), c->notifier->name()) != only.end()) c->submit(n);
}

bool Dispatcher::wait_idle(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (auto& c : channels_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !c->wait_idle(left)) return false;
  }
  return true;
}

void Dispatcher::stop() {
  for (auto& c : channels_) c->stop();
}

std::vector<std::string> Dispatcher::names() const {
  std::vector<std::string> out;
  for (const auto& c : channels_) out.push_back(c->notifier->name());
  return out;
}

}  // namespace thumbflow::monitoring
