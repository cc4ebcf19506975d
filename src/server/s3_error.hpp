// S3's error vocabulary: every failure the endpoint reports is one of S3's documented codes with
// its HTTP status, so clients (botocore, the JavaScript SDK) take the same branch as against S3.
// Internally failures travel as thumbflow::Error whose `code` is the S3 code; to_s3_error() maps
// the rest by kind.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace thumbflow::server {

struct S3Error {
  int status = 500;
  std::string code = "InternalError";
  std::string message;
  // Extra elements of the <Error> document, in order (e.g. BucketName, Key, UploadId).
  std::vector<std::pair<std::string, std::string>> details;
};

// The HTTP status S3 uses for a code; 400 for codes it does not know, 500 for InternalError.
int s3_status_for(std::string_view code);
// S3's own wording for a code, used when the caller has nothing more specific.
std::string_view s3_default_message(std::string_view code);

// A thumbflow::Error carrying an S3 code; the ErrorKind follows from the code.
Error s3_failure(std::string_view code, std::string message = {});
S3Error make_s3_error(std::string_view code, std::string message = {});
// Errors from the store and the parsers: their code when it is an S3 code, else by kind
// (not_found -> NoSuchKey, too_large -> EntityTooLarge, io/internal -> InternalError, ...).
S3Error to_s3_error(const Error& error);

}  // namespace thumbflow::server
