#include "object_store_contract.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <set>
#include <vector>

namespace thumbflow::storage::contract {
namespace {

// Prints the error when a Result or Status is not ok.
#define ASSERT_OK(expr)                                                   \
  do {                                                                    \
    const auto& _r = (expr);                                              \
    ASSERT_TRUE(_r.ok()) << #expr << ": " << _r.error().describe();       \
  } while (0)
#define EXPECT_OK(expr)                                                   \
  do {                                                                    \
    const auto& _r = (expr);                                              \
    EXPECT_TRUE(_r.ok()) << #expr << ": " << _r.error().describe();       \
  } while (0)

// Deterministic, non-repeating-looking bytes (so a part in the wrong place is caught).
std::string pattern(std::size_t n, std::uint32_t seed) {
  std::string out(n, '\0');
  std::uint32_t x = seed * 2654435761u + 1;
  for (std::size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    out[i] = static_cast<char>(x & 0xFF);
  }
  return out;
}

// A ByteSource over a string that hands out odd-sized chunks.
struct ChunkedSource {
  const std::string& data;
  std::size_t offset = 0;
  std::size_t max_chunk = 65537;
  Result<std::size_t> operator()(char* buf, std::size_t cap) {
    const std::size_t n = std::min({cap, max_chunk, data.size() - offset});
    std::copy_n(data.data() + offset, n, buf);
    offset += n;
    return n;
  }
};

std::vector<std::string> all_keys(ObjectStore& store, const std::string& bucket, ListOptions opts = {}) {
  std::vector<std::string> keys;
  for (int page = 0; page < 1000; ++page) {
    auto r = store.list(bucket, opts);
    if (!r) {
      ADD_FAILURE() << r.error().describe();
      break;
    }
    for (const auto& o : r->objects) keys.push_back(o.key);
    if (!r->truncated) break;
    opts.continuation_token = r->next_continuation_token;
  }
  return keys;
}

}  // namespace

std::string backend_name(const ::testing::TestParamInfo<Backend>& info) { return info.param.name; }

std::string ObjectStoreContract::unique_bucket(const std::string& backend) {
  static std::atomic<int> counter{0};
  static const std::uint32_t run = std::random_device{}();
  char buf[64];
  std::snprintf(buf, sizeof buf, "tf-%s-%d-%08x-%d", backend.c_str(), static_cast<int>(::getpid() % 100000), run,
                counter++);
  return buf;
}

void ObjectStoreContract::SetUp() {
  store_ = GetParam().make();
  ASSERT_NE(store_, nullptr) << "no store for " << GetParam().name;
  bucket_ = unique_bucket(GetParam().name);
  ASSERT_OK(store_->create_bucket(bucket_));
}

void ObjectStoreContract::TearDown() {
  if (store_ && !bucket_.empty()) empty_and_delete(*store_, bucket_);
}

void ObjectStoreContract::empty_and_delete(ObjectStore& store, const std::string& bucket) {
  for (const auto& key : all_keys(store, bucket)) EXPECT_OK(store.remove({bucket, key}));
  EXPECT_OK(store.delete_bucket(bucket));
}

// ---- Basics ------------------------------------------------------------------------------------

TEST_P(ObjectStoreContract, put_get_head_delete_round_trip) {
  const std::string body = pattern(10'000, 1);
  auto put = store_->put(ref("photos/cat.jpg"), body);
  ASSERT_OK(put);
  EXPECT_FALSE(put->etag.empty());
  EXPECT_EQ(put->etag.find('"'), std::string::npos);

  auto got = store_->get_bytes(ref("photos/cat.jpg"));
  ASSERT_OK(got);
  EXPECT_EQ(*got, body);

  auto head = store_->head(ref("photos/cat.jpg"));
  ASSERT_OK(head);
  EXPECT_EQ(head->size, body.size());
  EXPECT_EQ(head->etag, put->etag);
  EXPECT_GT(head->last_modified.time_since_epoch().count(), 0);

  ASSERT_OK(store_->remove(ref("photos/cat.jpg")));
  EXPECT_EQ(store_->head(ref("photos/cat.jpg")).error().kind, ErrorKind::not_found);
}

TEST_P(ObjectStoreContract, an_empty_object_round_trips) {
  ASSERT_OK(store_->put(ref("empty"), ""));
  auto got = store_->get_bytes(ref("empty"));
  ASSERT_OK(got);
  EXPECT_EQ(*got, "");
  EXPECT_EQ(store_->head(ref("empty"))->size, 0u);
}

TEST_P(ObjectStoreContract, overwrite_replaces_the_object) {
  ASSERT_OK(store_->put(ref("k"), "first"));
  ASSERT_OK(store_->put(ref("k"), "second version"));
  EXPECT_EQ(*store_->get_bytes(ref("k")), "second version");
}

TEST_P(ObjectStoreContract, missing_objects_and_buckets_are_not_found) {
  auto get = store_->get_bytes(ref("no/such/key"));
  ASSERT_FALSE(get.ok());
  EXPECT_EQ(get.error().kind, ErrorKind::not_found) << get.error().describe();
  EXPECT_EQ(store_->head(ref("no/such/key")).error().kind, ErrorKind::not_found);
  auto other = store_->get_bytes({bucket_ + "-missing", "k"});
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().kind, ErrorKind::not_found) << other.error().describe();
  EXPECT_EQ(store_->list(bucket_ + "-missing").error().kind, ErrorKind::not_found);
  // Deleting a missing key succeeds, as in S3.
  EXPECT_OK(store_->remove(ref("no/such/key")));
}

TEST_P(ObjectStoreContract, metadata_and_content_type_round_trip) {
  PutOptions o;
  o.content_type = "image/webp";
  o.cache_control = "public, max-age=31536000, immutable";
  o.user_metadata = {{"source-key", "uploads/IMG 0001.jpg"}, {"width", "320"}};
  o.stored_headers = {{"content-disposition", "attachment; filename=\"IMG 0001.webp\""},
                      {"content-language", "fr"},
                      {"expires", "Thu, 01 Dec 2099 16:00:00 GMT"}};
  ASSERT_OK(store_->put(ref("r/320.webp"), "RIFF....WEBP", o));
  auto head = store_->head(ref("r/320.webp"));
  ASSERT_OK(head);
  EXPECT_EQ(head->content_type, "image/webp");
  EXPECT_EQ(head->cache_control, "public, max-age=31536000, immutable");
  EXPECT_EQ(head->user_metadata, o.user_metadata);
  EXPECT_EQ(head->stored_headers, o.stored_headers);

  std::string body;
  auto meta = store_->get(ref("r/320.webp"), [&](std::string_view c) -> Status {
    body.append(c);
    return ok_status();
  });
  ASSERT_OK(meta);
  EXPECT_EQ(body, "RIFF....WEBP");
  EXPECT_EQ(meta->content_type, "image/webp");
  EXPECT_EQ(meta->user_metadata, o.user_metadata);
  EXPECT_EQ(meta->size, 12u);
}

// ---- Ranges and conditions -----------------------------------------------------------------------

TEST_P(ObjectStoreContract, range_gets) {
  const std::string body = pattern(1000, 2);
  ASSERT_OK(store_->put(ref("r"), body));
  GetOptions o;
  o.range = ByteRange{10, 19, false};
  auto mid = store_->get_bytes(ref("r"), o);
  ASSERT_OK(mid);
  EXPECT_EQ(*mid, body.substr(10, 10));

  o.range = ByteRange{990, std::nullopt, false};
  EXPECT_EQ(*store_->get_bytes(ref("r"), o), body.substr(990));

  // The metadata of a ranged get describes the whole object.
  o.range = ByteRange{100, 199, false};
  std::string part;
  auto meta = store_->get(ref("r"), [&](std::string_view c) -> Status {
    part.append(c);
    return ok_status();
  }, o);
  ASSERT_OK(meta);
  EXPECT_EQ(part, body.substr(100, 100));
  EXPECT_EQ(meta->size, 1000u);
}

TEST_P(ObjectStoreContract, single_byte_and_suffix_ranges) {
  if (GetParam().no_edge_ranges) GTEST_SKIP() << *GetParam().no_edge_ranges;
  const std::string body = pattern(1000, 2);
  ASSERT_OK(store_->put(ref("r"), body));
  GetOptions o;
  o.range = ByteRange{0, 0, false};
  EXPECT_EQ(*store_->get_bytes(ref("r"), o), body.substr(0, 1));
  o.range = ByteRange{999, 999, false};
  EXPECT_EQ(*store_->get_bytes(ref("r"), o), body.substr(999));
  o.range = ByteRange{5, std::nullopt, true};  // the last 5 bytes
  EXPECT_EQ(*store_->get_bytes(ref("r"), o), body.substr(995));
}

TEST_P(ObjectStoreContract, get_refuses_an_object_over_max_bytes) {
  ASSERT_OK(store_->put(ref("big"), pattern(5000, 3)));
  GetOptions o;
  o.max_bytes = 5000;
  EXPECT_OK(store_->get_bytes(ref("big"), o));
  o.max_bytes = 4999;
  auto r = store_->get_bytes(ref("big"), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::too_large);
}

TEST_P(ObjectStoreContract, get_if_match) {
  if (GetParam().no_get_if_match) GTEST_SKIP() << *GetParam().no_get_if_match;
  auto put = store_->put(ref("c"), "conditional");
  ASSERT_OK(put);
  GetOptions o;
  o.if_match = put->etag;
  EXPECT_EQ(*store_->get_bytes(ref("c"), o), "conditional");
  o.if_match = "0123456789abcdef0123456789abcdef";
  auto wrong = store_->get_bytes(ref("c"), o);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().kind, ErrorKind::precondition_failed) << wrong.error().describe();
}

TEST_P(ObjectStoreContract, get_if_none_match) {
  auto put = store_->put(ref("c"), "conditional");
  ASSERT_OK(put);
  GetOptions o;
  o.if_none_match = "0123456789abcdef0123456789abcdef";
  EXPECT_EQ(*store_->get_bytes(ref("c"), o), "conditional");
  o.if_none_match = put->etag;
  auto unchanged = store_->get_bytes(ref("c"), o);
  ASSERT_FALSE(unchanged.ok());
  EXPECT_EQ(unchanged.error().kind, ErrorKind::precondition_failed) << unchanged.error().describe();
}

TEST_P(ObjectStoreContract, create_only_put_refuses_an_existing_object) {
  if (GetParam().no_conditional_writes) GTEST_SKIP() << *GetParam().no_conditional_writes;
  PutOptions create_only;
  create_only.if_none_match_any = true;
  ASSERT_OK(store_->put(ref("once"), "first", create_only));
  auto second = store_->put(ref("once"), "second", create_only);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.error().kind == ErrorKind::precondition_failed || second.error().kind == ErrorKind::already_exists)
      << second.error().describe();
  EXPECT_EQ(*store_->get_bytes(ref("once")), "first");
}

TEST_P(ObjectStoreContract, if_match_put_replaces_only_that_version) {
  if (GetParam().no_conditional_writes) GTEST_SKIP() << *GetParam().no_conditional_writes;
  auto v1 = store_->put(ref("v"), "one");
  ASSERT_OK(v1);
  PutOptions o;
  o.if_match = v1->etag;
  auto v2 = store_->put(ref("v"), "two", o);
  ASSERT_OK(v2);
  o.if_match = v1->etag;  // stale now
  auto stale = store_->put(ref("v"), "three", o);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().kind, ErrorKind::precondition_failed) << stale.error().describe();
  EXPECT_EQ(*store_->get_bytes(ref("v")), "two");
}

// ---- Listing ---------------------------------------------------------------------------------------

TEST_P(ObjectStoreContract, list_with_prefix_and_delimiter) {
  for (const char* k : {"a/1.jpg", "a/2.jpg", "a/b/3.jpg", "a/c/4.jpg", "b/5.jpg", "top.jpg"})
    ASSERT_OK(store_->put(ref(k), k));
  ListOptions o;
  o.prefix = "a/";
  o.delimiter = "/";
  auto page = store_->list(bucket_, o);
  ASSERT_OK(page);
  std::vector<std::string> keys;
  for (const auto& m : page->objects) keys.push_back(m.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"a/1.jpg", "a/2.jpg"}));
  EXPECT_EQ(page->common_prefixes, (std::vector<std::string>{"a/b/", "a/c/"}));
  EXPECT_FALSE(page->truncated);
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].size, 7u);
  EXPECT_FALSE(page->objects[0].etag.empty());

  o = {};
  o.delimiter = "/";
  page = store_->list(bucket_, o);
  ASSERT_OK(page);
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, "top.jpg");
  EXPECT_EQ(page->common_prefixes, (std::vector<std::string>{"a/", "b/"}));

  o = {};
  o.prefix = "a/b";
  EXPECT_EQ(all_keys(*store_, bucket_, o), (std::vector<std::string>{"a/b/3.jpg"}));
}

TEST_P(ObjectStoreContract, list_paginates_in_key_order) {
  std::vector<std::string> expected;
  for (int i = 0; i < 7; ++i) {
    const std::string key = "page/" + std::to_string(i) + ".bin";
    ASSERT_OK(store_->put(ref(key), "x"));
    expected.push_back(key);
  }
  std::sort(expected.begin(), expected.end());
  ListOptions o;
  o.max_keys = 2;
  std::vector<std::string> seen;
  int pages = 0;
  for (;;) {
    auto page = store_->list(bucket_, o);
    ASSERT_OK(page);
    ++pages;
    EXPECT_LE(page->objects.size(), 2u);
    for (const auto& m : page->objects) seen.push_back(m.key);
    if (!page->truncated) break;
    ASSERT_FALSE(page->next_continuation_token.empty());
    o.continuation_token = page->next_continuation_token;
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(pages, 4);

  o = {};
  o.start_after = "page/4.bin";
  EXPECT_EQ(all_keys(*store_, bucket_, o), (std::vector<std::string>{"page/5.bin", "page/6.bin"}));
}

// ---- Copy --------------------------------------------------------------------------------------------

TEST_P(ObjectStoreContract, copy_keeps_or_replaces_metadata) {
  PutOptions o;
  o.content_type = "image/jpeg";
  o.user_metadata = {{"origin", "camera"}};
  o.stored_headers = {{"content-disposition", "inline"}};
  ASSERT_OK(store_->put(ref("src key.jpg"), "jpeg bytes", o));

  auto copied = store_->copy(ref("src key.jpg"), ref("copies/kept+meta.jpg"));
  ASSERT_OK(copied);
  EXPECT_FALSE(copied->etag.empty());
  auto kept = store_->head(ref("copies/kept+meta.jpg"));
  ASSERT_OK(kept);
  EXPECT_EQ(kept->content_type, "image/jpeg");
  EXPECT_EQ(kept->user_metadata, o.user_metadata);
  EXPECT_EQ(kept->stored_headers, o.stored_headers);
  EXPECT_EQ(*store_->get_bytes(ref("copies/kept+meta.jpg")), "jpeg bytes");

  PutOptions replacement;
  replacement.content_type = "image/png";
  replacement.user_metadata = {{"origin", "copied"}};
  ASSERT_OK(store_->copy(ref("src key.jpg"), ref("copies/replaced.jpg"), true, replacement));
  auto replaced = store_->head(ref("copies/replaced.jpg"));
  ASSERT_OK(replaced);
  EXPECT_EQ(replaced->content_type, "image/png");
  EXPECT_EQ(replaced->user_metadata, replacement.user_metadata);

  auto missing = store_->copy(ref("no such source"), ref("copies/x"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::not_found) << missing.error().describe();
}

// ---- Keys ----------------------------------------------------------------------------------------------

TEST_P(ObjectStoreContract, awkward_keys_round_trip) {
  std::vector<std::string> keys = {
      "with space/file name.jpg",
      "plus+sign+c++.jpg",
      "percent%20not-an-escape%.jpg",
      "unicode/\xC3\xBC\x62\x65r/\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E/\xF0\x9F\x98\x80.jpg",
      "query?like=yes&amp;#hash.jpg",
      "brackets[1](2){3}!'*,;:@$=.jpg",
      "tilde~dash-underscore_dot.jpg",
  };
  // A 1024-byte key made of 200-byte segments (every store can hold those).
  std::string segmented;
  while (segmented.size() < kMaxKeyBytes) {
    if (!segmented.empty()) segmented += '/';
    segmented += std::string(std::min<std::size_t>(200, kMaxKeyBytes - segmented.size()), 's');
  }
  segmented.resize(kMaxKeyBytes);
  ASSERT_EQ(segmented.size(), 1024u);
  ASSERT_NE(segmented.back(), '/');
  keys.push_back(segmented);

  for (const auto& key : keys) {
    SCOPED_TRACE(key.substr(0, 60));
    ASSERT_OK(store_->put(ref(key), "body of " + key.substr(0, 40)));
    EXPECT_EQ(*store_->get_bytes(ref(key)), "body of " + key.substr(0, 40));
    EXPECT_OK(store_->head(ref(key)));
  }
  auto listed = all_keys(*store_, bucket_);
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(listed, sorted);
  for (const auto& key : keys) {
    ListOptions o;
    o.prefix = key;
    EXPECT_EQ(all_keys(*store_, bucket_, o), std::vector<std::string>{key});
  }
  for (const auto& key : keys) EXPECT_OK(store_->remove(ref(key)));
  EXPECT_TRUE(all_keys(*store_, bucket_).empty());
}

TEST_P(ObjectStoreContract, a_single_1024_byte_segment_key_round_trips) {
  if (GetParam().no_long_segments) GTEST_SKIP() << *GetParam().no_long_segments;
  const std::string key(kMaxKeyBytes, 'k');
  ASSERT_OK(store_->put(ref(key), "long"));
  EXPECT_EQ(*store_->get_bytes(ref(key)), "long");
  EXPECT_EQ(all_keys(*store_, bucket_), std::vector<std::string>{key});
}

TEST_P(ObjectStoreContract, keys_with_empty_segments_round_trip) {
  if (GetParam().no_empty_segments) GTEST_SKIP() << *GetParam().no_empty_segments;
  ASSERT_OK(store_->put(ref("a//b"), "double slash"));
  ASSERT_OK(store_->put(ref("a/b"), "single slash"));
  EXPECT_EQ(*store_->get_bytes(ref("a//b")), "double slash");
  EXPECT_EQ(*store_->get_bytes(ref("a/b")), "single slash");
}

TEST_P(ObjectStoreContract, a_key_over_1024_bytes_is_refused) {
  auto r = store_->put(ref(std::string(kMaxKeyBytes + 1, 'k')), "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::invalid_argument);
}

// ---- Streaming -------------------------------------------------------------------------------------------

TEST_P(ObjectStoreContract, streams_a_20_mb_body_of_unknown_size) {
  const std::string body = pattern(20 * 1000 * 1000 + 3, 4);
  ChunkedSource source{body};
  PutOptions o;
  o.content_type = "application/x-test";
  o.user_metadata = {{"kind", "stream"}};
  auto put = store_->put_stream(ref("stream/unknown"), std::ref(source), std::nullopt, o);
  ASSERT_OK(put);
  if (GetParam().multipart_etag) {
    EXPECT_NE(put->etag.find('-'), std::string::npos) << put->etag;
  }

  std::size_t offset = 0;
  bool same = true;
  auto meta = store_->get(ref("stream/unknown"), [&](std::string_view chunk) -> Status {
    same = same && offset + chunk.size() <= body.size() && body.compare(offset, chunk.size(), chunk) == 0;
    offset += chunk.size();
    return ok_status();
  });
  ASSERT_OK(meta);
  EXPECT_TRUE(same);
  EXPECT_EQ(offset, body.size());
  EXPECT_EQ(meta->size, body.size());
  EXPECT_EQ(meta->content_type, "application/x-test");
  EXPECT_EQ(meta->user_metadata.at("kind"), "stream");
}

TEST_P(ObjectStoreContract, streams_a_20_mb_body_of_known_size_and_ranges_across_parts) {
  const std::string body = pattern(20 * 1024 * 1024, 5);
  ChunkedSource source{body};
  ASSERT_OK(store_->put_stream(ref("stream/known"), std::ref(source), body.size()));
  auto head = store_->head(ref("stream/known"));
  ASSERT_OK(head);
  EXPECT_EQ(head->size, body.size());
  GetOptions o;
  o.range = ByteRange{8 * 1024 * 1024 - 5, 8 * 1024 * 1024 + 4, false};  // across a part boundary
  EXPECT_EQ(*store_->get_bytes(ref("stream/known"), o), body.substr(8 * 1024 * 1024 - 5, 10));
}

TEST_P(ObjectStoreContract, a_source_shorter_than_announced_leaves_no_object) {
  if (GetParam().no_size_check) GTEST_SKIP() << *GetParam().no_size_check;
  const std::string body = pattern(1000, 6);
  ChunkedSource source{body};
  auto r = store_->put_stream(ref("short"), std::ref(source), 2000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(store_->head(ref("short")).error().kind, ErrorKind::not_found);
}

TEST_P(ObjectStoreContract, a_failing_source_leaves_no_object) {
  const std::string body = pattern(20 * 1024 * 1024, 7);
  std::size_t offset = 0;
  const ByteSource failing = [&](char* buf, std::size_t cap) -> Result<std::size_t> {
    if (offset > 17 * 1024 * 1024) return make_error(ErrorKind::io, "disk went away");
    const std::size_t n = std::min(cap, body.size() - offset);
    std::copy_n(body.data() + offset, n, buf);
    offset += n;
    return n;
  };
  auto r = store_->put_stream(ref("failing"), failing, std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::io);
  EXPECT_NE(r.error().message.find("disk went away"), std::string::npos);
  EXPECT_EQ(store_->head(ref("failing")).error().kind, ErrorKind::not_found);
}

// ---- Buckets --------------------------------------------------------------------------------------------

TEST_P(ObjectStoreContract, bucket_lifecycle) {
  const std::string b = unique_bucket(GetParam().name);
  EXPECT_FALSE(*store_->bucket_exists(b));
  ASSERT_OK(store_->create_bucket(b));
  EXPECT_TRUE(*store_->bucket_exists(b));
  auto again = store_->create_bucket(b);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().kind, ErrorKind::already_exists) << again.error().describe();

  auto buckets = store_->list_buckets();
  ASSERT_OK(buckets);
  std::set<std::string> names;
  for (const auto& info : *buckets) names.insert(info.name);
  EXPECT_TRUE(names.count(b));
  EXPECT_TRUE(names.count(bucket_));

  ASSERT_OK(store_->put({b, "keep"}, "x"));
  auto not_empty = store_->delete_bucket(b);
  ASSERT_FALSE(not_empty.ok());
  EXPECT_EQ(not_empty.error().kind, ErrorKind::precondition_failed) << not_empty.error().describe();
  ASSERT_OK(store_->remove({b, "keep"}));
  ASSERT_OK(store_->delete_bucket(b));
  EXPECT_FALSE(*store_->bucket_exists(b));
  auto gone = store_->delete_bucket(b);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().kind, ErrorKind::not_found) << gone.error().describe();
}

}  // namespace thumbflow::storage::contract
