// A small Lambda Runtime API (2018-06-01) for tests: no emulator can be installed here, so the
// suite serves the four endpoints itself, on an ephemeral 127.0.0.1 port, and records what the
// runtime under test answers. Events are queued by the test; /next blocks until one is there.
// Faults: the next N requests to /next (or to /response) answer 500; /response bodies over a
// size answer 413 as Lambda does over 6 MB.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace thumbflow::test {

class TestRuntimeApi {
 public:
  struct Event {
    std::string request_id;
    std::string payload;
    std::int64_t deadline_ms = 0;  // epoch milliseconds
    std::string trace_id;          // empty: no Lambda-Runtime-Trace-Id header
  };
  struct Answer {
    std::string request_id;
    bool error = false;   // /error rather than /response
    std::string body;
    std::string error_type_header;  // Lambda-Runtime-Function-Error-Type
  };

  static std::int64_t in_ms(std::int64_t ms_from_now) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count() +
           ms_from_now;
  }

  TestRuntimeApi() {
    server_.Get("/2018-06-01/runtime/invocation/next", [this](const httplib::Request&, httplib::Response& res) {
      std::unique_lock lock(mutex_);
      ++next_calls_;
      if (fail_next_ > 0) {
        --fail_next_;
        res.status = 500;
        res.set_content(R"({"errorMessage":"injected failure","errorType":"ServiceException"})", "application/json");
        return;
      }
      changed_.wait(lock, [this] { return stopping_ || !events_.empty(); });
      if (stopping_) {
        res.status = 500;
        return;
      }
      Event e = std::move(events_.front());
      events_.pop_front();
      res.set_header("Lambda-Runtime-Aws-Request-Id", e.request_id);
      res.set_header("Lambda-Runtime-Deadline-Ms", std::to_string(e.deadline_ms));
      res.set_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:thumbflow-test");
      if (!e.trace_id.empty()) res.set_header("Lambda-Runtime-Trace-Id", e.trace_id);
      res.set_content(e.payload, "application/json");
    });
    server_.Post(R"(/2018-06-01/runtime/invocation/([^/]+)/(response|error))",
                 [this](const httplib::Request& req, httplib::Response& res) {
                   std::lock_guard lock(mutex_);
                   const bool is_error = req.matches[2] == "error";
                   if (!is_error && fail_response_ > 0) {
                     --fail_response_;
                     res.status = 500;
                     return;
                   }
                   if (!is_error && req.body.size() > max_response_bytes_) {
                     res.status = 413;
                     res.set_content(R"({"errorMessage":"Exceeded maximum allowed payload size","errorType":"RequestEntityTooLarge"})",
                                     "application/json");
                     return;
                   }
                   answers_.push_back(Answer{req.matches[1], is_error, req.body,
                                             req.get_header_value("Lambda-Runtime-Function-Error-Type")});
                   res.status = 202;
                   res.set_content(R"({"status":"OK"})", "application/json");
                   changed_.notify_all();
                 });
    server_.Post("/2018-06-01/runtime/init/error", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex_);
      init_error_ = req.body;
      res.status = 202;
      changed_.notify_all();
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("the test Runtime API cannot bind a port");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }

  ~TestRuntimeApi() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  TestRuntimeApi(const TestRuntimeApi&) = delete;
  TestRuntimeApi& operator=(const TestRuntimeApi&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  void push(Event e) {
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(e));
    changed_.notify_all();
  }
  void fail_next_requests(int n) {
    std::lock_guard lock(mutex_);
    fail_next_ = n;
  }
  void fail_response_requests(int n) {
    std::lock_guard lock(mutex_);
    fail_response_ = n;
  }
  void set_max_response_bytes(std::size_t n) {
    std::lock_guard lock(mutex_);
    max_response_bytes_ = n;
  }

  // Waits until at least n answers (or an init error when n is 0) arrived.
  bool wait_answers(std::size_t n, std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, limit, [&] { return answers_.size() >= n; });
  }
  bool wait_init_error(std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, limit, [&] { return init_error_.has_value(); });
  }
  std::vector<Answer> answers() {
    std::lock_guard lock(mutex_);
    return answers_;
  }
  std::optional<std::string> init_error() {
    std::lock_guard lock(mutex_);
    return init_error_;
  }
  int next_calls() {
    std::lock_guard lock(mutex_);
    return next_calls_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Event> events_;
  std::vector<Answer> answers_;
  std::optional<std::string> init_error_;
  int next_calls_ = 0;
  int fail_next_ = 0;
  int fail_response_ = 0;
  std::size_t max_response_bytes_ = 6 * 1024 * 1024;
  bool stopping_ = false;
};

}  // namespace thumbflow::test
