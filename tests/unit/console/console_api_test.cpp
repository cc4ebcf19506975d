// The console's REST API over a real HTTP server on loopback, a LocalStore, a SQLite catalog
// and a job queue in a temporary folder. The whole `thumbflow serve` is covered by
// tests/e2e/console_api_test.cpp and the browser test.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "catalog/image_id.hpp"
#include "catalog/sqlite_catalog.hpp"
#include "console/console.hpp"
#include "core/json.hpp"
#include "storage/local_store.hpp"
#include "test_support.hpp"

namespace thumbflow::console {
namespace {
using json = nlohmann::json;

const std::string kBucket = "image-processing-local";
const std::string kToken = "console-token-for-tests-0123456789";
const std::string kHostile = "<img src=x onerror=alert(1)>.jpg";

class ConsoleApi : public ::testing::Test {
 protected:
  void SetUp() override { start(ConsoleOptions{}); }

  void start(ConsoleOptions options) {
    store = std::make_unique<storage::LocalStore>(tmp.path() / "data");
    ASSERT_TRUE(store->create_bucket(kBucket));
    auto c = catalog::SqliteCatalog::open(tmp.path() / "catalog.db");
    ASSERT_TRUE(c) << c.error().describe();
    catalog = std::move(*c);
    auto q = events::JobQueue::open(tmp.path() / "queue.db");
    ASSERT_TRUE(q) << q.error().describe();
    queue = std::move(*q);
    ConsoleDeps deps{*store, *catalog, *queue, kBucket, "uploads/", kToken,
                     [this](const ObjectCreated& ev) -> Status {
                       std::lock_guard lock(mu);
                       created.push_back(ev);
                       if (auto r = queue->enqueue(ev); !r) return r.error();
                       return ok_status();
                     },
                     [] { return pipeline::PoolGauges{2, 1, 3, 40, 7, 1, 0}; }, nullptr};
    console = std::make_unique<Console>(std::move(deps), options);
    console->mount(server);
    port = server.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port, 0);
    listener = std::thread([this] { server.listen_after_bind(); });
    ASSERT_TRUE(test::eventually([this] { return server.is_running(); }, std::chrono::seconds(5)));
  }

  void TearDown() override {
    if (console) console->shutdown();
    server.stop();
    if (listener.joinable()) listener.join();
  }

  httplib::Client client() {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(10, 0);
    return c;
  }
  httplib::Headers auth() const { return {{"Authorization", "Bearer " + kToken}}; }

  // A record as the pipeline writes it, with its original and thumbnail in the store.
  ImageRecord add_record(const std::string& name, const std::string& date, RecordStatus status) {
    ImageRecord r;
    r.bucket = kBucket;
    r.original_key = "uploads/" + name;
    storage::PutOptions po;
    po.content_type = "text/html";  // what a hostile uploader might claim
    auto put = store->put(ObjectRef{kBucket, r.original_key}, "original-bytes-of-" + name, po);
    EXPECT_TRUE(put);
    r.etag = put->etag;
    r.image_id = catalog::make_image_id(kBucket, r.original_key, r.etag);
    r.upload_date = date;
    r.status = status;
    r.source_bytes = r.original_key.size();
    if (status == RecordStatus::processed) {
      ImageInfo info;
      info.format = SourceFormat::jpeg;
      info.width = 640;
      info.height = 480;
      r.info = info;
      r.thumbnail_key = "thumbnails/" + name;
      r.renditions.push_back(RenditionRecord{"thumbnail", r.thumbnail_key, "jpeg", 128, 96, 9});
      EXPECT_TRUE(store->put(ObjectRef{kBucket, r.thumbnail_key}, "thumb-bytes"));
      r.blurhash = "LEHV6nWB2yk8pyo0adR*.7kCMdnj";
    } else {
      r.error_kind = "corrupt";
      r.error_message = "not an image: " + r.original_key;
    }
    EXPECT_TRUE(catalog->upsert(r));
    return r;
  }

  test::TempDir tmp;
  std::unique_ptr<storage::LocalStore> store;
  std::unique_ptr<catalog::SqliteCatalog> catalog;
  std::unique_ptr<events::JobQueue> queue;
  std::unique_ptr<Console> console;
  httplib::Server server;
  std::thread listener;
  int port = 0;
  std::mutex mu;
  std::vector<ObjectCreated> created;
};

std::string url_encode(const std::string& s) {
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

httplib::MultipartFormDataItems one_file(const std::string& name, const std::string& bytes) {
  return {{"file", bytes, name, "image/jpeg"}};
}

TEST_F(ConsoleApi, every_route_answers_401_in_json_without_the_token_or_with_a_wrong_one) {
  const std::string id = "0123456789abcdef0123456789abcdef";
  struct Route {
    std::string method, path;
  };
  const std::vector<Route> routes = {
      {"GET", "/api/images"},           {"GET", "/api/images/" + id},
      {"GET", "/api/images/" + id + "/original"}, {"GET", "/api/images/" + id + "/renditions/thumbnail"},
      {"POST", "/api/uploads"},         {"POST", "/api/images/" + id + "/retry"},
      {"DELETE", "/api/images/" + id},  {"GET", "/api/status"},
      {"GET", "/api/alarms"},           {"GET", "/api/activity"},
      {"GET", "/api/events"},           {"GET", "/api/no-such-route"},
      {"GET", "/static/app.js"},        {"GET", "/static/blurhash.js"}};
  const std::vector<httplib::Headers> wrong = {
      {},
      {{"Authorization", "Bearer wrong-token"}},
      {{"Authorization", "Bearer " + kToken + "x"}},
      {{"Authorization", kToken}},
      {{"Cookie", "thumbflow_session=" + kToken}},  // the token itself is not a session
      {{"Cookie", "thumbflow_session=0000"}}};
  auto c = client();
  for (const auto& headers : wrong) {
    for (const auto& r : routes) {
      auto res = r.method == "GET"            ? c.Get(r.path, headers)
                 : r.method == "DELETE"       ? c.Delete(r.path, headers)
                 : r.path == "/api/uploads"   ? c.Post(r.path, headers, one_file("a.jpg", "x"))
                                              : c.Post(r.path, headers, "", "application/json");
      ASSERT_TRUE(res) << r.path;
      EXPECT_EQ(res->status, 401) << r.method << " " << r.path;
      EXPECT_EQ(res->get_header_value("Content-Type"), "application/json") << r.path;
      EXPECT_TRUE(json::parse(res->body).contains("error")) << r.path;
    }
  }
  EXPECT_TRUE(created.empty());
  // The page sends a browser to the login form; the form and its stylesheet need no token.
  auto page = c.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 303);
  EXPECT_EQ(page->get_header_value("Location"), "/login");
  EXPECT_EQ(c.Get("/login")->status, 200);
  EXPECT_EQ(c.Get("/static/app.css")->status, 200);
}

TEST_F(ConsoleApi, login_sets_an_httponly_strict_cookie_that_opens_the_page_and_the_api) {
  auto c = client();
  auto bad = c.Post("/login", "token=wrong", "application/x-www-form-urlencoded");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 401);
  EXPECT_NE(bad->body.find("id=\"login-error\" class"), std::string::npos);  // the error line shows
  EXPECT_FALSE(bad->has_header("Set-Cookie"));

  auto ok = c.Post("/login", "token=" + kToken, "application/x-www-form-urlencoded");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 303);
  const std::string cookie = ok->get_header_value("Set-Cookie");
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_EQ(cookie.find(kToken), std::string::npos);
  const std::string pair = cookie.substr(0, cookie.find(';'));
  httplib::Headers with_cookie = {{"Cookie", pair}};
  auto status = c.Get("/api/status", with_cookie);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->status, 200);
  auto page = c.Get("/", with_cookie);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(page->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_NE(page->body.find("/static/app.js"), std::string::npos);
}

TEST_F(ConsoleApi, an_upload_is_stored_under_uploads_and_announced_like_an_s3_put) {
  auto c = client();
  httplib::MultipartFormDataItems items = {{"file", "jpeg-bytes-1", kHostile, "image/jpeg"},
                                           {"file", "jpeg-bytes-2", "b.jpg", "image/jpeg"},
                                           {"note", "a plain field is ignored", "", ""}};
  auto res = c.Post("/api/uploads", auth(), items);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 202) << res->body;
  auto body = json::parse(res->body);
  ASSERT_EQ(body["uploads"].size(), 2u);
  EXPECT_EQ(body["uploads"][0]["key"], "uploads/" + kHostile);
  EXPECT_EQ(body["uploads"][0]["name"], kHostile);
  auto stored = store->get_bytes(ObjectRef{kBucket, "uploads/" + kHostile});
  ASSERT_TRUE(stored);
  EXPECT_EQ(*stored, "jpeg-bytes-1");
  std::lock_guard lock(mu);
  ASSERT_EQ(created.size(), 2u);
  EXPECT_EQ(created[0].key, "uploads/" + kHostile);
  EXPECT_EQ(created[0].size, 12u);
  EXPECT_FALSE(created[0].etag.empty());
  EXPECT_FALSE(created[0].sequencer.empty());
  EXPECT_EQ(body["uploads"][0]["imageId"], catalog::make_image_id(kBucket, created[0].key, created[0].etag));
  EXPECT_EQ(queue->stats()->queued, 2);
}

TEST_F(ConsoleApi, uploading_a_name_again_replaces_the_object_and_is_announced_again) {
  auto c = client();
  auto first = c.Post("/api/uploads", auth(), one_file("same.jpg", "version-1"));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 202) << first->body;
  auto second = c.Post("/api/uploads", auth(), one_file("same.jpg", "version-2"));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 202) << second->body;
  EXPECT_EQ(*store->get_bytes(ObjectRef{kBucket, "uploads/same.jpg"}), "version-2");
  EXPECT_NE(json::parse(first->body)["uploads"][0]["imageId"], json::parse(second->body)["uploads"][0]["imageId"]);
  EXPECT_EQ(created.size(), 2u);
}

TEST_F(ConsoleApi, a_request_without_a_file_or_with_a_bad_name_is_refused_with_400) {
  auto c = client();
  auto none = c.Post("/api/uploads", auth(), httplib::MultipartFormDataItems{{"note", "x", "", ""}});
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 400);
  auto raw = c.Post("/api/uploads", auth(), "bytes", "application/octet-stream");
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->status, 400);
  auto dots = c.Post("/api/uploads", auth(), one_file("..", "x"));
  ASSERT_TRUE(dots);
  EXPECT_EQ(dots->status, 400);
  EXPECT_TRUE(created.empty());
}

class ConsoleLimits : public ConsoleApi {
 protected:
  void SetUp() override {
    ConsoleOptions o;
    o.max_file_bytes = 1000;
    o.max_request_bytes = 4000;
    o.max_files_per_request = 3;
    start(o);
  }
};

class ConsoleOneStream : public ConsoleApi {
 protected:
  void SetUp() override {
    ConsoleOptions o;
    o.max_event_streams = 1;
    o.event_keepalive_ms = 100;
    start(o);
  }
};

TEST_F(ConsoleOneStream, a_stream_past_max_event_streams_gets_503_until_one_closes) {
  std::atomic<bool> open{false}, stop{false};
  std::thread first([&] {
    auto c = client();
    c.Get("/api/events", auth(), [&](const char*, std::size_t) {
      open = true;
      return !stop.load();
    });
  });
  ASSERT_TRUE(test::eventually([&] { return open.load(); }, std::chrono::seconds(5)));
  auto c = client();
  auto second = c.Get("/api/events", auth());
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 503);
  EXPECT_TRUE(json::parse(second->body).contains("error"));
  stop = true;
  first.join();
  // The first stream's slot is given back once the server sees it gone (next keepalive).
  EXPECT_TRUE(test::eventually(
      [&] {
        std::atomic<bool> got{false};
        auto again = client();
        again.Get("/api/events", auth(), [&](const char*, std::size_t) {
          got = true;
          return false;
        });
        return got.load();
      },
      std::chrono::seconds(5)));
}

TEST_F(ConsoleLimits, files_over_the_limits_get_413_and_nothing_is_stored) {
  auto c = client();
  auto at_limit = c.Post("/api/uploads", auth(), one_file("fits.jpg", std::string(1000, 'a')));
  ASSERT_TRUE(at_limit);
  EXPECT_EQ(at_limit->status, 202) << at_limit->body;

  httplib::MultipartFormDataItems one_too_big = {{"file", "small", "first.jpg", "image/jpeg"},
                                                 {"file", std::string(1001, 'b'), "big.jpg", "image/jpeg"}};
  auto big = c.Post("/api/uploads", auth(), one_too_big);
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  EXPECT_NE(json::parse(big->body)["error"].get<std::string>().find("big.jpg"), std::string::npos);

  httplib::MultipartFormDataItems four;
  for (int i = 0; i < 4; ++i) four.push_back({"file", "x", "f" + std::to_string(i) + ".jpg", "image/jpeg"});
  auto many = c.Post("/api/uploads", auth(), four);
  ASSERT_TRUE(many);
  EXPECT_EQ(many->status, 413);

  httplib::MultipartFormDataItems request_too_big;
  for (int i = 0; i < 3; ++i) request_too_big.push_back({"file", std::string(900, 'c'), "r.jpg", "image/jpeg"});
  request_too_big.push_back({"note", std::string(2000, 'n'), "", ""});
  auto whole = c.Post("/api/uploads", auth(), request_too_big);
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->status, 413);
  EXPECT_TRUE(json::parse(whole->body).contains("error"));

  EXPECT_FALSE(store->head(ObjectRef{kBucket, "uploads/first.jpg"}));
  EXPECT_FALSE(store->head(ObjectRef{kBucket, "uploads/f0.jpg"}));
  EXPECT_FALSE(store->head(ObjectRef{kBucket, "uploads/r.jpg"}));
  EXPECT_EQ(created.size(), 1u);
}

TEST_F(ConsoleApi, images_are_listed_newest_first_with_filters_and_pages) {
  auto older = add_record("old.jpg", "2026-11-20T10:00:00.000Z", RecordStatus::processed);
  auto failed = add_record("bad.jpg", "2026-11-24T10:00:00.000Z", RecordStatus::failed);
  auto newest = add_record(kHostile, "2026-11-25T10:00:00.000Z", RecordStatus::processed);
  auto c = client();
  auto all = c.Get("/api/images", auth());
  ASSERT_TRUE(all);
  ASSERT_EQ(all->status, 200);
  auto body = json::parse(all->body);
  ASSERT_EQ(body["images"].size(), 3u);
  EXPECT_EQ(body["images"][0]["imageId"], newest.image_id);
  EXPECT_EQ(body["images"][0]["originalImage"], "uploads/" + kHostile);
  EXPECT_EQ(body["images"][0]["links"]["renditions"]["thumbnail"],
            "/api/images/" + newest.image_id + "/renditions/thumbnail");
  EXPECT_EQ(body["images"][2]["imageId"], older.image_id);

  auto only_failed = json::parse(c.Get("/api/images?status=failed", auth())->body);
  ASSERT_EQ(only_failed["images"].size(), 1u);
  EXPECT_EQ(only_failed["images"][0]["errorMessage"], failed.error_message);

  auto range = json::parse(c.Get("/api/images?since=2026-11-21&until=2026-11-24", auth())->body);
  ASSERT_EQ(range["images"].size(), 1u);
  EXPECT_EQ(range["images"][0]["imageId"], failed.image_id);

  auto first = json::parse(c.Get("/api/images?limit=2", auth())->body);
  ASSERT_EQ(first["images"].size(), 2u);
  ASSERT_FALSE(first["nextPageToken"].get<std::string>().empty());
  auto second = json::parse(
      c.Get("/api/images?limit=2&pageToken=" + url_encode(first["nextPageToken"].get<std::string>()),
            auth())
          ->body);
  ASSERT_EQ(second["images"].size(), 1u);
  EXPECT_EQ(second["images"][0]["imageId"], older.image_id);

  auto bad = c.Get("/api/images?limit=100000", auth());
  EXPECT_EQ(bad->status, 400);
  EXPECT_TRUE(json::parse(bad->body).contains("error"));
  EXPECT_EQ(c.Get("/api/images?status=nope", auth())->status, 400);
}

TEST_F(ConsoleApi, one_image_its_original_and_its_renditions_are_served_with_their_types_and_ranges) {
  auto r = add_record(kHostile, "2026-11-25T10:00:00.000Z", RecordStatus::processed);
  auto c = client();
  auto one = c.Get("/api/images/" + r.image_id, auth());
  ASSERT_TRUE(one);
  ASSERT_EQ(one->status, 200);
  auto j = json::parse(one->body);
  EXPECT_EQ(j["image"]["width"], 640);
  EXPECT_EQ(j["blurhash"], r.blurhash);

  auto original = c.Get("/api/images/" + r.image_id + "/original", auth());
  ASSERT_TRUE(original);
  EXPECT_EQ(original->status, 200);
  EXPECT_EQ(original->body, "original-bytes-of-" + kHostile);
  // The type comes from the probe, not from the uploader's text/html.
  EXPECT_EQ(original->get_header_value("Content-Type"), "image/jpeg");
  EXPECT_EQ(original->get_header_value("Content-Security-Policy"), "default-src 'none'; sandbox");
  // (httplib's client percent-decodes header values, so only the plain part is checked here;
  // ContentDisposition's own test checks the encoded one.)
  EXPECT_EQ(original->get_header_value("Content-Disposition").rfind("inline; filename=\"_img_src_x_onerror_alert_1__.jpg\"", 0), 0u);

  auto headers = auth();
  headers.emplace("Range", "bytes=0-7");
  auto part = c.Get("/api/images/" + r.image_id + "/original", headers);
  ASSERT_TRUE(part);
  EXPECT_EQ(part->status, 206);
  EXPECT_EQ(part->body, "original");

  auto thumb = c.Get("/api/images/" + r.image_id + "/renditions/thumbnail", auth());
  ASSERT_TRUE(thumb);
  EXPECT_EQ(thumb->status, 200);
  EXPECT_EQ(thumb->body, "thumb-bytes");
  EXPECT_EQ(thumb->get_header_value("Content-Type"), "image/jpeg");

  auto missing = c.Get("/api/images/" + r.image_id + "/renditions/poster", auth());
  EXPECT_EQ(missing->status, 404);
  EXPECT_TRUE(json::parse(missing->body).contains("error"));
  auto unknown = c.Get("/api/images/ffffffffffffffffffffffffffffffff", auth());
  EXPECT_EQ(unknown->status, 404);
  EXPECT_TRUE(json::parse(unknown->body).contains("error"));
}

TEST_F(ConsoleApi, retry_queues_a_failed_image_and_refuses_a_processed_one_with_409) {
  auto failed = add_record("bad.jpg", "2026-11-24T10:00:00.000Z", RecordStatus::failed);
  auto fine = add_record("good.jpg", "2026-11-24T10:00:00.000Z", RecordStatus::processed);
  auto c = client();
  auto res = c.Post("/api/images/" + failed.image_id + "/retry", auth(), "", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 202) << res->body;
  auto jobs = queue->list(events::JobState::queued);
  ASSERT_TRUE(jobs);
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].event.key, failed.original_key);
  EXPECT_EQ((*jobs)[0].event.etag, failed.etag);
  auto conflict = c.Post("/api/images/" + fine.image_id + "/retry", auth(), "", "application/json");
  ASSERT_TRUE(conflict);
  EXPECT_EQ(conflict->status, 409);
  EXPECT_TRUE(json::parse(conflict->body).contains("error"));
}

TEST_F(ConsoleApi, delete_removes_the_original_the_renditions_and_the_record) {
  auto r = add_record("gone.jpg", "2026-11-24T10:00:00.000Z", RecordStatus::processed);
  auto c = client();
  auto res = c.Delete("/api/images/" + r.image_id, auth());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_FALSE(store->head(ObjectRef{kBucket, r.original_key}));
  EXPECT_FALSE(store->head(ObjectRef{kBucket, r.thumbnail_key}));
  EXPECT_EQ(catalog->get(r.image_id).error().kind, ErrorKind::not_found);
  EXPECT_EQ(c.Delete("/api/images/" + r.image_id, auth())->status, 404);
}

TEST_F(ConsoleApi, status_gives_queue_and_worker_figures_and_alarms_say_when_they_are_off) {
  auto c = client();
  auto s = json::parse(c.Get("/api/status", auth())->body);
  EXPECT_EQ(s["workers"]["running"], 2);
  EXPECT_EQ(s["workers"]["busy"], 1);
  EXPECT_EQ(s["queue"]["queued"], 0);
  EXPECT_EQ(s["limits"]["maxFileBytes"], ConsoleOptions{}.max_file_bytes);
  auto a = json::parse(c.Get("/api/alarms", auth())->body);
  EXPECT_EQ(a["enabled"], false);
  add_record("now.jpg", iso8601_ms(std::chrono::system_clock::now()), RecordStatus::failed);
  auto act = json::parse(c.Get("/api/activity", auth())->body);
  ASSERT_EQ(act["buckets"].size(), 60u);
  EXPECT_EQ(act["buckets"][59]["failed"], 1);
  EXPECT_EQ(c.Get("/api/activity?minutes=0", auth())->status, 400);
}

TEST_F(ConsoleApi, the_event_stream_carries_processing_results_as_they_happen) {
  std::atomic<bool> seen{false};
  std::string received;
  std::mutex received_mu;
  std::thread reader([&] {
    auto c = client();
    c.Get("/api/events", auth(), [&](const char* data, std::size_t n) {
      std::lock_guard lock(received_mu);
      received.append(data, n);
      if (received.find("event: processed") != std::string::npos) {
        seen = true;
        return false;
      }
      return true;
    });
  });
  ASSERT_TRUE(test::eventually(
      [&] {
        std::lock_guard lock(received_mu);
        return received.find("event: hello") != std::string::npos;
      },
      std::chrono::seconds(5)));
  ImageRecord rec;
  rec.image_id = "0123456789abcdef0123456789abcdef";
  rec.original_key = "uploads/" + kHostile;
  console->hub().on_processed(rec);
  EXPECT_TRUE(test::eventually([&] { return seen.load(); }, std::chrono::seconds(5)));
  reader.join();
  std::lock_guard lock(received_mu);
  EXPECT_NE(received.find("\"originalImage\":\"uploads/<img src=x onerror=alert(1)>.jpg\""), std::string::npos);
}

}  // namespace
}  // namespace thumbflow::console
