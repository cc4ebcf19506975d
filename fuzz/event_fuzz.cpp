// Event documents (S3 notifications, SQS batches of S3 or EventBridge bodies, EventBridge
// events, s3:TestEvent) through events::decode_event_document and the single-shape decoders.
// Checks: every decoded ObjectCreated has a bucket, a key of at most 1024 bytes and an
// ObjectCreated:* name; the whole-document decoder agrees with the single-shape decoders; and
// each decoded object, written back as an AWS S3 notification (key URL-encoded, as AWS sends
// it), decodes to the same bucket, key, size and ETag.
#include <string>

#include <nlohmann/json.hpp>

#include "aws/primitives.hpp"
#include "events/event_decoder.hpp"
#include "fuzz_check.hpp"

using namespace thumbflow;

namespace {

void check_object(const ObjectCreated& ev) {
  FUZZ_CHECK(!ev.bucket.empty());
  FUZZ_CHECK(!ev.key.empty() && ev.key.size() <= 1024);
  FUZZ_CHECK(ev.event_name.rfind("ObjectCreated:", 0) == 0);
}

// AWS's own notification for this object; decoding it must give the object back.
void check_round_trip(const ObjectCreated& ev) {
  nlohmann::json rec = {
      {"eventSource", "aws:s3"},
      {"eventName", ev.event_name},
      {"eventTime", "2024-01-01T00:00:00.000Z"},
      {"s3",
       {{"bucket", {{"name", ev.bucket}}},
        {"object", {{"key", aws::uri_encode(ev.key, /*encode_slash=*/true)}, {"size", ev.size}, {"eTag", ev.etag}}}}}};
  nlohmann::json doc = {{"Records", nlohmann::json::array({rec})}};
  std::string text;
  try {
    text = doc.dump();
  } catch (const nlohmann::json::type_error&) {
    return;  // a bucket or name that is not UTF-8 cannot be written as JSON; the key is encoded
  }
  auto back = events::decode_s3_notification(text);
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(back->size() == 1);
  const ObjectCreated& b = back->front();
  FUZZ_CHECK(b.bucket == ev.bucket && b.key == ev.key && b.size == ev.size);
  // strip_quotes takes one pair off; an ETag that still has quotes loses another pair here.
  if (ev.etag.size() < 2 || ev.etag.front() != '"' || ev.etag.back() != '"') FUZZ_CHECK(b.etag == ev.etag);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_view(data, size);
  auto doc = events::decode_event_document(text);
  if (!doc) {
    FUZZ_CHECK(!doc.error().message.empty());
    return 0;
  }
  FUZZ_CHECK(doc->messages.size() <= events::kMaxRecordsPerDocument);
  std::size_t count = 0;
  for (const auto& m : doc->messages) {
    if (m.error) FUZZ_CHECK(m.objects.empty() && !m.error->message.empty());
    for (const auto& ev : m.objects) {
      check_object(ev);
      check_round_trip(ev);
    }
    count += m.objects.size();
  }
  FUZZ_CHECK(doc->all_objects().size() == count);

  if (doc->kind == events::DocumentKind::s3_notification) {
    auto direct = events::decode_s3_notification(text);
    FUZZ_CHECK(direct.ok() && direct->size() == count);
  }
  if (doc->kind == events::DocumentKind::eventbridge && count == 1) {
    auto direct = events::decode_eventbridge(text);
    FUZZ_CHECK(direct.ok() && direct->key == doc->messages.front().objects.front().key);
  }
  return 0;
}
