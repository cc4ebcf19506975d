#include "catalog/dynamo_item.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>

#include "catalog/image_id.hpp"
#include "core/json.hpp"

namespace thumbflow::catalog::dynamo {
namespace {

using nlohmann::json;

ImageRecord full_record() {
  ImageRecord r;
  r.image_id = "0123456789abcdef0123456789abcdef";
  r.bucket = "photos";
  r.original_key = "uploads/café +plus.jpg";
  r.thumbnail_key = "thumbnails/café +plus.jpg";
  r.renditions = {{"thumbnail", "thumbnails/café +plus.jpg", "jpeg", 256, 171, 18431},
                  {"preview", "previews/café +plus.webp", "webp", 1024, 683, 120007}};
  r.upload_date = "2026-11-25T12:34:56.789Z";
  r.status = RecordStatus::failed;
  r.error_kind = "too_large";
  r.error_message = "over 100 megapixels";
  r.attempts = 3;
  r.source_bytes = std::numeric_limits<std::uint64_t>::max();
  r.etag = "\"abc\"";
  r.version_id = "v1";
  ImageInfo info;
  info.format = SourceFormat::webp;
  info.width = 12000;
  info.height = 9000;
  info.frames = 4;
  info.orientation = 8;
  info.has_alpha = true;
  info.bits_per_sample = 16;
  info.bands = 4;
  info.colour_space = "rgb16";
  info.has_icc_profile = true;
  info.progressive = false;
  info.capture_time = "2026-11-24T18:02:11";
  info.camera_make = "Canon";
  r.info = info;  // camera_model stays absent
  r.dominant_colour = "#102030";
  r.blurhash = "LEHV6nWB2yk8pyo0adR*.7kCMdnj";
  r.processing_ms = 0.1 + 0.2;  // not a short decimal: must come back bit for bit
  r.updated_at = "2026-11-25T12:34:57.000Z";
  return r;
}

TEST(DynamoItem, record_to_item_to_record_is_the_same_record) {
  const auto record = full_record();
  auto item = record_to_item(record, 8);
  ASSERT_TRUE(item) << item.error().describe();
  auto back = item_to_record(*item);
  ASSERT_TRUE(back) << back.error().describe();
  EXPECT_EQ(json(*back).dump(2), json(record).dump(2));
  EXPECT_EQ(back->source_bytes, record.source_bytes);
  EXPECT_EQ(back->processing_ms, record.processing_ms);
  EXPECT_FALSE(back->info->camera_model.has_value());
}

TEST(DynamoItem, a_record_without_optional_parts_round_trips) {
  ImageRecord r;
  r.image_id = "id";
  r.original_key = "k";
  r.upload_date = "2026-11-25T12:34:56.789Z";
  auto item = record_to_item(r, 8);
  ASSERT_TRUE(item) << item.error().describe();
  EXPECT_FALSE(item->contains("image"));
  EXPECT_FALSE(item->contains("errorKind"));
  auto back = item_to_record(*item);
  ASSERT_TRUE(back) << back.error().describe();
  EXPECT_EQ(json(*back), json(r));
  EXPECT_FALSE(back->info.has_value());
}

TEST(DynamoItem, attributes_have_the_json_names_and_dynamodb_types) {
  auto item = record_to_item(full_record(), 8);
  ASSERT_TRUE(item);
  const json& i = *item;
  EXPECT_EQ(i["imageId"], json({{"S", "0123456789abcdef0123456789abcdef"}}));
  EXPECT_EQ(i["originalImage"], json({{"S", "uploads/café +plus.jpg"}}));
  EXPECT_EQ(i["thumbnailImage"]["S"], "thumbnails/café +plus.jpg");
  EXPECT_EQ(i["uploadDate"]["S"], "2026-11-25T12:34:56.789Z");
  EXPECT_EQ(i["status"]["S"], "failed");
  EXPECT_EQ(i["errorKind"]["S"], "too_large");
  EXPECT_EQ(i["sourceBytes"], json({{"N", "18446744073709551615"}}));
  EXPECT_EQ(i["attempts"], json({{"N", "3"}}));
  ASSERT_TRUE(i["renditions"].contains("L"));
  ASSERT_EQ(i["renditions"]["L"].size(), 2u);
  EXPECT_EQ(i["renditions"]["L"][1]["M"]["bytes"], json({{"N", "120007"}}));
  EXPECT_EQ(i["image"]["M"]["format"]["S"], "webp");
  EXPECT_EQ(i["image"]["M"]["hasAlpha"], json({{"BOOL", true}}));
  EXPECT_EQ(i["image"]["M"]["captureTime"]["S"], "2026-11-24T18:02:11");
  EXPECT_FALSE(i["image"]["M"].contains("cameraModel"));  // null is left out
  EXPECT_EQ(i["uploadDay"]["S"], "2026-11-25#" + std::to_string(shard_of(full_record().image_id, 8)));
}

TEST(DynamoItem, shard_is_fnv1a_modulo_the_shard_count) {
  EXPECT_EQ(shard_of("abc", 8), 3u);  // FNV-1a("abc") = 0x1a47e90b
  EXPECT_EQ(shard_of("abc", 1), 0u);
  EXPECT_EQ(upload_day_key("2026-11-25T12:34:56.789Z", 5), "2026-11-25#5");
}

TEST(DynamoItem, image_ids_spread_evenly_over_shards) {
  std::map<std::uint32_t, int> counts;
  for (int i = 0; i < 4000; ++i) ++counts[shard_of(make_image_id("b", "k" + std::to_string(i), "v"), 8)];
  ASSERT_EQ(counts.size(), 8u);
  for (const auto& [shard, n] : counts) {
    EXPECT_GT(n, 400) << "shard " << shard;
    EXPECT_LT(n, 600) << "shard " << shard;
  }
}

TEST(DynamoItem, numbers_keep_their_exact_text) {
  auto big = to_attribute_value(json(std::numeric_limits<std::uint64_t>::max()));
  ASSERT_TRUE(big);
  EXPECT_EQ((*big)["N"], "18446744073709551615");
  auto negative = to_attribute_value(json(-5));
  EXPECT_EQ((*negative)["N"], "-5");
  auto back = from_attribute_value(json{{"N", "18446744073709551615"}});
  ASSERT_TRUE(back);
  EXPECT_EQ(back->get<std::uint64_t>(), std::numeric_limits<std::uint64_t>::max());
  // DynamoDB writes numbers in its own normal form ("0" for "0.0", "1E+2"): still numbers.
  EXPECT_EQ(from_attribute_value(json{{"N", "1E+2"}})->get<double>(), 100.0);
  EXPECT_EQ(from_attribute_value(json{{"N", "0"}})->get<double>(), 0.0);
}

TEST(DynamoItem, refuses_numbers_dynamodb_cannot_hold) {
  auto r = full_record();
  r.processing_ms = std::nan("");
  auto item = record_to_item(r, 8);
  ASSERT_FALSE(item);
  EXPECT_EQ(item.error().kind, ErrorKind::invalid_argument);
  r.processing_ms = std::numeric_limits<double>::infinity();
  EXPECT_FALSE(record_to_item(r, 8));
}

TEST(DynamoItem, refuses_items_that_are_not_records) {
  for (const json& bad : {json{{"N", "twelve"}}, json{{"B", "AAAA"}}, json{{"SS", {"a"}}}, json{{"S", 5}},
                          json{{"S", "a"}, {"N", "1"}}, json::object(), json("text")}) {
    auto r = from_attribute_value(bad);
    ASSERT_FALSE(r) << bad.dump();
    EXPECT_EQ(r.error().kind, ErrorKind::invalid_argument);
  }
  json deep = {{"S", "x"}};
  for (int i = 0; i < kMaxAttributeDepth + 2; ++i) deep = json{{"M", {{"a", deep}}}};
  EXPECT_FALSE(from_attribute_value(deep));
  // No originalImage: not a catalog record.
  auto missing = item_to_record(json{{"imageId", {{"S", "x"}}}, {"uploadDate", {{"S", "2026-11-25T12:34:56.789Z"}}}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::invalid_argument);
  EXPECT_FALSE(item_to_record(json::array()));
}

}  // namespace
}  // namespace thumbflow::catalog::dynamo
