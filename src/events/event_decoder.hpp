// Decoders from the event documents thumbflow receives to ObjectCreated values. Every document
// is untrusted input: size-capped, shape-checked, and decoded without exceptions escaping.
//
// Key encoding differs by sender, and each key is decoded exactly once:
//   AWS S3 notifications (eventSource "aws:s3", directly or inside SQS): URL-encoded, '+' is a
//     space and "%2B" a plus;
//   Ceph RADOS Gateway ("ceph:s3"), s3rver, MinIO-style senders, EventBridge ("aws.s3"), and
//     thumbflow's own endpoint: the key as stored.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/object_created.hpp"

namespace thumbflow::events {

inline constexpr std::size_t kMaxEventDocumentBytes = 1024 * 1024;  // SQS and Lambda payloads are smaller
inline constexpr std::size_t kMaxRecordsPerDocument = 10'000;

// One message of a batch (an SQS record, or the whole document for other shapes).
struct DecodedMessage {
  std::string message_id;              // SQS messageId; empty for other shapes
  std::vector<ObjectCreated> objects;  // ObjectCreated events only; removals and test events give none
  std::optional<Error> error;          // this message could not be decoded
};

enum class DocumentKind { s3_notification, sqs_batch, eventbridge, unknown };

struct DecodedDocument {
  DocumentKind kind = DocumentKind::unknown;
  std::vector<DecodedMessage> messages;
  // Every decoded ObjectCreated, in document order.
  std::vector<ObjectCreated> all_objects() const;
};

// Recognises the shape (S3 "Records", SQS "Records" with eventSource aws:sqs, EventBridge
// "detail-type") and decodes it. An error only for a document that is not JSON or has none of
// these shapes; a bad SQS message is reported in its own DecodedMessage.
Result<DecodedDocument> decode_event_document(std::string_view json_text);

// The pieces, for callers that know the shape.
Result<std::vector<ObjectCreated>> decode_s3_notification(std::string_view json_text);
Result<ObjectCreated> decode_eventbridge(std::string_view json_text);

}  // namespace thumbflow::events
