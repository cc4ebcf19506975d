// Where an object lives: a bucket and a key. Keys are opaque UTF-8 strings up to 1024 bytes, as
// in S3; each store decides how (and whether) a key can be stored, and says why not.
#pragma once

#include <string>

namespace thumbflow {

struct ObjectRef {
  std::string bucket;
  std::string key;
  bool operator==(const ObjectRef&) const = default;
  std::string uri() const { return "s3://" + bucket + "/" + key; }  // for messages
};

inline constexpr std::size_t kMaxKeyBytes = 1024;

}  // namespace thumbflow
