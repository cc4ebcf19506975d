#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <array>
#include <thread>

#include "server/multipart.hpp"
#include "storage/local_store.hpp"
#include "test_support.hpp"

namespace thumbflow::server {
namespace {

std::string md5_raw(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md.data(), &n, EVP_md5(), nullptr);
  return std::string(reinterpret_cast<const char*>(md.data()), n);
}

std::string hex(std::string_view raw) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (char ch : raw) {
    const auto c = static_cast<unsigned char>(ch);
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

class MultipartStoreTest : public ::testing::Test {
 protected:
  MultipartStoreTest() : store_(dir_.path()), uploads_(store_, dir_.path() / ".uploads", limits()) {
    EXPECT_TRUE(store_.create_bucket("bucket"));
  }
  static MultipartLimits limits() {
    MultipartLimits l;
    l.min_part_bytes = 4;  // small parts keep the test fast; the rule is the same
    l.max_part_bytes = 1000;
    l.max_parts = 100;
    return l;
  }
  PartEntry put_part(const std::string& id, int number, const std::string& data) {
    auto w = uploads_.begin_part(id, ref_, number);
    EXPECT_TRUE(w) << w.error().message;
    EXPECT_TRUE((*w)->write(data.substr(0, data.size() / 2)));
    EXPECT_TRUE((*w)->write(data.substr(data.size() / 2)));
    auto p = (*w)->commit();
    EXPECT_TRUE(p) << p.error().message;
    return *p;
  }

  test::TempDir dir_;
  storage::LocalStore store_;
  MultipartStore uploads_;
  ObjectRef ref_{"bucket", "photos/big.jpg"};
};

TEST_F(MultipartStoreTest, completes_into_one_object_with_the_s3_multipart_etag) {
  storage::PutOptions o;
  o.content_type = "image/jpeg";
  o.user_metadata["owner"] = "me";
  auto u = uploads_.create(ref_, o);
  ASSERT_TRUE(u) << u.error().message;
  const std::string a = "AAAAAAAA", b = "BBBBBBBBBB", c = "CC";
  auto p2 = put_part(u->upload_id, 2, b);
  auto p1 = put_part(u->upload_id, 1, a);
  auto p3 = put_part(u->upload_id, 3, c);
  EXPECT_EQ(p1.etag, hex(md5_raw(a)));
  auto listed = uploads_.parts(u->upload_id, ref_);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[0].number, 1);
  EXPECT_EQ((*listed)[1].size, b.size());

  std::uint64_t size = 0;
  auto put = uploads_.complete(u->upload_id, ref_, {{1, p1.etag}, {2, "\"" + p2.etag + "\""}, {3, p3.etag}}, &size);
  ASSERT_TRUE(put) << put.error().message;
  const std::string expected = hex(md5_raw(md5_raw(a) + md5_raw(b) + md5_raw(c))) + "-3";
  EXPECT_EQ(put->etag, expected);
  EXPECT_EQ(size, a.size() + b.size() + c.size());
  auto meta = store_.head(ref_);
  ASSERT_TRUE(meta);
  EXPECT_EQ(meta->etag, expected);
  EXPECT_EQ(meta->content_type, "image/jpeg");
  EXPECT_EQ(meta->user_metadata.at("owner"), "me");
  EXPECT_EQ(*store_.get_bytes(ref_), a + b + c);
  // Completed uploads are gone.
  EXPECT_EQ(uploads_.find(u->upload_id, ref_).error().code, "NoSuchUpload");
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path() / ".uploads"));
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path() / ".tmp"));
}

TEST_F(MultipartStoreTest, a_reuploaded_part_replaces_the_earlier_one) {
  auto u = uploads_.create(ref_, {});
  ASSERT_TRUE(u);
  put_part(u->upload_id, 1, "first version");
  auto p = put_part(u->upload_id, 1, "second");
  auto put = uploads_.complete(u->upload_id, ref_, {{1, p.etag}});
  ASSERT_TRUE(put);
  EXPECT_EQ(*store_.get_bytes(ref_), "second");
}

TEST_F(MultipartStoreTest, refuses_bad_part_lists_as_s3_does) {
  auto u = uploads_.create(ref_, {});
  ASSERT_TRUE(u);
  auto p1 = put_part(u->upload_id, 1, "12");  // below min_part_bytes
  auto p2 = put_part(u->upload_id, 2, "3456");
  auto code = [&](const std::vector<CompletedPart>& parts) {
    auto r = uploads_.complete(u->upload_id, ref_, parts);
    return r ? std::string("ok") : r.error().code;
  };
  EXPECT_EQ(code({{2, p2.etag}, {1, p1.etag}}), "InvalidPartOrder");
  EXPECT_EQ(code({{1, p1.etag}, {1, p1.etag}}), "InvalidPartOrder");
  EXPECT_EQ(code({{1, p2.etag}}), "InvalidPart");
  EXPECT_EQ(code({{3, p2.etag}}), "InvalidPart");
  EXPECT_EQ(code({{1, p1.etag}, {2, p2.etag}}), "EntityTooSmall");
  EXPECT_EQ(uploads_.complete(u->upload_id, ObjectRef{"bucket", "other"}, {{2, p2.etag}}).error().code,
            "NoSuchUpload");
  EXPECT_EQ(code({{2, p2.etag}}), "ok");  // a last part may be small
}

TEST_F(MultipartStoreTest, enforces_part_numbers_and_sizes) {
  auto u = uploads_.create(ref_, {});
  ASSERT_TRUE(u);
  EXPECT_EQ(uploads_.begin_part(u->upload_id, ref_, 0).error().code, "InvalidArgument");
  EXPECT_EQ(uploads_.begin_part(u->upload_id, ref_, 101).error().code, "InvalidArgument");
  EXPECT_TRUE(uploads_.begin_part(u->upload_id, ref_, 100));
  auto w = uploads_.begin_part(u->upload_id, ref_, 1);
  ASSERT_TRUE(w);
  EXPECT_TRUE((*w)->write(std::string(1000, 'x')));
  EXPECT_EQ((*w)->write("y").error().code, "EntityTooLarge");
  EXPECT_EQ(uploads_.begin_part("../../etc", ref_, 1).error().code, "NoSuchUpload");
  EXPECT_EQ(uploads_.begin_part("0123456789abcdef0123456789abcdef", ref_, 1).error().code, "NoSuchUpload");
}

TEST_F(MultipartStoreTest, abort_removes_the_upload_and_its_parts) {
  auto u = uploads_.create(ref_, {});
  ASSERT_TRUE(u);
  put_part(u->upload_id, 1, "data");
  auto pending = uploads_.begin_part(u->upload_id, ref_, 2);
  ASSERT_TRUE(pending);
  ASSERT_TRUE(uploads_.abort(u->upload_id, ref_));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / ".uploads" / u->upload_id));
  EXPECT_EQ((*pending)->commit().error().code, "NoSuchUpload");
  EXPECT_EQ(uploads_.abort(u->upload_id, ref_).error().code, "NoSuchUpload");
  EXPECT_EQ(uploads_.parts(u->upload_id, ref_).error().code, "NoSuchUpload");
}

TEST_F(MultipartStoreTest, refuses_uploads_to_missing_buckets_and_unstorable_keys) {
  EXPECT_EQ(uploads_.create(ObjectRef{"nobucket", "k"}, {}).error().code, "NoSuchBucket");
  EXPECT_EQ(uploads_.create(ObjectRef{"bucket", "a//b"}, {}).error().code, "KeyNotStorable");
}

TEST_F(MultipartStoreTest, lists_uploads_in_key_order_with_markers_and_prefixes) {
  std::vector<std::string> ids;
  for (const char* key : {"b/2", "a", "b/1", "c"}) ids.push_back(uploads_.create(ObjectRef{"bucket", key}, {})->upload_id);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // initiation times are kept in ms
  auto second_a = uploads_.create(ObjectRef{"bucket", "a"}, {});
  ASSERT_TRUE(second_a);
  auto all = uploads_.list("bucket", "", "", "", "", 1000);
  ASSERT_TRUE(all);
  std::vector<std::string> keys;
  for (const auto& u : all->uploads) keys.push_back(u.ref.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "a", "b/1", "b/2", "c"}));
  EXPECT_EQ(all->uploads[0].upload_id, ids[1]);  // the older upload of "a" first

  auto page = uploads_.list("bucket", "", "", "", "", 2);
  ASSERT_TRUE(page);
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_key_marker, "a");
  auto next = uploads_.list("bucket", "", "", page->next_key_marker, page->next_upload_id_marker, 2);
  ASSERT_TRUE(next);
  ASSERT_EQ(next->uploads.size(), 2u);
  EXPECT_EQ(next->uploads[0].ref.key, "b/1");

  auto grouped = uploads_.list("bucket", "", "/", "", "", 1000);
  ASSERT_TRUE(grouped);
  EXPECT_EQ(grouped->common_prefixes, (std::vector<std::string>{"b/"}));
  EXPECT_EQ(grouped->uploads.size(), 3u);
  auto prefixed = uploads_.list("bucket", "b/", "", "", "", 1000);
  ASSERT_TRUE(prefixed);
  EXPECT_EQ(prefixed->uploads.size(), 2u);
  EXPECT_TRUE(uploads_.list("other", "", "", "", "", 1000)->uploads.empty());
}

TEST(MultipartEtag, is_the_md5_of_the_binary_part_md5s_and_the_count) {
  // Two parts whose MD5s are those of "" and "a".
  const std::string e = hex(md5_raw("")), a = hex(md5_raw("a"));
  EXPECT_EQ(multipart_etag({e, a}), hex(md5_raw(md5_raw("") + md5_raw("a"))) + "-2");
}

}  // namespace
}  // namespace thumbflow::server
