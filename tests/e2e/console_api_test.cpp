// The console's REST API on a real `thumbflow serve`: the token on every route, uploads that
// go through the same queue and pipeline as S3 uploads, records, streams, retry, delete, the
// limits, and a hostile file name that stays data all the way.
#include <gtest/gtest.h>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace thumbflow {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

const std::string kToken = "e2e-console-token-0123456789abcdef";
const std::string kHostile = "<img src=x onerror=alert(1)>.jpg";
constexpr std::uint64_t kMaxFile = 2'000'000;
constexpr std::uint64_t kMaxRequest = 4'000'000;

std::string exe() { return (test::binary_dir() / "src/cli/thumbflow").string(); }

class ConsoleServe : public ::testing::Test {
 protected:
  void SetUp() override {
    console_port = test::free_port();
    const int s3_port = test::free_port();
    server = std::make_unique<test::BackgroundProcess>(
        std::vector<std::string>{exe(), "serve", "--data", (tmp.path() / "data").string(), "--s3-listen",
                                 "127.0.0.1:" + std::to_string(s3_port), "--console-listen",
                                 "127.0.0.1:" + std::to_string(console_port)},
        tmp.path() / "server",
        std::map<std::string, std::string>{{"THUMBFLOW_CONSOLE_TOKEN", kToken},
                                           {"THUMBFLOW_CONSOLE_MAX_FILE_BYTES", std::to_string(kMaxFile)},
                                           {"THUMBFLOW_CONSOLE_MAX_REQUEST_BYTES", std::to_string(kMaxRequest)},
                                           {"THUMBFLOW_ACCESS_KEY", "E2ECONSOLEKEY000"},
                                           {"THUMBFLOW_SECRET_KEY", "e2e-console-secret-00000000000000000000"},
                                           {"THUMBFLOW_WORKERS_MAX", "2"}});
    ASSERT_TRUE(test::eventually(
        [&] {
          auto r = client().Get("/healthz");
          return (r && r->status == 200) || !server->running();
        },
        std::chrono::seconds(20)));
    ASSERT_TRUE(server->running()) << server->err();
  }

  httplib::Client client() {
    httplib::Client c("127.0.0.1", console_port);
    c.set_read_timeout(20, 0);
    return c;
  }
  httplib::Headers auth() const { return {{"Authorization", "Bearer " + kToken}}; }

  std::vector<json> images(const std::string& query = "") {
    auto r = client().Get("/api/images?limit=200" + query, auth());
    if (!r || r->status != 200) return {};
    return json::parse(r->body)["images"].get<std::vector<json>>();
  }

  test::TempDir tmp;
  std::unique_ptr<test::BackgroundProcess> server;
  int console_port = 0;
};

TEST_F(ConsoleServe, every_route_answers_401_without_the_token_or_with_a_wrong_one) {
  const std::string id = "0123456789abcdef0123456789abcdef";
  auto c = client();
  for (const httplib::Headers& headers : {httplib::Headers{}, httplib::Headers{{"Authorization", "Bearer nope"}},
                                          httplib::Headers{{"Cookie", "thumbflow_session=nope"}}}) {
    for (const std::string& path : std::vector<std::string>{"/api/images", "/api/images/" + id, "/api/images/" + id + "/original",
                                    "/api/images/" + id + "/renditions/thumbnail", "/api/status", "/api/alarms",
                                    "/api/activity", "/api/events", "/static/app.js", "/api/whatever"}) {
      auto r = c.Get(path, headers);
      ASSERT_TRUE(r) << path;
      EXPECT_EQ(r->status, 401) << path;
      EXPECT_TRUE(json::parse(r->body).contains("error")) << path;
    }
    auto up = c.Post("/api/uploads", headers, httplib::MultipartFormDataItems{{"file", "x", "a.jpg", "image/jpeg"}});
    EXPECT_EQ(up->status, 401);
    EXPECT_EQ(c.Post("/api/images/" + id + "/retry", headers, "", "application/json")->status, 401);
    EXPECT_EQ(c.Delete("/api/images/" + id, headers)->status, 401);
    EXPECT_EQ(c.Post("/events", headers, "{}", "application/json")->status, 401);
  }
  EXPECT_TRUE(images().empty());
}

TEST_F(ConsoleServe, uploads_become_thumbnails_and_failures_that_can_be_streamed_retried_and_deleted) {
  const std::string flower = test::read_bytes(test::corpus_dir() / "mate_FreshFlower.jpg");
  const std::string leaf = test::read_bytes(test::corpus_dir() / "plasma_FallenLeaf_screenshot.jpg");
  httplib::MultipartFormDataItems items = {{"file", flower, "mate_FreshFlower.jpg", "image/jpeg"},
                                           {"file", leaf, kHostile, "image/jpeg"},
                                           {"file", "\xff\xd8\xff\xe0 not a jpeg", "corrupt.jpg", "image/jpeg"}};
  // Live updates: the stream is open before the upload.
  std::string events;
  std::mutex events_mu;
  std::atomic<int> results{0};
  std::thread reader([&] {
    auto c = client();
    c.Get("/api/events", auth(), [&](const char* data, std::size_t n) {
      std::lock_guard lock(events_mu);
      events.append(data, n);
      std::size_t count = 0;
      for (std::size_t at = 0; (at = events.find("\nevent: processed\n", at)) != std::string::npos; ++at) ++count;
      for (std::size_t at = 0; (at = events.find("\nevent: failed\n", at)) != std::string::npos; ++at) ++count;
      results = static_cast<int>(count);
      return count < 3;
    });
  });
  ASSERT_TRUE(test::eventually(
      [&] {
        std::lock_guard lock(events_mu);
        return events.find("event: hello") != std::string::npos;
      },
      std::chrono::seconds(10)));

  auto c = client();
  auto up = c.Post("/api/uploads", auth(), items);
  ASSERT_TRUE(up);
  ASSERT_EQ(up->status, 202) << up->body;
  auto uploads = json::parse(up->body)["uploads"];
  ASSERT_EQ(uploads.size(), 3u);
  EXPECT_EQ(uploads[1]["key"], "uploads/" + kHostile);

  ASSERT_TRUE(test::eventually([&] { return images().size() == 3; }, std::chrono::seconds(60))) << server->err();
  EXPECT_TRUE(test::eventually([&] { return results.load() >= 3; }, std::chrono::seconds(10)));
  reader.join();
  {
    std::lock_guard lock(events_mu);
    EXPECT_NE(events.find("\"originalImage\":\"uploads/<img src=x onerror=alert(1)>.jpg\""), std::string::npos);
  }

  auto failed = images("&status=failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]["originalImage"], "uploads/corrupt.jpg");
  EXPECT_FALSE(failed[0]["errorMessage"].get<std::string>().empty());
  auto processed = images("&status=processed");
  ASSERT_EQ(processed.size(), 2u);

  // The hostile name round-trips as data: in the record, and in the upload's imageId.
  json hostile;
  for (const auto& r : processed)
    if (r["originalImage"] == "uploads/" + kHostile) hostile = r;
  ASSERT_FALSE(hostile.is_null());
  EXPECT_EQ(hostile["imageId"], uploads[1]["imageId"]);
  const std::string id = hostile["imageId"];
  auto one = c.Get("/api/images/" + id, auth());
  ASSERT_EQ(one->status, 200);
  EXPECT_FALSE(json::parse(one->body)["blurhash"].get<std::string>().empty());

  auto original = c.Get("/api/images/" + id + "/original", auth());
  ASSERT_EQ(original->status, 200);
  EXPECT_EQ(original->body, leaf);
  EXPECT_EQ(original->get_header_value("Content-Type"), "image/jpeg");
  auto thumb = c.Get("/api/images/" + id + "/renditions/thumbnail", auth());
  ASSERT_EQ(thumb->status, 200);
  EXPECT_EQ(thumb->get_header_value("Content-Type"), "image/jpeg");
  ASSERT_GE(thumb->body.size(), 2u);
  EXPECT_EQ(thumb->body.substr(0, 2), "\xff\xd8");

  // Retry: the failure is queued again; a processed image is not.
  const std::string failed_id = failed[0]["imageId"];
  const std::string before = failed[0]["updatedAt"];
  EXPECT_EQ(c.Post("/api/images/" + failed_id + "/retry", auth(), "", "application/json")->status, 202);
  EXPECT_TRUE(test::eventually(
      [&] {
        auto r = c.Get("/api/images/" + failed_id, auth());
        return r && r->status == 200 && json::parse(r->body)["updatedAt"] != before;
      },
      std::chrono::seconds(30)));
  EXPECT_EQ(c.Post("/api/images/" + id + "/retry", auth(), "", "application/json")->status, 409);

  // Delete: the original, the thumbnail and the record go.
  auto del = c.Delete("/api/images/" + id, auth());
  ASSERT_EQ(del->status, 200) << del->body;
  EXPECT_EQ(c.Get("/api/images/" + id, auth())->status, 404);
  EXPECT_EQ(images().size(), 2u);
  const fs::path bucket = tmp.path() / "data" / "image-processing-local";
  for (const auto& key : json::parse(del->body)["removedKeys"]) {
    std::error_code ec;
    EXPECT_FALSE(fs::exists(bucket / key.get<std::string>(), ec)) << key;
  }

  // serve's default alarm rule, through the monitor.
  auto alarms = json::parse(c.Get("/api/alarms", auth())->body);
  EXPECT_EQ(alarms["enabled"], true);
  ASSERT_GE(alarms["alarms"].size(), 1u);
  EXPECT_EQ(alarms["alarms"][0]["name"], "image-processing-errors");
  EXPECT_TRUE(alarms["alarms"][0]["state"] == "OK" || alarms["alarms"][0]["state"] == "ALARM" ||
              alarms["alarms"][0]["state"] == "INSUFFICIENT_DATA");

  auto status = json::parse(c.Get("/api/status", auth())->body);
  EXPECT_GE(status["workers"]["processed"].get<int>(), 2);
  auto activity = json::parse(c.Get("/api/activity", auth())->body);
  int total = 0;
  for (const auto& b : activity["buckets"]) total += b["processed"].get<int>() + b["failed"].get<int>();
  EXPECT_EQ(total, 2);
}

TEST_F(ConsoleServe, oversized_uploads_get_413_and_nothing_is_stored_or_processed) {
  auto c = client();
  auto file = c.Post("/api/uploads", auth(),
                     httplib::MultipartFormDataItems{{"file", std::string(kMaxFile + 1, 'a'), "big.jpg", "image/jpeg"}});
  ASSERT_TRUE(file);
  EXPECT_EQ(file->status, 413);
  EXPECT_TRUE(json::parse(file->body).contains("error"));
  httplib::MultipartFormDataItems many;
  for (int i = 0; i < 3; ++i)
    many.push_back({"file", std::string(kMaxFile - 10, 'b'), "part" + std::to_string(i) + ".jpg", "image/jpeg"});
  auto request = c.Post("/api/uploads", auth(), many);
  ASSERT_TRUE(request);
  EXPECT_EQ(request->status, 413);
  EXPECT_TRUE(json::parse(request->body).contains("error"));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(images().empty());
  auto st = json::parse(c.Get("/api/status", auth())->body);
  EXPECT_EQ(st["queue"]["queued"], 0);
  EXPECT_EQ(st["queue"]["done"], 0);
}

}  // namespace
}  // namespace thumbflow
