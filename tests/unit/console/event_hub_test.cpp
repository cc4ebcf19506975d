#include <gtest/gtest.h>

#include <thread>

#include "console/event_hub.hpp"

namespace thumbflow::console {
namespace {
using namespace std::chrono_literals;

TEST(EventHub, a_reader_gets_every_event_after_the_one_it_saw) {
  EventHub hub;
  hub.publish("uploaded", "{\"n\":1}");
  hub.publish("uploaded", "{\"n\":2}");
  auto r = hub.read_after(1, 0ms);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].id, 2u);
  EXPECT_FALSE(r.missed);
  EXPECT_TRUE(hub.read_after(2, 0ms).events.empty());
}

TEST(EventHub, pipeline_outcomes_become_events_with_the_record_as_json) {
  EventHub hub;
  ImageRecord rec;
  rec.image_id = "0123456789abcdef0123456789abcdef";
  rec.original_key = "uploads/<b>x</b>.jpg";
  rec.status = RecordStatus::failed;
  hub.on_failed(rec);
  auto r = hub.read_after(0, 0ms);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].type, "failed");
  EXPECT_NE(r.events[0].data.find("\"imageId\":\"0123456789abcdef0123456789abcdef\""), std::string::npos);
  EXPECT_EQ(r.events[0].data.find('\n'), std::string::npos);
}

TEST(EventHub, a_reader_behind_the_ring_is_told_it_missed_events) {
  EventHub hub(2);
  for (int i = 0; i < 5; ++i) hub.publish("x", "{}");
  auto r = hub.read_after(1, 0ms);
  EXPECT_TRUE(r.missed);
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[0].id, 4u);
}

TEST(EventHub, a_waiting_reader_wakes_on_publish_and_on_close) {
  EventHub hub;
  std::thread publisher([&] {
    std::this_thread::sleep_for(50ms);
    hub.publish("processed", "{}");
  });
  auto start = std::chrono::steady_clock::now();
  auto r = hub.read_after(0, 5s);
  publisher.join();
  EXPECT_EQ(r.events.size(), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);

  std::thread closer([&] {
    std::this_thread::sleep_for(50ms);
    hub.close();
  });
  start = std::chrono::steady_clock::now();
  auto c = hub.read_after(1, 5s);
  closer.join();
  EXPECT_TRUE(c.closed);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(SseFrame, has_the_id_the_type_and_one_data_line) {
  EXPECT_EQ(sse_frame(HubEvent{7, "processed", "{\"a\":1}"}), "id: 7\nevent: processed\ndata: {\"a\":1}\n\n");
}

}  // namespace
}  // namespace thumbflow::console
