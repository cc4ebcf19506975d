// One "an object was created" fact, whatever announced it: an S3 notification (AWS, Ceph RADOS
// Gateway, s3rver), an SQS message wrapping one, an EventBridge event, or the local endpoint.
#pragma once

#include <cstdint>
#include <string>

#include "core/object_ref.hpp"

namespace thumbflow {

struct ObjectCreated {
  std::string bucket;
  std::string key;         // decoded exactly once: the key as stored
  std::uint64_t size = 0;
  std::string etag;        // without quotes
  std::string version_id;  // empty when the bucket does not version
  std::string sequencer;   // orders events for one key; may be empty
  std::string event_time;  // ISO-8601 as the source gave it
  std::string event_name;  // "ObjectCreated:Put", "ObjectCreated:CompleteMultipartUpload", ...
  std::string source;      // "aws:s3", "ceph:s3", "aws.s3" (EventBridge), "thumbflow" (local)

  ObjectRef ref() const { return ObjectRef{bucket, key}; }
  // What identifies this version of the object: the version id, else the ETag.
  const std::string& version_or_etag() const { return version_id.empty() ? etag : version_id; }
};

// Compares two S3 sequencers for one key: hex strings of possibly different lengths, compared
// as numbers. Negative when a is older than b.
int compare_sequencers(const std::string& a, const std::string& b);

}  // namespace thumbflow
