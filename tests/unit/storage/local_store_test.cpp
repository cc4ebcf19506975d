#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <set>
#include <thread>

#include "storage/local_store.hpp"
#include "test_support.hpp"

namespace thumbflow::storage {
namespace {
namespace fs = std::filesystem;

class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(store.create_bucket("bk1").ok()); }
  ObjectRef ref(const std::string& key) { return ObjectRef{"bk1", key}; }
  std::string get(const std::string& key) {
    auto r = store.get_bytes(ref(key));
    EXPECT_TRUE(r.ok()) << key << ": " << (r.ok() ? "" : r.error().describe());
    return r.ok() ? *r : std::string();
  }
  std::vector<std::string> list_keys(ListOptions opts) {
    std::vector<std::string> keys;
    for (;;) {
      auto page = store.list("bk1", opts);
      EXPECT_TRUE(page.ok());
      for (auto& o : page->objects) keys.push_back(o.key);
      for (auto& p : page->common_prefixes) keys.push_back("P:" + p);
      if (!page->truncated) break;
      opts.continuation_token = page->next_continuation_token;
    }
    return keys;
  }
  test::TempDir tmp;
  LocalStore store{tmp.path()};
};

}  // namespace

TEST(KeyToRelativePath, refuses_keys_that_cannot_map_safely) {
  std::string nul("a\0b", 3);
  for (const std::string& bad : {std::string(""), std::string("../etc/passwd"), std::string("a/../../b"),
                                 std::string("/etc/passwd"), std::string("a\\b"), nul, std::string("a//b"),
                                 std::string("./a"), std::string("a/./b"), std::string("dir/"),
                                 std::string(1025, 'k'), std::string(300, 's') + "/x", std::string(".meta/x"),
                                 std::string(".tmp/x")}) {
    auto r = key_to_relative_path(bad);
    ASSERT_FALSE(r.ok()) << "accepted: " << bad.substr(0, 60);
    EXPECT_EQ(r.error().kind, ErrorKind::invalid_argument);
    EXPECT_EQ(r.error().code, "KeyNotStorable");
    EXPECT_NE(r.error().message.find("cannot be stored"), std::string::npos);
  }
}

TEST(KeyToRelativePath, keeps_ordinary_and_odd_but_safe_keys) {
  EXPECT_EQ(*key_to_relative_path("uploads/photo.jpg"), fs::path("uploads/photo.jpg"));
  EXPECT_EQ(*key_to_relative_path("uploads/my photo (1)+x%20.jpg"), fs::path("uploads/my photo (1)+x%20.jpg"));
  EXPECT_EQ(*key_to_relative_path("uploads/\xC3\xA9t\xC3\xA9.jpg"), fs::path("uploads/\xC3\xA9t\xC3\xA9.jpg"));
  EXPECT_EQ(*key_to_relative_path("..."), fs::path("..."));
  EXPECT_EQ(*key_to_relative_path("a/.hidden"), fs::path("a/.hidden"));
  std::string long_key;
  while (long_key.size() + 11 <= 1024) long_key += "segment12/";
  long_key += "x";
  EXPECT_TRUE(key_to_relative_path(long_key).ok());
  EXPECT_TRUE(key_to_relative_path(std::string(250, 'a')).ok());
}

TEST(ValidateBucketName, follows_s3_rules) {
  for (const char* ok : {"abc", "image-processing-local", "a.b.c", "123"})
    EXPECT_TRUE(validate_bucket_name(ok).ok()) << ok;
  EXPECT_TRUE(validate_bucket_name(std::string(63, 'a')).ok());
  for (const char* bad : {"ab", "Upper", "under_score", "-abc", "abc-", "a..b", "192.168.1.1", ".meta", "a/b", ""})
    EXPECT_FALSE(validate_bucket_name(bad).ok()) << bad;
  EXPECT_FALSE(validate_bucket_name(std::string(64, 'a')).ok());
}

TEST_F(LocalStoreTest, put_get_head_round_trip_with_md5_etag_and_metadata) {
  PutOptions opts;
  opts.content_type = "text/plain";
  opts.cache_control = "max-age=60";
  opts.user_metadata = {{"owner", "ana"}};
  auto put = store.put(ref("dir/hello.txt"), "hello", opts);
  ASSERT_TRUE(put.ok()) << put.error().describe();
  EXPECT_EQ(put->etag, "5d41402abc4b2a76b9719d911017c592");  // md5("hello")
  EXPECT_EQ(get("dir/hello.txt"), "hello");
  auto head = store.head(ref("dir/hello.txt"));
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->size, 5u);
  EXPECT_EQ(head->etag, put->etag);
  EXPECT_EQ(head->content_type, "text/plain");
  EXPECT_EQ(head->cache_control, "max-age=60");
  EXPECT_EQ(head->user_metadata.at("owner"), "ana");
  // The object is an ordinary file at its key's path.
  EXPECT_EQ(test::read_bytes(tmp.path() / "bk1/dir/hello.txt"), "hello");
}

TEST_F(LocalStoreTest, missing_key_and_bucket_are_not_found_with_s3_codes) {
  auto r = store.head(ref("nope"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::not_found);
  EXPECT_EQ(r.error().code, "NoSuchKey");
  auto b = store.put(ObjectRef{"nobucket", "k"}, "x");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code, "NoSuchBucket");
  EXPECT_TRUE(store.remove(ref("nope")).ok());  // deleting a missing key succeeds
}

TEST_F(LocalStoreTest, bad_keys_are_refused_before_reading_the_body) {
  bool read = false;
  auto r = store.put_stream(ref("../escape"), [&](char*, std::size_t) -> Result<std::size_t> {
    read = true;
    return std::size_t{0};
  }, std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "KeyNotStorable");
  EXPECT_FALSE(read);
  EXPECT_FALSE(fs::exists(tmp.path() / "escape"));
}

TEST_F(LocalStoreTest, conditional_puts) {
  PutOptions create_only;
  create_only.if_none_match_any = true;
  ASSERT_TRUE(store.put(ref("k"), "v1", create_only).ok());
  auto again = store.put(ref("k"), "v2", create_only);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().kind, ErrorKind::precondition_failed);
  EXPECT_EQ(get("k"), "v1");
  PutOptions match;
  match.if_match = "wrong";
  EXPECT_EQ(store.put(ref("k"), "v3", match).error().kind, ErrorKind::precondition_failed);
  match.if_match = store.head(ref("k"))->etag;
  EXPECT_TRUE(store.put(ref("k"), "v3", match).ok());
  EXPECT_EQ(get("k"), "v3");
}

TEST_F(LocalStoreTest, range_and_conditional_gets) {
  ASSERT_TRUE(store.put(ref("r"), "0123456789").ok());
  GetOptions g;
  g.range = ByteRange{2, 5, false};
  EXPECT_EQ(*store.get_bytes(ref("r"), g), "2345");
  g.range = ByteRange{7, std::nullopt, false};
  EXPECT_EQ(*store.get_bytes(ref("r"), g), "789");
  g.range = ByteRange{3, std::nullopt, true};
  EXPECT_EQ(*store.get_bytes(ref("r"), g), "789");
  g.range = ByteRange{5, 100, false};
  EXPECT_EQ(*store.get_bytes(ref("r"), g), "56789");
  g.range = ByteRange{10, std::nullopt, false};
  EXPECT_EQ(store.get_bytes(ref("r"), g).error().code, "InvalidRange");
  GetOptions cond;
  cond.if_none_match = store.head(ref("r"))->etag;
  EXPECT_EQ(store.get_bytes(ref("r"), cond).error().code, "NotModified");
  GetOptions cap;
  cap.max_bytes = 9;
  auto capped = store.get_bytes(ref("r"), cap);
  ASSERT_FALSE(capped.ok());
  EXPECT_EQ(capped.error().kind, ErrorKind::too_large);
  cap.max_bytes = 10;
  EXPECT_TRUE(store.get_bytes(ref("r"), cap).ok());
}

TEST_F(LocalStoreTest, list_in_byte_order_with_prefix_delimiter_and_pagination) {
  for (const char* k : {"a-c", "a/b", "a/c/d", "b", "uploads/1.jpg", "uploads/2.jpg", "uploads/sub/3.jpg", "z"})
    ASSERT_TRUE(store.put(ref(k), k).ok());
  EXPECT_EQ(list_keys({}), (std::vector<std::string>{"a-c", "a/b", "a/c/d", "b", "uploads/1.jpg", "uploads/2.jpg",
                                                      "uploads/sub/3.jpg", "z"}));
  ListOptions prefix;
  prefix.prefix = "uploads/";
  EXPECT_EQ(list_keys(prefix), (std::vector<std::string>{"uploads/1.jpg", "uploads/2.jpg", "uploads/sub/3.jpg"}));
  prefix.delimiter = "/";
  EXPECT_EQ(list_keys(prefix), (std::vector<std::string>{"uploads/1.jpg", "uploads/2.jpg", "P:uploads/sub/"}));
  ListOptions top;
  top.delimiter = "/";
  top.max_keys = 2;
  // Pages of two entries: keys and common prefixes count alike, in key order.
  EXPECT_EQ(list_keys(top), (std::vector<std::string>{"a-c", "P:a/", "b", "P:uploads/", "z"}));
  ListOptions paged;
  paged.max_keys = 3;
  EXPECT_EQ(list_keys(paged).size(), 8u);
  ListOptions after;
  after.start_after = "b";
  EXPECT_EQ(list_keys(after).front(), "uploads/1.jpg");
}

TEST_F(LocalStoreTest, copy_keeps_or_replaces_metadata) {
  PutOptions opts;
  opts.content_type = "image/jpeg";
  opts.user_metadata = {{"a", "1"}};
  ASSERT_TRUE(store.put(ref("src"), "data", opts).ok());
  ASSERT_TRUE(store.copy(ref("src"), ref("dst")).ok());
  EXPECT_EQ(get("dst"), "data");
  EXPECT_EQ(store.head(ref("dst"))->content_type, "image/jpeg");
  EXPECT_EQ(store.head(ref("dst"))->user_metadata.at("a"), "1");
  PutOptions replace;
  replace.content_type = "text/plain";
  ASSERT_TRUE(store.copy(ref("src"), ref("dst2"), true, replace).ok());
  EXPECT_EQ(store.head(ref("dst2"))->content_type, "text/plain");
  EXPECT_TRUE(store.head(ref("dst2"))->user_metadata.empty());
  EXPECT_EQ(store.copy(ref("missing"), ref("x")).error().kind, ErrorKind::not_found);
}

TEST_F(LocalStoreTest, folder_collisions_are_refused_clearly_and_delete_prunes_folders) {
  ASSERT_TRUE(store.put(ref("a/b/c"), "1").ok());
  auto as_file = store.put(ref("a/b"), "2");
  ASSERT_FALSE(as_file.ok());
  EXPECT_NE(as_file.error().message.find("folder prefix"), std::string::npos);
  auto under_file = store.put(ref("a/b/c/d"), "3");
  ASSERT_FALSE(under_file.ok());
  EXPECT_NE(under_file.error().message.find("is an object"), std::string::npos);
  ASSERT_TRUE(store.remove(ref("a/b/c")).ok());
  EXPECT_FALSE(fs::exists(tmp.path() / "bk1/a"));
  EXPECT_TRUE(store.put(ref("a/b"), "now fine").ok());
}

TEST_F(LocalStoreTest, buckets_create_list_delete) {
  EXPECT_EQ(store.create_bucket("bk1").error().code, "BucketAlreadyOwnedByYou");
  EXPECT_EQ(store.create_bucket("Bad_Name").error().code, "InvalidBucketName");
  ASSERT_TRUE(store.create_bucket("bk2").ok());
  auto buckets = store.list_buckets();
  ASSERT_TRUE(buckets.ok());
  ASSERT_EQ(buckets->size(), 2u);
  EXPECT_EQ((*buckets)[0].name, "bk1");
  ASSERT_TRUE(store.put(ObjectRef{"bk2", "k"}, "v").ok());
  EXPECT_EQ(store.delete_bucket("bk2").error().code, "BucketNotEmpty");
  ASSERT_TRUE(store.remove(ObjectRef{"bk2", "k"}).ok());
  EXPECT_TRUE(store.delete_bucket("bk2").ok());
  EXPECT_FALSE(*store.bucket_exists("bk2"));
}

TEST_F(LocalStoreTest, concurrent_writers_leave_one_complete_write_and_readers_never_see_a_mix) {
  // Eight writers each write a distinct 1 MB payload with its own content type; readers check
  // every read is one whole payload whose metadata belongs to it.
  const int writers = 8;
  std::vector<std::string> payloads;
  for (int w = 0; w < writers; ++w) payloads.push_back(std::string(1 << 20, static_cast<char>('A' + w)));
  PutOptions first_type;
  first_type.content_type = "x/A";
  ASSERT_TRUE(store.put(ref("hot"), payloads[0], first_type).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> bad_reads{0}, reads{0};
  std::thread reader([&] {
    while (!stop) {
      std::string body;
      auto meta = store.get(ref("hot"), [&](std::string_view c) -> Status {
        body.append(c);
        return ok_status();
      });
      if (!meta) continue;
      ++reads;
      char first = body.empty() ? '?' : body[0];
      bool whole = body.size() == (1u << 20) && body.find_first_not_of(first) == std::string::npos;
      bool meta_matches = meta->content_type == std::string("x/") + first;
      if (!whole || !meta_matches) ++bad_reads;
    }
  });
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w)
    threads.emplace_back([&, w] {
      PutOptions o;
      o.content_type = std::string("x/") + static_cast<char>('A' + w);
      for (int i = 0; i < 5; ++i) EXPECT_TRUE(store.put(ref("hot"), payloads[static_cast<std::size_t>(w)], o).ok());
    });
  for (auto& t : threads) t.join();
  stop = true;
  reader.join();
  EXPECT_EQ(bad_reads, 0) << "of " << reads << " reads";
  std::string final_body = get("hot");
  auto head = store.head(ref("hot"));
  EXPECT_EQ(head->content_type, std::string("x/") + final_body[0]);
  // Nothing left in the staging folder.
  EXPECT_TRUE(fs::is_empty(tmp.path() / ".tmp"));
}

TEST_F(LocalStoreTest, a_failing_source_leaves_no_object_and_no_temporary_file) {
  int calls = 0;
  auto r = store.put_stream(ref("partial"), [&](char* buf, std::size_t) -> Result<std::size_t> {
    if (++calls > 3) return make_error(ErrorKind::unavailable, "client went away");
    std::memset(buf, 'x', 1000);
    return std::size_t{1000};
  }, std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::unavailable);
  EXPECT_EQ(store.head(ref("partial")).error().kind, ErrorKind::not_found);
  EXPECT_TRUE(fs::is_empty(tmp.path() / ".tmp"));
}

}  // namespace thumbflow::storage
