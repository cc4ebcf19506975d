// S3Store under faults, against fake S3 servers in the test process on 127.0.0.1: the server is
// down, answers 503 then succeeds, throttles for good, resets the connection in the middle of an
// upload, fails one part of a multipart upload, or answers CompleteMultipartUpload with a 200
// that carries an error. The same faults against RADOS Gateway are in s3_cross_tool_test.cpp.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "storage/s3_store.hpp"
#include "tcp_faults.hpp"

namespace thumbflow::storage {
namespace {

using namespace std::chrono_literals;
using faults::RawServer;

S3Config fake_config(const std::string& endpoint) {
  S3Config c;
  c.endpoint = endpoint;
  c.path_style = true;
  c.credentials = {"AKIDFAKE", "fake-secret", ""};
  c.retry.max_attempts = 3;
  c.retry.base_delay = 1ms;
  c.retry.max_delay = 5ms;
  c.timeouts.connect = 1000ms;
  c.multipart_threshold = kS3MinPartSize;
  c.part_size = kS3MinPartSize;
  c.upload_concurrency = 2;
  return c;
}

std::unique_ptr<S3Store> make_store(const std::string& endpoint) {
  auto s = S3Store::create(fake_config(endpoint));
  EXPECT_TRUE(s.ok()) << s.error().describe();
  return std::move(*s);
}

// cpp-httplib on an ephemeral loopback port.
class FakeS3 {
 public:
  FakeS3() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 500 && !server_.is_running(); ++i) std::this_thread::sleep_for(2ms);
  }
  ~FakeS3() {
    server_.stop();
    thread_.join();
  }
  httplib::Server* operator->() { return &server_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

std::string s3_error(const std::string& code, const std::string& request_id) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code + "</Code><Message>" + code +
         " from the fake</Message><RequestId>" + request_id + "</RequestId></Error>";
}

TEST(S3StoreFaults, server_down_is_unavailable_after_bounded_retries) {
  // Bind a port, then let it go: nothing listens there.
  int port = 0;
  {
    RawServer probe([](int fd, int) { ::close(fd); });
    port = std::stoi(probe.endpoint().substr(probe.endpoint().rfind(':') + 1));
  }
  auto store = make_store("http://127.0.0.1:" + std::to_string(port));
  const auto start = std::chrono::steady_clock::now();
  auto r = store->put({"bucket", "k"}, "bytes");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::unavailable);
  EXPECT_TRUE(r.error().retryable());
  EXPECT_NE(r.error().message.find("after 3 attempts"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("s3://bucket/k"), std::string::npos) << r.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_EQ(store->get_bytes({"bucket", "k"}).error().kind, ErrorKind::unavailable);
}

TEST(S3StoreFaults, a_503_then_success_succeeds) {
  FakeS3 fake;
  std::atomic<int> puts{0};
  std::string stored;
  fake->Put("/bucket/k", [&](const httplib::Request& req, httplib::Response& res) {
    if (puts++ == 0) {
      res.status = 503;
      res.set_content(s3_error("SlowDown", "req-slow-1"), "application/xml");
      return;
    }
    stored = req.body;
    res.set_header("ETag", "\"0123\"");
  });
  auto store = make_store(fake.endpoint());
  auto r = store->put({"bucket", "k"}, "the body");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->etag, "0123");
  EXPECT_EQ(puts.load(), 2);
  EXPECT_EQ(stored, "the body");
}

TEST(S3StoreFaults, persistent_throttling_is_unavailable_with_the_code_and_request_id) {
  FakeS3 fake;
  std::atomic<int> gets{0};
  fake->Get("/bucket/k", [&](const httplib::Request&, httplib::Response& res) {
    ++gets;
    res.status = 503;
    res.set_content(s3_error("SlowDown", "req-slow-2"), "application/xml");
  });
  auto store = make_store(fake.endpoint());
  auto r = store->get_bytes({"bucket", "k"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::unavailable);
  EXPECT_EQ(r.error().code, "SlowDown");
  EXPECT_NE(r.error().message.find("req-slow-2"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("3 attempts"), std::string::npos) << r.error().message;
  EXPECT_EQ(gets.load(), 3);
}

TEST(S3StoreFaults, request_timeout_in_a_400_is_retried) {
  FakeS3 fake;
  std::atomic<int> heads{0};
  fake->Get("/bucket/k", [&](const httplib::Request&, httplib::Response& res) {
    if (heads++ == 0) {
      res.status = 400;
      res.set_content(s3_error("RequestTimeout", "req-timeout"), "application/xml");
      return;
    }
    res.set_content("ok", "text/plain");
  });
  auto store = make_store(fake.endpoint());
  auto r = store->get_bytes({"bucket", "k"});
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(*r, "ok");
  EXPECT_EQ(heads.load(), 2);
}

TEST(S3StoreFaults, client_errors_are_not_retried_and_keep_their_kind) {
  FakeS3 fake;
  std::atomic<int> calls{0};
  fake->Get("/bucket/missing", [&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    res.status = 404;
    res.set_content(s3_error("NoSuchKey", "req-404"), "application/xml");
  });
  fake->Get("/bucket/secret", [&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    res.status = 403;
    res.set_content(s3_error("AccessDenied", "req-403"), "application/xml");
  });
  auto store = make_store(fake.endpoint());
  auto missing = store->get_bytes({"bucket", "missing"});
  EXPECT_EQ(missing.error().kind, ErrorKind::not_found);
  EXPECT_EQ(missing.error().code, "NoSuchKey");
  auto denied = store->get_bytes({"bucket", "secret"});
  EXPECT_EQ(denied.error().kind, ErrorKind::access_denied);
  EXPECT_NE(denied.error().message.find("req-403"), std::string::npos);
  EXPECT_EQ(calls.load(), 2);
}

TEST(S3StoreFaults, connection_reset_mid_upload_is_retried_with_the_whole_body) {
  const std::string body(512 * 1024, 'u');
  std::mutex mutex;
  std::vector<std::size_t> received;  // bytes each connection got before it ended
  std::string stored;
  RawServer server([&](int fd, int index) {
    const std::string head = RawServer::read_head(fd);
    const std::uint64_t length = RawServer::content_length(head);
    if (index == 0) {
      const std::size_t got = RawServer::read_bytes(fd, 64 * 1024);
      {
        std::lock_guard lock(mutex);
        received.push_back(got);
      }
      RawServer::reset(fd);  // mid-body
      return;
    }
    std::string data;
    RawServer::read_bytes(fd, static_cast<std::size_t>(length), &data);
    {
      std::lock_guard lock(mutex);
      received.push_back(data.size());
      stored = data;
    }
    RawServer::write_all(fd, "HTTP/1.1 200 OK\r\nETag: \"e\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    ::close(fd);
  });
  auto store = make_store(server.endpoint());
  auto r = store->put({"bucket", "k"}, body);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(stored, body);  // the retry carried every byte, from the start
  ASSERT_EQ(received.size(), 2u);
  EXPECT_LT(received[0], body.size());
}

// An in-memory multipart endpoint with switchable faults.
struct FakeMultipart {
  FakeS3 fake;
  std::mutex mutex;
  std::map<int, std::string> parts;
  int creates = 0, completes = 0, aborts = 0;
  int fail_part = 0;                // answer this part number with 403 AccessDenied
  bool complete_with_error = false;  // answer Complete with 200 + <Error>InternalError

  FakeMultipart() {
    fake->Post("/bucket/big", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex);
      if (req.has_param("uploads")) {
        ++creates;
        res.set_content("<InitiateMultipartUploadResult><Bucket>bucket</Bucket><Key>big</Key>"
                        "<UploadId>up-1</UploadId></InitiateMultipartUploadResult>",
                        "application/xml");
        return;
      }
      ++completes;
      if (complete_with_error) {
        res.set_content(s3_error("InternalError", "req-complete"), "application/xml");
        return;
      }
      res.set_content("<CompleteMultipartUploadResult><ETag>\"abc-2\"</ETag></CompleteMultipartUploadResult>",
                      "application/xml");
    });
    fake->Put("/bucket/big", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex);
      const int n = std::stoi(req.get_param_value("partNumber"));
      if (n == fail_part) {
        res.status = 403;
        res.set_content(s3_error("AccessDenied", "req-part"), "application/xml");
        return;
      }
      parts[n] = req.body;
      res.set_header("ETag", "\"part" + std::to_string(n) + "\"");
    });
    fake->Delete("/bucket/big", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex);
      if (req.get_param_value("uploadId") == "up-1") ++aborts;
      res.status = 204;
    });
  }
};

TEST(S3StoreFaults, a_failing_part_aborts_the_upload_and_never_completes_it) {
  FakeMultipart m;
  m.fail_part = 2;
  auto store = make_store(m.fake.endpoint());
  const std::string body(kS3MinPartSize * 2 + 100, 'p');
  auto r = store->put({"bucket", "big"}, body);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::access_denied);
  EXPECT_NE(r.error().message.find("UploadPart 2"), std::string::npos) << r.error().message;
  EXPECT_EQ(m.creates, 1);
  EXPECT_EQ(m.completes, 0);
  EXPECT_EQ(m.aborts, 1);
}

TEST(S3StoreFaults, a_complete_answered_200_with_an_error_is_an_error_and_aborts) {
  FakeMultipart m;
  m.complete_with_error = true;
  auto store = make_store(m.fake.endpoint());
  const std::string body(kS3MinPartSize + 100, 'c');
  auto r = store->put({"bucket", "big"}, body);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::unavailable);
  EXPECT_EQ(r.error().code, "InternalError");
  EXPECT_EQ(m.completes, 3);  // retried like a 5xx, up to max_attempts
  EXPECT_EQ(m.aborts, 1);
}

TEST(S3StoreFaults, multipart_parts_arrive_whole_and_in_order) {
  FakeMultipart m;
  auto store = make_store(m.fake.endpoint());
  std::string body(kS3MinPartSize * 3 + 7, '\0');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>((i * 31 + i / 4096) & 0xFF);
  auto r = store->put({"bucket", "big"}, body);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->etag, "abc-2");
  ASSERT_EQ(m.parts.size(), 4u);
  std::string joined;
  for (const auto& [n, bytes] : m.parts) joined += bytes;
  EXPECT_EQ(joined, body);
  EXPECT_EQ(m.parts.at(1).size(), kS3MinPartSize);
  EXPECT_EQ(m.parts.at(4).size(), 7u);
  EXPECT_EQ(m.aborts, 0);
}

}  // namespace
}  // namespace thumbflow::storage
