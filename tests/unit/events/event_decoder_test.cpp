#include <gtest/gtest.h>

#include "events/event_decoder.hpp"
#include "test_support.hpp"

namespace thumbflow::events {
namespace {
std::string fixture(const char* name) { return test::read_bytes(test::source_dir() / "tests/fixtures/events" / name); }

std::string s3_doc(const std::string& source, const std::string& key, const std::string& event = "ObjectCreated:Put") {
  return R"({"Records":[{"eventSource":")" + source + R"(","eventName":")" + event +
         R"(","eventTime":"2026-11-25T12:00:00.000Z","s3":{"bucket":{"name":"bkt"},"object":{"key":")" + key +
         R"(","size":7,"eTag":"\"abc\"","sequencer":"0A"}}}]})";
}
}  // namespace

TEST(DecodeEventDocument, aws_sample_s3_put_event) {
  auto doc = decode_event_document(fixture("aws-s3-put.json"));
  ASSERT_TRUE(doc.ok()) << doc.error().describe();
  EXPECT_EQ(doc->kind, DocumentKind::s3_notification);
  auto objs = doc->all_objects();
  ASSERT_EQ(objs.size(), 1u);
  EXPECT_EQ(objs[0].bucket, "service-1474780369352-1");
  EXPECT_EQ(objs[0].key, "object");
  EXPECT_EQ(objs[0].size, 11u);
  EXPECT_EQ(objs[0].etag, "5eb63bbbe01eetd093cb22bb8f5acdc3");
  EXPECT_EQ(objs[0].sequencer, "0057E75D80IA35C3E0");
  EXPECT_EQ(objs[0].event_name, "ObjectCreated:Put");
  EXPECT_EQ(objs[0].source, "aws:s3");
  EXPECT_EQ(objs[0].event_time, "2016-09-25T05:15:44.261Z");
}

TEST(DecodeEventDocument, aws_keys_are_url_decoded_exactly_once) {
  auto objs = decode_s3_notification(s3_doc("aws:s3", "uploads/my+photo+%282%29.jpg"));
  ASSERT_TRUE(objs.ok());
  EXPECT_EQ((*objs)[0].key, "uploads/my photo (2).jpg");
  objs = decode_s3_notification(s3_doc("aws:s3", "uploads/a%2Bb.jpg"));
  EXPECT_EQ((*objs)[0].key, "uploads/a+b.jpg");
  objs = decode_s3_notification(s3_doc("aws:s3", "uploads/100%2525.jpg"));  // "100%25.jpg" stored
  EXPECT_EQ((*objs)[0].key, "uploads/100%25.jpg");
  objs = decode_s3_notification(s3_doc("aws:s3", "uploads/%C3%A9t%C3%A9.jpg"));
  EXPECT_EQ((*objs)[0].key, "uploads/\xC3\xA9t\xC3\xA9.jpg");
  EXPECT_EQ((*objs)[0].etag, "abc");  // quotes stripped
}

TEST(DecodeEventDocument, ceph_and_s3rver_keys_are_taken_as_stored) {
  auto doc = decode_event_document(fixture("ceph-rgw-put.json"));
  ASSERT_TRUE(doc.ok());
  auto objs = doc->all_objects();
  ASSERT_EQ(objs.size(), 1u);
  EXPECT_EQ(objs[0].key, "uploads/my photo+1.jpg");
  EXPECT_EQ(objs[0].source, "ceph:s3");
  auto raw = decode_s3_notification(s3_doc("minio:s3", "uploads/a+b%2B.jpg"));
  EXPECT_EQ((*raw)[0].key, "uploads/a+b%2B.jpg");
}

TEST(DecodeEventDocument, sqs_batch_wrapping_s3_events_with_test_event_skipped) {
  auto doc = decode_event_document(fixture("aws-sqs-s3.json"));
  ASSERT_TRUE(doc.ok()) << doc.error().describe();
  EXPECT_EQ(doc->kind, DocumentKind::sqs_batch);
  ASSERT_EQ(doc->messages.size(), 3u);
  EXPECT_EQ(doc->messages[0].message_id, "059f36b4-87a3-44ab-83d2-661975830000");
  ASSERT_EQ(doc->messages[0].objects.size(), 1u);
  EXPECT_EQ(doc->messages[0].objects[0].key, "uploads/my photo (2).jpg");
  EXPECT_EQ(doc->messages[1].objects[0].key, "uploads/a+b.jpg");
  EXPECT_TRUE(doc->messages[2].objects.empty());  // s3:TestEvent
  EXPECT_FALSE(doc->messages[2].error.has_value());
}

TEST(DecodeEventDocument, sqs_message_with_a_bad_body_fails_alone) {
  auto doc = decode_event_document(fixture("aws-sqs-template.json"));  // body is "test"
  ASSERT_TRUE(doc.ok());
  ASSERT_EQ(doc->messages.size(), 1u);
  ASSERT_TRUE(doc->messages[0].error.has_value());
  EXPECT_NE(doc->messages[0].error->message.find("059f36b4-87a3-44ab-83d2-661975830a7d"), std::string::npos);
}

TEST(DecodeEventDocument, eventbridge_object_created_keys_raw) {
  auto doc = decode_event_document(fixture("aws-eventbridge-object-created.json"));
  ASSERT_TRUE(doc.ok()) << doc.error().describe();
  EXPECT_EQ(doc->kind, DocumentKind::eventbridge);
  auto objs = doc->all_objects();
  ASSERT_EQ(objs.size(), 1u);
  EXPECT_EQ(objs[0].bucket, "example-bucket");
  EXPECT_EQ(objs[0].key, "uploads/example key:1.jpg");
  EXPECT_EQ(objs[0].version_id, "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e");
  EXPECT_EQ(objs[0].version_or_etag(), "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e");
  EXPECT_EQ(objs[0].event_name, "ObjectCreated:PutObject");
}

TEST(DecodeEventDocument, removals_give_no_objects) {
  auto objs = decode_s3_notification(s3_doc("aws:s3", "uploads/x.jpg", "ObjectRemoved:Delete"));
  ASSERT_TRUE(objs.ok());
  EXPECT_TRUE(objs->empty());
}

TEST(DecodeEventDocument, hostile_documents_are_clear_errors) {
  for (const std::string& bad :
       {std::string("not json"), std::string("[]"), std::string("{}"), std::string(R"({"Records": 5})"),
        std::string(R"({"Records":[{"eventName":"ObjectCreated:Put"}]})"),
        std::string(R"({"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":""},"object":{"key":"k"}}}]})"),
        s3_doc("aws:s3", "bad%zzkey"), s3_doc("aws:s3", std::string(1100, 'k')),
        std::string(R"({"detail-type":"Object Created","detail":{}})"),
        std::string(kMaxEventDocumentBytes + 1, ' ')}) {
    auto doc = decode_event_document(bad);
    bool failed = !doc.ok() || (doc->messages.size() == 1 && doc->messages[0].error.has_value());
    EXPECT_TRUE(failed) << bad.substr(0, 80);
    if (!doc.ok()) {
      EXPECT_EQ(doc.error().kind, ErrorKind::invalid_argument);
    }
  }
}

}  // namespace thumbflow::events
