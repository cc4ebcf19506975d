// The catalog's primary key for one uploaded object version.
#pragma once

#include <string>
#include <string_view>

namespace thumbflow::catalog {

// imageId = the first 32 lower-case hex digits (128 bits) of
//   SHA-256( "thumbflow-image-id-v1" || enc(bucket) || enc(key) || enc(version_or_etag) )
// where enc(s) is the byte length of s as 8 bytes big-endian followed by the bytes of s.
//
// Why this form:
// - Deterministic: the same upload seen twice (a redelivered event, a retried job, two Lambda
//   instances racing) gets the same id, so put_if_absent turns duplicates into no-ops.
// - Length prefixes make the encoding injective: ("a/b", "c") and ("a", "b/c") differ, which a
//   separator could not guarantee because keys may contain any byte.
// - The version (or the ETag on unversioned buckets) is part of the identity: overwriting a key
//   is a new upload and gets its own record.
// - The domain prefix keeps ids from colliding with any other SHA-256 use of the same bytes;
//   changing the scheme means a new prefix ("-v2"), never a silent change of existing ids.
// - 128 bits are plenty against accidental collisions and keep DynamoDB keys short.
std::string make_image_id(std::string_view bucket, std::string_view key, std::string_view version_or_etag);

}  // namespace thumbflow::catalog
