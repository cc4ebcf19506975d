// The local S3 endpoint driven by real S3 clients as child processes, and by hand-built
// requests for what the clients here do not send (signed aws-chunked bodies, limits, races).
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>

#include <array>
#include <atomic>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "aws/sigv4.hpp"
#include "server/checksums.hpp"
#include "server/s3_server.hpp"
#include "test_support.hpp"

namespace thumbflow::server {
namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;

const std::string kBucket(kDefaultBucket);

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xFF);
  return s;
}

std::string md5_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md.data(), &n, EVP_md5(), nullptr);
  return aws::hex_lower(std::span<const unsigned char>(md.data(), n));
}

class S3Endpoint : public ::testing::Test {
 protected:
  void SetUp() override { start({}); }
  // The server first: its threads (joined here) write events_, which is destroyed before server_
  // would be (found by TSan).
  void TearDown() override { server_.reset(); }

  void start(S3ServerConfig config) {
    server_.reset();
    key_ = generate_access_key();
    ASSERT_TRUE(prepare_data_folder(data_dir()));
    config.port = 0;
    server_ = std::make_unique<S3Server>(data_dir(), KeyRing({key_}), config);
    server_->on_object_created([this](const ObjectCreated& e) -> Status {
      std::lock_guard lock(events_mutex_);
      if (hook_failures_ > 0) {
        --hook_failures_;
        return make_error(ErrorKind::unavailable, "the queue is full (test)");
      }
      events_.push_back(e);
      return ok_status();
    });
    ASSERT_TRUE(server_->start());
    std::ofstream(dir_.path() / "aws-config") << "[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n";
  }

  fs::path data_dir() const { return dir_.path() / "data"; }
  fs::path work(const std::string& name) const { return dir_.path() / name; }

  // Runs a client with the endpoint's credentials (or a wrong secret) in its environment.
  test::ProcessResult run(std::vector<std::string> argv, bool wrong_secret = false) {
    std::vector<std::string> full = {"/usr/bin/env",
                                     "AWS_ACCESS_KEY_ID=" + key_.access_key_id,
                                     "AWS_SECRET_ACCESS_KEY=" + (wrong_secret ? "wrong" + key_.secret_access_key
                                                                              : key_.secret_access_key),
                                     "AWS_DEFAULT_REGION=us-east-1",
                                     "AWS_REGION=us-east-1",
                                     "AWS_CONFIG_FILE=" + work("aws-config").string(),
                                     "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
                                     "AWS_EC2_METADATA_DISABLED=true",
                                     "AWS_PAGER=",
                                     "S3_ENDPOINT=" + server_->endpoint(),
                                     "S3_BUCKET=" + kBucket,
                                     "WORK_DIR=" + dir_.path().string()};
    full.insert(full.end(), argv.begin(), argv.end());
    return test::run_process(full);
  }

  test::ProcessResult aws(std::vector<std::string> args, bool wrong_secret = false) {
    std::vector<std::string> argv = {"/usr/bin/aws", "--endpoint-url", server_->endpoint()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, wrong_secret);
  }

  std::vector<ObjectCreated> events() {
    std::lock_guard lock(events_mutex_);
    return events_;
  }

  // A request signed by our signer and sent with cpp-httplib's client.
  httplib::Result send(const std::string& method, const std::string& path, const std::string& query,
                       aws::Headers headers, const std::string& body, const std::string& payload_hash,
                       Clock::time_point at = Clock::now(), const AccessKey* key = nullptr) {
    const AccessKey& k = key ? *key : key_;
    aws::Request r;
    r.method = method;
    r.path = path;
    r.query = query;
    headers.push_back({"Host", "127.0.0.1:" + std::to_string(server_->port())});
    r.headers = headers;
    r.payload_hash = payload_hash;
    auto s = aws::sign_request(r, {k.access_key_id, k.secret_access_key, ""}, {"us-east-1", "s3"}, at);
    EXPECT_TRUE(s) << s.error().message;
    httplib::Headers h;
    for (const auto& x : headers)
      if (x.name != "Host") h.emplace(x.name, x.value);
    for (const auto& x : s->headers_to_set) h.emplace(x.name, x.value);
    httplib::Client cli("127.0.0.1", server_->port());
    cli.set_read_timeout(30, 0);
    const std::string target = path + (query.empty() ? "" : "?" + query);
    httplib::Request req;
    req.method = method;
    req.path = target;
    req.headers = h;
    req.body = body;
    return cli.send(req);
  }

  test::TempDir dir_;
  AccessKey key_;
  std::unique_ptr<S3Server> server_;
  std::mutex events_mutex_;
  std::vector<ObjectCreated> events_;
  int hook_failures_ = 0;  // the hook refuses this many events before accepting again
};

std::string show(const test::ProcessResult& r) { return "exit " + std::to_string(r.exit_code) + "\n" + r.out + r.err; }

// ---- AWS CLI ----------------------------------------------------------------------------------

TEST_F(S3Endpoint, aws_cli_copies_lists_and_removes_objects) {
  const std::string image = random_bytes(300'000, 1);
  test::write_bytes(work("test-image.jpg"), image);
  auto up = aws({"s3", "cp", work("test-image.jpg").string(), "s3://" + kBucket + "/uploads/", "--only-show-errors"});
  ASSERT_EQ(up.exit_code, 0) << show(up);
  auto down = aws({"s3", "cp", "s3://" + kBucket + "/uploads/test-image.jpg", work("back.jpg").string(),
                   "--only-show-errors"});
  ASSERT_EQ(down.exit_code, 0) << show(down);
  EXPECT_EQ(test::read_bytes(work("back.jpg")), image);

  auto ls = aws({"s3", "ls", "s3://" + kBucket + "/uploads/"});
  ASSERT_EQ(ls.exit_code, 0) << show(ls);
  EXPECT_NE(ls.out.find("300000 test-image.jpg"), std::string::npos) << ls.out;

  auto head = aws({"s3api", "head-object", "--bucket", kBucket, "--key", "uploads/test-image.jpg"});
  ASSERT_EQ(head.exit_code, 0) << show(head);
  EXPECT_NE(head.out.find("\"ContentLength\": 300000"), std::string::npos) << head.out;
  EXPECT_NE(head.out.find(md5_hex(image)), std::string::npos) << head.out;

  auto rm = aws({"s3", "rm", "s3://" + kBucket + "/uploads/", "--recursive", "--only-show-errors"});
  ASSERT_EQ(rm.exit_code, 0) << show(rm);
  EXPECT_FALSE(server_->store().head({kBucket, "uploads/test-image.jpg"}));
}

TEST_F(S3Endpoint, aws_cli_syncs_a_tree_both_ways_and_pages_listings) {
  const fs::path src = work("tree"), dst = work("copy");
  fs::create_directories(src / "a b" / "c");
  std::map<std::string, std::string> files = {{"one.txt", "1"},
                                              {"a b/two+three.bin", random_bytes(70'000, 2)},
                                              {"a b/c/ünïcode.txt", "u"},
                                              {"a b/c/empty", ""}};
  for (const auto& [name, bytes] : files) test::write_bytes(src / name, bytes);
  auto up = aws({"s3", "sync", src.string(), "s3://" + kBucket + "/synced", "--only-show-errors"});
  ASSERT_EQ(up.exit_code, 0) << show(up);
  auto again = aws({"s3", "sync", src.string(), "s3://" + kBucket + "/synced"});
  ASSERT_EQ(again.exit_code, 0) << show(again);
  EXPECT_EQ(again.out.find("upload:"), std::string::npos) << "a second sync re-uploaded:\n" << again.out;
  auto down = aws({"s3", "sync", "s3://" + kBucket + "/synced", dst.string(), "--only-show-errors"});
  ASSERT_EQ(down.exit_code, 0) << show(down);
  for (const auto& [name, bytes] : files) EXPECT_EQ(test::read_bytes(dst / name), bytes) << name;

  // Two keys a page: continuation tokens carry the listing.
  auto paged = aws({"s3api", "list-objects-v2", "--bucket", kBucket, "--prefix", "synced/", "--page-size", "2",
                    "--query", "Contents[].Key", "--output", "text"});
  ASSERT_EQ(paged.exit_code, 0) << show(paged);
  for (const auto& [name, bytes] : files) EXPECT_NE(paged.out.find(name), std::string::npos) << paged.out;
  auto v1 = aws({"s3api", "list-objects", "--bucket", kBucket, "--prefix", "synced/", "--delimiter", "/",
                 "--page-size", "1", "--query", "[Contents[].Key, CommonPrefixes[].Prefix]", "--output", "text"});
  ASSERT_EQ(v1.exit_code, 0) << show(v1);
  EXPECT_NE(v1.out.find("synced/one.txt"), std::string::npos) << v1.out;
  EXPECT_NE(v1.out.find("synced/a b/"), std::string::npos) << v1.out;
}

TEST_F(S3Endpoint, aws_cli_uploads_40_mb_through_multipart) {
  const std::string big = random_bytes(40'000'000, 3);
  test::write_bytes(work("big.bin"), big);
  auto up = aws({"s3", "cp", work("big.bin").string(), "s3://" + kBucket + "/uploads/big.bin", "--only-show-errors"});
  ASSERT_EQ(up.exit_code, 0) << show(up);
  auto head = server_->store().head({kBucket, "uploads/big.bin"});
  ASSERT_TRUE(head);
  EXPECT_TRUE(head->etag.ends_with("-5")) << head->etag;  // 8 MiB parts
  auto down = aws({"s3", "cp", "s3://" + kBucket + "/uploads/big.bin", work("big2.bin").string(), "--only-show-errors"});
  ASSERT_EQ(down.exit_code, 0) << show(down);
  EXPECT_TRUE(test::read_bytes(work("big2.bin")) == big);
  bool completed = false;
  for (const auto& e : events())
    completed |= e.key == "uploads/big.bin" && e.event_name == "ObjectCreated:CompleteMultipartUpload" &&
                 e.size == big.size();
  EXPECT_TRUE(completed);
}

TEST_F(S3Endpoint, aws_cli_s3api_multipart_lists_and_aborts) {
  auto create = aws({"s3api", "create-multipart-upload", "--bucket", kBucket, "--key", "mp/obj", "--query",
                     "UploadId", "--output", "text"});
  ASSERT_EQ(create.exit_code, 0) << show(create);
  std::string id = create.out.substr(0, create.out.find_first_of("\r\n"));
  test::write_bytes(work("part2"), "tail");
  for (int n : {2}) {
    auto part = aws({"s3api", "upload-part", "--bucket", kBucket, "--key", "mp/obj", "--upload-id", id,
                     "--part-number", std::to_string(n), "--body", work("part" + std::to_string(n)).string()});
    ASSERT_EQ(part.exit_code, 0) << show(part);
  }
  auto uploads = aws({"s3api", "list-multipart-uploads", "--bucket", kBucket, "--query", "Uploads[].UploadId",
                      "--output", "text"});
  ASSERT_EQ(uploads.exit_code, 0) << show(uploads);
  EXPECT_NE(uploads.out.find(id), std::string::npos);
  auto parts = aws({"s3api", "list-parts", "--bucket", kBucket, "--key", "mp/obj", "--upload-id", id, "--query",
                    "Parts[].[PartNumber,Size]", "--output", "text"});
  ASSERT_EQ(parts.exit_code, 0) << show(parts);
  EXPECT_NE(parts.out.find("2\t4"), std::string::npos) << parts.out;
  auto abort = aws({"s3api", "abort-multipart-upload", "--bucket", kBucket, "--key", "mp/obj", "--upload-id", id});
  ASSERT_EQ(abort.exit_code, 0) << show(abort);
  EXPECT_FALSE(fs::exists(data_dir() / ".uploads" / id));
}

TEST_F(S3Endpoint, aws_cli_with_a_wrong_secret_is_refused) {
  auto r = aws({"s3", "ls", "s3://" + kBucket}, true);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("SignatureDoesNotMatch"), std::string::npos) << show(r);
}

// ---- boto3 and the JavaScript SDK ---------------------------------------------------------------

TEST_F(S3Endpoint, boto3_transfers_presigns_and_is_refused_with_a_wrong_secret) {
  auto r = run({"/usr/bin/python3", std::string(THUMBFLOW_SERVER_TEST_DIR) + "/boto3_client.py"});
  EXPECT_EQ(r.exit_code, 0) << show(r);
  EXPECT_NE(r.out.find("boto3: all checks passed"), std::string::npos) << show(r);
}

TEST_F(S3Endpoint, javascript_sdk_v3_with_default_checksums) {
  auto r = run({"node", std::string(THUMBFLOW_SERVER_TEST_DIR) + "/sdk_js_client.mjs"});
  EXPECT_EQ(r.exit_code, 0) << show(r);
  EXPECT_NE(r.out.find("sdk-js: all checks passed"), std::string::npos) << show(r);
}

// ---- hand-built requests ------------------------------------------------------------------------

std::string chunk_signature(const aws::Digest& key, const std::string& amz_date, const std::string& scope,
                            const std::string& previous, std::string_view data) {
  const std::string sts = "AWS4-HMAC-SHA256-PAYLOAD\n" + amz_date + "\n" + scope + "\n" + previous + "\n" +
                          std::string(aws::kEmptyPayloadSha256) + "\n" + aws::sha256_hex(data);
  return aws::hex_lower(aws::hmac_sha256(key, sts));
}

TEST_F(S3Endpoint, accepts_signed_aws_chunked_uploads_and_refuses_a_broken_chain) {
  const std::string payload = random_bytes(200'000, 5);
  const auto at = Clock::now();
  auto make_body = [&](const std::string& seed, bool tamper) {
    const std::string amz_date = *aws::format_amz_date(at);
    const std::string date = amz_date.substr(0, 8);
    const aws::Digest key = aws::signing_key(key_.secret_access_key, date, "us-east-1", "s3");
    const std::string scope = aws::credential_scope(date, "us-east-1", "s3");
    std::string body, prev = seed;
    for (std::size_t off = 0; off <= payload.size(); off += 65536) {
      const std::string_view chunk = std::string_view(payload).substr(off, std::min<std::size_t>(65536, payload.size() - off));
      prev = chunk_signature(key, amz_date, scope, prev, chunk);
      char size[32];
      std::snprintf(size, sizeof size, "%zx", chunk.size());
      body += std::string(size) + ";chunk-signature=" + prev + "\r\n" + std::string(chunk) + "\r\n";
      if (chunk.empty()) break;
      if (off + 65536 >= payload.size()) {
        prev = chunk_signature(key, amz_date, scope, prev, "");
        body += "0;chunk-signature=" + prev + "\r\n\r\n";
        break;
      }
    }
    if (tamper) body[200] ^= 1;
    return body;
  };
  // The seed is the request's own signature: sign the headers first, then build the chunks.
  for (bool tamper : {false, true}) {
    aws::Headers headers = {{"Content-Encoding", "aws-chunked"},
                            {"x-amz-decoded-content-length", std::to_string(payload.size())}};
    // Content-Length is not signed here; the body length depends on the signatures.
    const std::string probe = make_body(std::string(64, '0'), false);
    headers.push_back({"Content-Length", std::to_string(probe.size())});
    aws::Request r;
    r.method = "PUT";
    r.path = "/" + kBucket + "/chunked.bin";
    r.headers = headers;
    r.headers.push_back({"Host", "127.0.0.1:" + std::to_string(server_->port())});
    r.payload_hash = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
    auto s = aws::sign_request(r, {key_.access_key_id, key_.secret_access_key, ""}, {"us-east-1", "s3"}, at);
    ASSERT_TRUE(s);
    const std::string body = make_body(s->signature, tamper);
    ASSERT_EQ(body.size(), probe.size());
    httplib::Headers h;
    for (const auto& x : headers) h.emplace(x.name, x.value);
    for (const auto& x : s->headers_to_set) h.emplace(x.name, x.value);
    httplib::Client cli("127.0.0.1", server_->port());
    httplib::Request req;
    req.method = "PUT";
    req.path = r.path;
    req.headers = h;
    req.body = body;
    auto res = cli.send(req);
    ASSERT_TRUE(res);
    if (!tamper) {
      EXPECT_EQ(res->status, 200) << res->body;
      EXPECT_EQ(*server_->store().get_bytes({kBucket, "chunked.bin"}), payload);
      EXPECT_EQ(res->get_header_value("ETag"), "\"" + md5_hex(payload) + "\"");
    } else {
      EXPECT_EQ(res->status, 403) << res->body;
      EXPECT_NE(res->body.find("SignatureDoesNotMatch"), std::string::npos) << res->body;
    }
  }
}

TEST_F(S3Endpoint, verifies_unsigned_trailer_checksums_and_content_md5) {
  const std::string crc_ok = base64_encode(std::string("\xCB\xF4\x39\x26", 4));
  for (const std::string& crc : {crc_ok, std::string("AAAAAA==")}) {
    const std::string body = "9\r\n123456789\r\n0\r\nx-amz-checksum-crc32:" + crc + "\r\n\r\n";
    auto res = send("PUT", "/" + kBucket + "/trailer.txt", "",
                    {{"Content-Encoding", "aws-chunked"}, {"x-amz-decoded-content-length", "9"},
                     {"x-amz-trailer", "x-amz-checksum-crc32"}},
                    body, "STREAMING-UNSIGNED-PAYLOAD-TRAILER");
    ASSERT_TRUE(res);
    if (crc == crc_ok) {
      EXPECT_EQ(res->status, 200) << res->body;
      EXPECT_EQ(res->get_header_value("x-amz-checksum-crc32"), crc_ok);
    } else {
      EXPECT_EQ(res->status, 400) << res->body;
      EXPECT_NE(res->body.find("BadDigest"), std::string::npos) << res->body;
    }
  }
  EXPECT_EQ(*server_->store().get_bytes({kBucket, "trailer.txt"}), "123456789");
  auto bad_md5 = send("PUT", "/" + kBucket + "/md5.txt", "", {{"Content-MD5", "XUFAKrxLKna5cZ2REBfFkg=="}}, "hellO",
                      aws::sha256_hex("hellO"));
  ASSERT_TRUE(bad_md5);
  EXPECT_EQ(bad_md5->status, 400);
  EXPECT_NE(bad_md5->body.find("BadDigest"), std::string::npos);
  auto bad_sha = send("PUT", "/" + kBucket + "/sha.txt", "", {}, "hello", aws::sha256_hex("other"));
  ASSERT_TRUE(bad_sha);
  EXPECT_EQ(bad_sha->status, 400);
  EXPECT_NE(bad_sha->body.find("XAmzContentSHA256Mismatch"), std::string::npos);
  EXPECT_FALSE(server_->store().head({kBucket, "md5.txt"}));
  EXPECT_FALSE(server_->store().head({kBucket, "sha.txt"}));
}

TEST_F(S3Endpoint, refuses_stale_and_unsigned_requests) {
  auto stale = send("GET", "/" + kBucket, "list-type=2", {}, "", std::string(aws::kEmptyPayloadSha256),
                    Clock::now() - std::chrono::minutes(16));
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->status, 403);
  EXPECT_NE(stale->body.find("RequestTimeTooSkewed"), std::string::npos);
  httplib::Client cli("127.0.0.1", server_->port());
  auto anonymous = cli.Get("/" + kBucket);
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 403);
  EXPECT_NE(anonymous->body.find("<Code>AccessDenied</Code>"), std::string::npos);
  const AccessKey stranger{"NOBODY", "x"};
  auto unknown = send("GET", "/", "", {}, "", std::string(aws::kEmptyPayloadSha256), Clock::now(), &stranger);
  ASSERT_TRUE(unknown);
  EXPECT_NE(unknown->body.find("InvalidAccessKeyId"), std::string::npos);
}

TEST_F(S3Endpoint, enforces_limits_at_the_edge) {
  S3ServerConfig small;
  small.max_object_bytes = 1000;
  small.max_user_metadata_bytes = 20;
  small.max_header_bytes = 4096;
  start(small);
  const std::string h = std::string(aws::kUnsignedPayload);
  auto at_limit = send("PUT", "/" + kBucket + "/k", "", {}, std::string(1000, 'x'), h);
  ASSERT_TRUE(at_limit);
  EXPECT_EQ(at_limit->status, 200) << at_limit->body;
  auto over = send("PUT", "/" + kBucket + "/k", "", {}, std::string(1001, 'x'), h);
  ASSERT_TRUE(over);
  EXPECT_EQ(over->status, 400);
  EXPECT_NE(over->body.find("EntityTooLarge"), std::string::npos);
  // The connection stays usable after the refused body was drained.
  EXPECT_EQ(send("GET", "/" + kBucket + "/k", "", {}, "", h)->body, std::string(1000, 'x'));

  auto key_of = [](std::size_t n) {  // segments of 200 bytes: LocalStore keeps names under NAME_MAX
    std::string k;
    while (k.size() < n) k += (k.size() % 201 == 200) ? '/' : 'k';
    return k;
  };
  EXPECT_EQ(send("PUT", "/" + kBucket + "/" + key_of(1024), "", {}, "x", h)->status, 200);
  auto long_key = send("PUT", "/" + kBucket + "/" + key_of(1025), "", {}, "x", h);
  EXPECT_EQ(long_key->status, 400);
  EXPECT_NE(long_key->body.find("KeyTooLongError"), std::string::npos);

  EXPECT_EQ(send("PUT", "/" + kBucket + "/m", "", {{"x-amz-meta-abc", std::string(17, 'v')}}, "x", h)->status, 200);
  auto meta = send("PUT", "/" + kBucket + "/m", "", {{"x-amz-meta-abc", std::string(18, 'v')}}, "x", h);
  EXPECT_NE(meta->body.find("MetadataTooLarge"), std::string::npos);
  auto headers = send("GET", "/" + kBucket + "/m", "", {{"x-big", std::string(4000, 'h')}}, "", h);
  EXPECT_NE(headers->body.find("RequestHeaderSectionTooLarge"), std::string::npos);
}

TEST_F(S3Endpoint, serves_ranges_and_conditional_gets) {
  ASSERT_TRUE(send("PUT", "/" + kBucket + "/r.txt", "", {}, "0123456789", aws::sha256_hex("0123456789")));
  const std::string h(aws::kEmptyPayloadSha256);
  auto part = send("GET", "/" + kBucket + "/r.txt", "", {{"Range", "bytes=2-4"}}, "", h);
  EXPECT_EQ(part->status, 206);
  EXPECT_EQ(part->body, "234");
  EXPECT_EQ(part->get_header_value("Content-Range"), "bytes 2-4/10");
  EXPECT_EQ(send("GET", "/" + kBucket + "/r.txt", "", {{"Range", "bytes=-3"}}, "", h)->body, "789");
  EXPECT_EQ(send("GET", "/" + kBucket + "/r.txt", "", {{"Range", "bytes=7-"}}, "", h)->body, "789");
  auto unsatisfiable = send("GET", "/" + kBucket + "/r.txt", "", {{"Range", "bytes=10-20"}}, "", h);
  EXPECT_EQ(unsatisfiable->status, 416);
  EXPECT_NE(unsatisfiable->body.find("InvalidRange"), std::string::npos);
  const std::string etag = "\"" + md5_hex("0123456789") + "\"";
  EXPECT_EQ(send("GET", "/" + kBucket + "/r.txt", "", {{"If-None-Match", etag}}, "", h)->status, 304);
  EXPECT_EQ(send("GET", "/" + kBucket + "/r.txt", "", {{"If-Match", "\"nope\""}}, "", h)->status, 412);
  EXPECT_EQ(send("GET", "/" + kBucket + "/r.txt", "", {{"If-Match", etag}}, "", h)->status, 200);
  EXPECT_EQ(send("GET", "/" + kBucket + "/r.txt", "", {{"If-Modified-Since", "Sun, 06 Nov 2044 08:49:37 GMT"}}, "", h)
                ->status,
            304);
  EXPECT_EQ(send("GET", "/" + kBucket + "/r.txt", "", {{"If-Unmodified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"}}, "", h)
                ->status,
            412);
  auto missing = send("GET", "/" + kBucket + "/none", "", {}, "", h);
  EXPECT_EQ(missing->status, 404);
  EXPECT_NE(missing->body.find("<Code>NoSuchKey</Code>"), std::string::npos);
  auto no_bucket = send("GET", "/no-such-bucket/x", "", {}, "", h);
  EXPECT_NE(no_bucket->body.find("<Code>NoSuchBucket</Code>"), std::string::npos);
  auto none_asked = send("GET", "/" + kBucket, "list-type=2&max-keys=0", {}, "", h);
  EXPECT_NE(none_asked->body.find("<IsTruncated>false</IsTruncated>"), std::string::npos) << none_asked->body;
  auto twice = send("PUT", "/" + kBucket, "", {}, "", h);
  EXPECT_EQ(twice->status, 409);
  EXPECT_NE(twice->body.find("BucketAlreadyOwnedByYou"), std::string::npos);
}

// Eight writers of 2 MB bodies to one key at once: the object is always one whole body.
TEST_F(S3Endpoint, concurrent_writers_to_one_key_leave_one_whole_body) {
  std::vector<std::string> bodies;
  for (unsigned i = 0; i < 8; ++i) bodies.push_back(random_bytes(2'000'000, 100 + i));
  std::atomic<int> ok{0};
  std::vector<std::thread> writers;
  for (const auto& b : bodies)
    writers.emplace_back([&, b] {
      auto r = send("PUT", "/" + kBucket + "/race.bin", "", {}, b, aws::sha256_hex(b));
      if (r && r->status == 200) ++ok;
    });
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    auto got = server_->store().get_bytes({kBucket, "race.bin"});
    if (got) seen.insert(md5_hex(*got));
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(ok.load(), 8);
  std::set<std::string> valid;
  for (const auto& b : bodies) valid.insert(md5_hex(b));
  auto final_bytes = server_->store().get_bytes({kBucket, "race.bin"});
  ASSERT_TRUE(final_bytes);
  EXPECT_TRUE(valid.count(md5_hex(*final_bytes)));
  for (const auto& s : seen) EXPECT_TRUE(valid.count(s));
  EXPECT_TRUE(fs::is_empty(data_dir() / ".tmp"));
}

TEST_F(S3Endpoint, reports_created_objects_to_the_hook_in_sequencer_order) {
  const std::string h = std::string(aws::kUnsignedPayload);
  ASSERT_EQ(send("PUT", "/" + kBucket + "/uploads/a.jpg", "", {}, "abc", h)->status, 200);
  ASSERT_EQ(send("PUT", "/" + kBucket + "/uploads/b.jpg", "", {{"x-amz-copy-source", "/" + kBucket + "/uploads/a.jpg"}},
                 "", h)
                ->status,
            200);
  auto e = events();
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].event_name, "ObjectCreated:Put");
  EXPECT_EQ(e[0].key, "uploads/a.jpg");
  EXPECT_EQ(e[0].size, 3u);
  EXPECT_EQ(e[0].etag, md5_hex("abc"));
  EXPECT_EQ(e[0].source, "thumbflow");
  EXPECT_EQ(e[1].event_name, "ObjectCreated:Copy");
  EXPECT_EQ(e[1].bucket, kBucket);
  EXPECT_LT(compare_sequencers(e[0].sequencer, e[1].sequencer), 0);
  EXPECT_EQ(*server_->store().get_bytes({kBucket, "uploads/b.jpg"}), "abc");
}

TEST_F(S3Endpoint, an_upload_whose_job_cannot_be_queued_is_refused_with_503_and_the_retry_is_announced) {
  const std::string h = std::string(aws::kUnsignedPayload);
  {
    std::lock_guard lock(events_mutex_);
    hook_failures_ = 1;
  }
  auto refused = send("PUT", "/" + kBucket + "/uploads/a.jpg", "", {}, "abc", h);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_NE(refused->body.find("<Code>ServiceUnavailable</Code>"), std::string::npos) << refused->body;
  EXPECT_NE(refused->body.find("uploads/a.jpg"), std::string::npos) << refused->body;
  EXPECT_TRUE(events().empty());
  // The AWS CLI retries a 503 by itself; the retried PUT is announced once.
  {
    std::lock_guard lock(events_mutex_);
    hook_failures_ = 1;
  }
  const fs::path f = work("photo.jpg");
  std::ofstream(f) << "not really a photo";
  auto cp = aws({"s3", "cp", f.string(), "s3://" + kBucket + "/uploads/photo.jpg"});
  ASSERT_EQ(cp.exit_code, 0) << show(cp);
  auto e = events();
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].key, "uploads/photo.jpg");
}

TEST_F(S3Endpoint, aws_cli_representation_headers_are_stored_and_returned) {
  test::write_bytes(work("report.pdf"), "not really a pdf");
  auto up = aws({"s3", "cp", work("report.pdf").string(), "s3://" + kBucket + "/docs/report.pdf", "--only-show-errors",
                 "--content-type", "application/pdf", "--content-disposition", "attachment; filename=\"Q3 report.pdf\"",
                 "--content-language", "de-CH", "--cache-control", "no-cache", "--expires", "2099-12-01T16:00:00Z"});
  ASSERT_EQ(up.exit_code, 0) << show(up);
  auto head = aws({"s3api", "head-object", "--bucket", kBucket, "--key", "docs/report.pdf"});
  ASSERT_EQ(head.exit_code, 0) << show(head);
  auto j = nlohmann::json::parse(head.out);
  EXPECT_EQ(j["ContentType"], "application/pdf");
  EXPECT_EQ(j["ContentDisposition"], "attachment; filename=\"Q3 report.pdf\"");
  EXPECT_EQ(j["ContentLanguage"], "de-CH");
  EXPECT_EQ(j["CacheControl"], "no-cache");
  EXPECT_NE(j.value("ExpiresString", j.value("Expires", std::string())).find("2099"), std::string::npos) << head.out;
  // A copy keeps them; a presigned-style override on GET replaces one for that response only.
  auto cp = aws({"s3", "cp", "s3://" + kBucket + "/docs/report.pdf", "s3://" + kBucket + "/docs/copy.pdf",
                 "--only-show-errors"});
  ASSERT_EQ(cp.exit_code, 0) << show(cp);
  auto copied = nlohmann::json::parse(aws({"s3api", "head-object", "--bucket", kBucket, "--key", "docs/copy.pdf"}).out);
  EXPECT_EQ(copied["ContentDisposition"], "attachment; filename=\"Q3 report.pdf\"");
  auto get = aws({"s3api", "get-object", "--bucket", kBucket, "--key", "docs/report.pdf", "--response-content-disposition",
                  "inline", work("got.pdf").string()});
  ASSERT_EQ(get.exit_code, 0) << show(get);
  EXPECT_EQ(nlohmann::json::parse(get.out)["ContentDisposition"], "inline");
}

}  // namespace
}  // namespace thumbflow::server
