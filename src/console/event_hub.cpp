#include "console/event_hub.hpp"

#include <nlohmann/json.hpp>

#include "core/json.hpp"

namespace thumbflow::console {

EventHub::EventHub(std::size_t backlog) : backlog_(backlog == 0 ? 1 : backlog) {}

void EventHub::on_processed(const ImageRecord& record) { publish("processed", nlohmann::json(record).dump()); }

void EventHub::on_failed(const ImageRecord& record) { publish("failed", nlohmann::json(record).dump()); }

void EventHub::on_retry(const ObjectCreated& event, const Error& error, int attempt) {
  nlohmann::json j = {{"bucket", event.bucket},
                      {"key", event.key},
                      {"attempt", attempt},
                      {"errorKind", to_string(error.kind)},
                      {"error", error.message}};
  publish("retrying", j.dump());
}

void EventHub::publish(std::string type, std::string data) {
  {
    std::lock_guard lock(mu_);
    ring_.push_back(HubEvent{next_id_++, std::move(type), std::move(data)});
    while (ring_.size() > backlog_) ring_.pop_front();
  }
  cv_.notify_all();
}

HubRead EventHub::read_after(std::uint64_t after, std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, wait, [&] { return closed_ || next_id_ - 1 > after; });
  HubRead out;
  out.closed = closed_;
  if (ring_.empty() || next_id_ - 1 <= after) return out;
  out.missed = ring_.front().id > after + 1;
  for (const auto& e : ring_)
    if (e.id > after) out.events.push_back(e);
  return out;
}

std::uint64_t EventHub::last_id() {
  std::lock_guard lock(mu_);
  return next_id_ - 1;
}

void EventHub::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

std::string sse_frame(const HubEvent& e) {
  return "id: " + std::to_string(e.id) + "\nevent: " + e.type + "\ndata: " + e.data + "\n\n";
}

}  // namespace thumbflow::console
