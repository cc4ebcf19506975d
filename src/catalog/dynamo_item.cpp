#include "catalog/dynamo_item.hpp"

#include <cmath>

#include "core/json.hpp"

namespace thumbflow::catalog::dynamo {
namespace {

Error bad_item(const std::string& why) { return make_error(ErrorKind::invalid_argument, "DynamoDB item: " + why); }

}  // namespace

std::uint32_t shard_of(std::string_view image_id, int shards) {
  std::uint32_t hash = 2166136261u;
  for (char c : image_id) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 16777619u;
  }
  return shards <= 1 ? 0u : hash % static_cast<std::uint32_t>(shards);
}

std::string upload_day_key(std::string_view upload_date, std::uint32_t shard) {
  return std::string(upload_date.substr(0, 10)) + "#" + std::to_string(shard);
}

Result<nlohmann::json> to_attribute_value(const nlohmann::json& value) {
  using nlohmann::json;
  switch (value.type()) {
    case json::value_t::null:
    case json::value_t::discarded:
      return json();
    case json::value_t::string:
      return json{{"S", value.get<std::string>()}};
    case json::value_t::boolean:
      return json{{"BOOL", value.get<bool>()}};
    case json::value_t::number_integer:
      return json{{"N", std::to_string(value.get<std::int64_t>())}};
    case json::value_t::number_unsigned:
      return json{{"N", std::to_string(value.get<std::uint64_t>())}};
    case json::value_t::number_float: {
      double d = value.get<double>();
      if (!std::isfinite(d)) return bad_item("a number is not finite");
      return json{{"N", value.dump()}};  // shortest text that reads back as the same double
    }
    case json::value_t::object: {
      json m = json::object();
      for (const auto& [name, member] : value.items()) {
        auto av = to_attribute_value(member);
        if (!av) return av.error();
        if (!av->is_null()) m[name] = std::move(*av);
      }
      return json{{"M", std::move(m)}};
    }
    case json::value_t::array: {
      json l = json::array();
      for (const auto& element : value) {
        auto av = to_attribute_value(element);
        if (!av) return av.error();
        l.push_back(av->is_null() ? json{{"NULL", true}} : std::move(*av));
      }
      return json{{"L", std::move(l)}};
    }
    case json::value_t::binary:
      return bad_item("binary values are not stored");
  }
  return bad_item("unknown JSON type");
}

Result<nlohmann::json> from_attribute_value(const nlohmann::json& attribute, int depth) {
  using nlohmann::json;
  if (depth > kMaxAttributeDepth) return bad_item("nested too deeply");
  if (!attribute.is_object() || attribute.size() != 1) return bad_item("an attribute value must have one type");
  const auto first = attribute.begin();
  const std::string& type = first.key();
  const nlohmann::json& v = first.value();
  if (type == "S") {
    if (!v.is_string()) return bad_item("S is not a string");
    return v;
  }
  if (type == "N") {
    if (!v.is_string()) return bad_item("N is not a string");
    auto number = json::parse(v.get<std::string>(), nullptr, /*allow_exceptions=*/false);
    if (!number.is_number()) return bad_item("N '" + v.get<std::string>().substr(0, 64) + "' is not a number");
    return number;
  }
  if (type == "BOOL") {
    if (!v.is_boolean()) return bad_item("BOOL is not a boolean");
    return v;
  }
  if (type == "NULL") return json();
  if (type == "M") {
    if (!v.is_object()) return bad_item("M is not an object");
    json out = json::object();
    for (const auto& [name, member] : v.items()) {
      auto value = from_attribute_value(member, depth + 1);
      if (!value) return value.error();
      out[name] = std::move(*value);
    }
    return out;
  }
  if (type == "L") {
    if (!v.is_array()) return bad_item("L is not an array");
    json out = json::array();
    for (const auto& element : v) {
      auto value = from_attribute_value(element, depth + 1);
      if (!value) return value.error();
      out.push_back(std::move(*value));
    }
    return out;
  }
  return bad_item("attribute type '" + type + "' is not used by records");
}

Result<nlohmann::json> record_to_item(const ImageRecord& record, int shards) {
  nlohmann::json as_json;
  try {
    as_json = record;
  } catch (const nlohmann::json::exception& e) {
    return bad_item(std::string("record cannot be written: ") + e.what());
  }
  auto av = to_attribute_value(as_json);
  if (!av) return av.error();
  nlohmann::json item = std::move((*av)["M"]);
  item[std::string(kUploadDayAttribute)] = {
      {"S", upload_day_key(record.upload_date, shard_of(record.image_id, shards))}};
  return item;
}

Result<ImageRecord> item_to_record(const nlohmann::json& item) {
  if (!item.is_object()) return bad_item("not an object");
  auto value = from_attribute_value(nlohmann::json{{"M", item}});
  if (!value) return value.error();
  value->erase(std::string(kUploadDayAttribute));
  try {
    return value->get<ImageRecord>();
  } catch (const nlohmann::json::exception& e) {
    return bad_item(std::string("not a catalog record: ") + e.what());
  }
}

}  // namespace thumbflow::catalog::dynamo
