// ImageRecord <-> DynamoDB item (the low-level JSON wire form, {"imageId": {"S": "..."}, ...}).
// Pure functions, no I/O: DynamoCatalog sends what these build, and tests check them alone.
//
// Mapping: the item's attributes are the record's JSON form (core/json.hpp), field for field
// and with the same names: strings as S, numbers as N (exact decimal text, so 64-bit sizes
// survive), booleans as BOOL, renditions as an L of M, the probe facts as the M "image". JSON
// nulls (absent EXIF fields) are left out. Empty strings are kept (DynamoDB allows them outside
// keys). One attribute is added for the uploadDate index:
//   uploadDay = "YYYY-MM-DD#<shard>", shard = shard_of(imageId, shards)
// The day keeps a date query to a few partitions; the shard spreads one day's uploads over
// `shards` partitions so a busy day does not make one hot partition.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/image_record.hpp"

namespace thumbflow::catalog::dynamo {

inline constexpr std::string_view kUploadDayAttribute = "uploadDay";
// DynamoDB refuses items over 400 KB; ours are a few KB. Nesting deeper than this in an item
// read back was not written by us.
inline constexpr int kMaxAttributeDepth = 16;

// FNV-1a (32 bit) of the imageId, modulo shards: stable across processes, builds and
// platforms, which a std::hash is not. shards >= 1.
std::uint32_t shard_of(std::string_view image_id, int shards);
// "YYYY-MM-DD#<shard>"
std::string upload_day_key(std::string_view upload_date, std::uint32_t shard);

// JSON value <-> AttributeValue. to_attribute_value returns a null json for values that are
// left out (JSON null); invalid_argument for numbers DynamoDB cannot hold (NaN, infinity).
Result<nlohmann::json> to_attribute_value(const nlohmann::json& value);
// invalid_argument for types a record never holds (B, SS, NS, BS) or malformed values.
Result<nlohmann::json> from_attribute_value(const nlohmann::json& attribute, int depth = 0);

// The record as a PutItem "Item" (record must already pass validate_record).
Result<nlohmann::json> record_to_item(const ImageRecord& record, int shards);
// An item read back (GetItem "Item", Query/Scan "Items" entries); invalid_argument when it is
// not a record.
Result<ImageRecord> item_to_record(const nlohmann::json& item);

}  // namespace thumbflow::catalog::dynamo
