// Live updates for the console: processing results (the pipeline's observer) and the
// console's own actions (upload, retry, delete) become numbered events that any number of
// server-sent-event streams read.
//
// Policy: publishers never wait for readers. Events go into a ring of the last `backlog`
// events; each reader keeps the number of the last event it sent and takes what follows. A
// reader that fell further behind than the ring is told so (a `resync` event) and the page
// reloads its list. Reconnecting readers give Last-Event-ID and miss nothing the ring holds.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/pipeline.hpp"

namespace thumbflow::console {

struct HubEvent {
  std::uint64_t id = 0;
  std::string type;  // processed, failed, retrying, uploaded, retry-queued, deleted
  std::string data;  // one line of JSON
};

struct HubRead {
  std::vector<HubEvent> events;
  bool missed = false;  // events after `after` were dropped from the ring before this read
  bool closed = false;  // the hub is shutting down: end the stream
};

class EventHub final : public pipeline::PipelineObserver {
 public:
  explicit EventHub(std::size_t backlog = 256);

  void on_processed(const ImageRecord& record) override;
  void on_failed(const ImageRecord& record) override;
  void on_retry(const ObjectCreated& event, const Error& error, int attempt) override;

  // data must be one line of JSON (no newline), as SSE needs.
  void publish(std::string type, std::string data);
  // Events with an id above `after`, waiting up to `wait` for one to arrive.
  HubRead read_after(std::uint64_t after, std::chrono::milliseconds wait);
  std::uint64_t last_id();
  // Wakes every waiting reader and makes them end; later reads return closed.
  void close();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<HubEvent> ring_;
  std::size_t backlog_;
  std::uint64_t next_id_ = 1;
  bool closed_ = false;
};

// One event in the text/event-stream wire form ("id: ..\nevent: ..\ndata: ..\n\n").
std::string sse_frame(const HubEvent& event);

}  // namespace thumbflow::console
