#include "events/event_decoder.hpp"

#include <nlohmann/json.hpp>

#include "aws/primitives.hpp"

namespace thumbflow::events {
namespace {
using json = nlohmann::json;

Error bad(const std::string& why) { return make_error(ErrorKind::invalid_argument, "bad event document: " + why); }

std::string str(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_unsigned()) return std::to_string(it->get<std::uint64_t>());
  return {};
}

std::uint64_t u64(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) return 0;
  if (it->is_number_unsigned()) return it->get<std::uint64_t>();
  if (it->is_number_integer() && it->get<std::int64_t>() >= 0) return static_cast<std::uint64_t>(it->get<std::int64_t>());
  return 0;
}

std::string strip_quotes(std::string etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return etag;
}

Result<json> parse(std::string_view text) {
  if (text.size() > kMaxEventDocumentBytes)
    return bad("it is " + std::to_string(text.size()) + " bytes, over the limit of " +
               std::to_string(kMaxEventDocumentBytes));
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return bad("not valid JSON");
  return j;
}

bool is_created(const std::string& event_name) { return event_name.rfind("ObjectCreated:", 0) == 0; }

// One S3 notification record -> ObjectCreated, or nothing for other event names.
Result<std::optional<ObjectCreated>> decode_s3_record(const json& rec) {
  if (!rec.is_object()) return bad("a record is not an object");
  std::string name = str(rec, "eventName");
  if (!is_created(name)) return std::optional<ObjectCreated>{};
  auto s3 = rec.find("s3");
  if (s3 == rec.end() || !s3->is_object()) return bad("record has no s3 section");
  auto bucket = s3->find("bucket");
  auto object = s3->find("object");
  if (bucket == s3->end() || object == s3->end() || !bucket->is_object() || !object->is_object())
    return bad("record has no s3.bucket or s3.object");
  ObjectCreated ev;
  ev.source = str(rec, "eventSource");
  ev.event_name = name;
  ev.event_time = str(rec, "eventTime");
  ev.bucket = str(*bucket, "name");
  std::string raw_key = str(*object, "key");
  if (ev.source == "aws:s3") {
    // AWS URL-encodes keys in notifications (form encoding: '+' is a space).
    auto decoded = aws::uri_decode(raw_key, /*plus_is_space=*/true);
    if (!decoded) return bad("key '" + raw_key.substr(0, 200) + "' is not validly URL-encoded");
    ev.key = std::move(*decoded);
  } else {
    ev.key = std::move(raw_key);
  }
  ev.size = u64(*object, "size");
  ev.etag = strip_quotes(str(*object, "eTag"));
  ev.version_id = str(*object, "versionId");
  ev.sequencer = str(*object, "sequencer");
  if (ev.bucket.empty() || ev.key.empty()) return bad("record has an empty bucket name or key");
  if (ev.key.size() > kMaxKeyBytes) return bad("key is over 1024 bytes");
  return std::optional<ObjectCreated>{std::move(ev)};
}

Result<std::vector<ObjectCreated>> decode_s3_records(const json& doc) {
  // S3 sends a test event ({"Event": "s3:TestEvent", ...}) when notifications are configured.
  if (doc.is_object() && str(doc, "Event") == "s3:TestEvent") return std::vector<ObjectCreated>{};
  auto records = doc.is_object() ? doc.find("Records") : doc.end();
  if (!doc.is_object() || records == doc.end() || !records->is_array()) return bad("no Records array");
  if (records->size() > kMaxRecordsPerDocument) return bad("too many records");
  std::vector<ObjectCreated> out;
  for (const auto& rec : *records) {
    auto ev = decode_s3_record(rec);
    if (!ev) return ev.error();
    if (*ev) out.push_back(std::move(**ev));
  }
  return out;
}

Result<ObjectCreated> decode_eventbridge_json(const json& doc) {
  if (str(doc, "detail-type") != "Object Created") return bad("detail-type is not \"Object Created\"");
  auto detail = doc.find("detail");
  if (detail == doc.end() || !detail->is_object()) return bad("no detail");
  auto bucket = detail->find("bucket");
  auto object = detail->find("object");
  if (bucket == detail->end() || object == detail->end() || !bucket->is_object() || !object->is_object())
    return bad("no detail.bucket or detail.object");
  ObjectCreated ev;
  ev.source = str(doc, "source");
  ev.event_name = "ObjectCreated:" + str(*detail, "reason");
  ev.event_time = str(doc, "time");
  ev.bucket = str(*bucket, "name");
  ev.key = str(*object, "key");
  ev.size = u64(*object, "size");
  ev.etag = strip_quotes(str(*object, "etag"));
  ev.version_id = str(*object, "version-id");
  ev.sequencer = str(*object, "sequencer");
  if (ev.bucket.empty() || ev.key.empty()) return bad("empty bucket name or key");
  if (ev.key.size() > kMaxKeyBytes) return bad("key is over 1024 bytes");
  return ev;
}

bool is_sqs_batch(const json& doc) {
  auto records = doc.find("Records");
  if (records == doc.end() || !records->is_array() || records->empty()) return false;
  const auto& first = (*records)[0];
  return first.is_object() && str(first, "eventSource") == "aws:sqs";
}

}  // namespace

std::vector<ObjectCreated> DecodedDocument::all_objects() const {
  std::vector<ObjectCreated> out;
  for (const auto& m : messages) out.insert(out.end(), m.objects.begin(), m.objects.end());
  return out;
}

Result<std::vector<ObjectCreated>> decode_s3_notification(std::string_view text) {
  auto doc = parse(text);
  if (!doc) return doc.error();
  return decode_s3_records(*doc);
}

Result<ObjectCreated> decode_eventbridge(std::string_view text) {
  auto doc = parse(text);
  if (!doc) return doc.error();
  if (!doc->is_object()) return bad("not an object");
  return decode_eventbridge_json(*doc);
}

Result<DecodedDocument> decode_event_document(std::string_view text) {
  auto parsed = parse(text);
  if (!parsed) return parsed.error();
  const json& doc = *parsed;
  if (!doc.is_object()) return bad("not a JSON object");
  DecodedDocument out;
  if (doc.contains("detail-type")) {
    out.kind = DocumentKind::eventbridge;
    DecodedMessage m;
    auto ev = decode_eventbridge_json(doc);
    if (ev) m.objects.push_back(std::move(*ev));
    else if (str(doc, "detail-type") == "Object Created") m.error = ev.error();
    out.messages.push_back(std::move(m));
    return out;
  }
  if (is_sqs_batch(doc)) {
    out.kind = DocumentKind::sqs_batch;
    const auto& records = doc["Records"];
    if (records.size() > kMaxRecordsPerDocument) return bad("too many records");
    for (const auto& rec : records) {
      DecodedMessage m;
      m.message_id = rec.is_object() ? str(rec, "messageId") : std::string();
      std::string body = rec.is_object() ? str(rec, "body") : std::string();
      auto inner = parse(body);
      if (!inner) {
        m.error = make_error(ErrorKind::invalid_argument, "SQS message " + m.message_id + ": " + inner.error().message);
      } else if (inner->is_object() && inner->contains("detail-type")) {
        auto ev = decode_eventbridge_json(*inner);  // EventBridge -> SQS
        if (ev) m.objects.push_back(std::move(*ev));
        else m.error = ev.error();
      } else {
        auto evs = decode_s3_records(*inner);
        if (evs) m.objects = std::move(*evs);
        else m.error = make_error(ErrorKind::invalid_argument, "SQS message " + m.message_id + ": " + evs.error().message);
      }
      out.messages.push_back(std::move(m));
    }
    return out;
  }
  if (doc.contains("Records") || str(doc, "Event") == "s3:TestEvent") {
    out.kind = DocumentKind::s3_notification;
    auto evs = decode_s3_records(doc);
    if (!evs) return evs.error();
    DecodedMessage m;
    m.objects = std::move(*evs);
    out.messages.push_back(std::move(m));
    return out;
  }
  return bad("neither an S3 notification, an SQS batch nor an EventBridge event");
}

}  // namespace thumbflow::events
