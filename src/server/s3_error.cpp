#include "server/s3_error.hpp"

#include <array>

namespace thumbflow::server {
namespace {

struct CodeInfo {
  std::string_view code;
  int status;
  ErrorKind kind;
  std::string_view message;
};

// From S3's error code list; the messages are S3's own.
constexpr std::array kCodes = {
    CodeInfo{"AccessDenied", 403, ErrorKind::access_denied, "Access Denied"},
    CodeInfo{"AuthorizationHeaderMalformed", 400, ErrorKind::access_denied,
             "The authorization header you provided is invalid."},
    CodeInfo{"AuthorizationQueryParametersError", 400, ErrorKind::access_denied,
             "Error parsing the X-Amz-Credential parameter."},
    CodeInfo{"BadDigest", 400, ErrorKind::invalid_argument,
             "The Content-MD5 or checksum value that you specified did not match what the server received."},
    CodeInfo{"BucketAlreadyExists", 409, ErrorKind::already_exists,
             "The requested bucket name is not available."},
    CodeInfo{"BucketAlreadyOwnedByYou", 409, ErrorKind::already_exists,
             "Your previous request to create the named bucket succeeded and you already own it."},
    CodeInfo{"BucketNotEmpty", 409, ErrorKind::precondition_failed,
             "The bucket you tried to delete is not empty."},
    CodeInfo{"EntityTooLarge", 400, ErrorKind::too_large,
             "Your proposed upload exceeds the maximum allowed object size."},
    CodeInfo{"EntityTooSmall", 400, ErrorKind::invalid_argument,
             "Your proposed upload is smaller than the minimum allowed object size."},
    CodeInfo{"IncompleteBody", 400, ErrorKind::invalid_argument,
             "You did not provide the number of bytes specified by the Content-Length HTTP header."},
    CodeInfo{"InternalError", 500, ErrorKind::internal, "We encountered an internal error. Please try again."},
    CodeInfo{"InvalidAccessKeyId", 403, ErrorKind::access_denied,
             "The AWS access key Id you provided does not exist in our records."},
    CodeInfo{"InvalidArgument", 400, ErrorKind::invalid_argument, "Invalid Argument"},
    CodeInfo{"InvalidBucketName", 400, ErrorKind::invalid_argument, "The specified bucket is not valid."},
    CodeInfo{"InvalidDigest", 400, ErrorKind::invalid_argument,
             "The Content-MD5 or checksum value you specified is not valid."},
    CodeInfo{"InvalidPart", 400, ErrorKind::invalid_argument,
             "One or more of the specified parts could not be found. The part might not have been uploaded, or "
             "the specified entity tag might not have matched the part's entity tag."},
    CodeInfo{"InvalidPartOrder", 400, ErrorKind::invalid_argument,
             "The list of parts was not in ascending order. Parts must be ordered by part number."},
    CodeInfo{"InvalidRange", 416, ErrorKind::invalid_argument, "The requested range is not satisfiable"},
    CodeInfo{"InvalidRequest", 400, ErrorKind::invalid_argument, "Invalid Request"},
    CodeInfo{"InvalidURI", 400, ErrorKind::invalid_argument, "Couldn't parse the specified URI."},
    CodeInfo{"InvalidToken", 400, ErrorKind::access_denied,
             "The provided token is malformed or otherwise invalid."},
    CodeInfo{"KeyTooLongError", 400, ErrorKind::too_large, "Your key is too long."},
    CodeInfo{"MalformedXML", 400, ErrorKind::invalid_argument,
             "The XML you provided was not well-formed or did not validate against our published schema."},
    CodeInfo{"MetadataTooLarge", 400, ErrorKind::too_large,
             "Your metadata headers exceed the maximum allowed metadata size."},
    CodeInfo{"MethodNotAllowed", 405, ErrorKind::invalid_argument,
             "The specified method is not allowed against this resource."},
    CodeInfo{"MissingContentLength", 411, ErrorKind::invalid_argument,
             "You must provide the Content-Length HTTP header."},
    CodeInfo{"NoSuchBucket", 404, ErrorKind::not_found, "The specified bucket does not exist."},
    CodeInfo{"NoSuchKey", 404, ErrorKind::not_found, "The specified key does not exist."},
    CodeInfo{"NoSuchUpload", 404, ErrorKind::not_found,
             "The specified upload does not exist. The upload ID may be invalid, or the upload may have been "
             "aborted or completed."},
    CodeInfo{"NotImplemented", 501, ErrorKind::invalid_argument,
             "A header you provided implies functionality that is not implemented."},
    CodeInfo{"NotModified", 304, ErrorKind::precondition_failed, "Not Modified"},
    CodeInfo{"PreconditionFailed", 412, ErrorKind::precondition_failed,
             "At least one of the preconditions you specified did not hold."},
    CodeInfo{"RequestHeaderSectionTooLarge", 400, ErrorKind::too_large,
             "Your request header section exceeds the maximum allowed size."},
    CodeInfo{"RequestTimeTooSkewed", 403, ErrorKind::access_denied,
             "The difference between the request time and the current time is too large."},
    CodeInfo{"ServiceUnavailable", 503, ErrorKind::unavailable, "Please reduce your request rate."},
    CodeInfo{"SignatureDoesNotMatch", 403, ErrorKind::access_denied,
             "The request signature we calculated does not match the signature you provided. Check your key "
             "and signing method."},
    CodeInfo{"XAmzContentSHA256Mismatch", 400, ErrorKind::invalid_argument,
             "The provided 'x-amz-content-sha256' header does not match what was computed."},
};

const CodeInfo* find(std::string_view code) {
  for (const auto& c : kCodes)
    if (c.code == code) return &c;
  return nullptr;
}

}  // namespace

int s3_status_for(std::string_view code) {
  const CodeInfo* c = find(code);
  return c ? c->status : 400;
}

std::string_view s3_default_message(std::string_view code) {
  const CodeInfo* c = find(code);
  return c ? c->message : std::string_view{};
}

Error s3_failure(std::string_view code, std::string message) {
  const CodeInfo* c = find(code);
  if (message.empty() && c) message = std::string(c->message);
  return make_error(c ? c->kind : ErrorKind::invalid_argument, std::move(message), std::string(code));
}

S3Error make_s3_error(std::string_view code, std::string message) {
  S3Error e;
  e.code = std::string(code);
  e.status = s3_status_for(code);
  e.message = message.empty() ? std::string(s3_default_message(code)) : std::move(message);
  return e;
}

S3Error to_s3_error(const Error& error) {
  if (!error.code.empty() && find(error.code)) return make_s3_error(error.code, error.message);
  if (error.code == "KeyNotStorable") return make_s3_error("InvalidArgument", error.message);
  switch (error.kind) {
    case ErrorKind::not_found: return make_s3_error("NoSuchKey", error.message);
    case ErrorKind::too_large: return make_s3_error("EntityTooLarge", error.message);
    case ErrorKind::precondition_failed: return make_s3_error("PreconditionFailed", error.message);
    case ErrorKind::already_exists: return make_s3_error("PreconditionFailed", error.message);
    case ErrorKind::access_denied: return make_s3_error("AccessDenied", error.message);
    case ErrorKind::invalid_argument:
    case ErrorKind::unsupported_format:
    case ErrorKind::corrupt: return make_s3_error("InvalidArgument", error.message);
    case ErrorKind::unavailable: return make_s3_error("ServiceUnavailable", error.message);
    case ErrorKind::io:
    case ErrorKind::internal: break;
  }
  // Internal details (paths, errno text) stay in the server's log, not in the response.
  return make_s3_error("InternalError");
}

}  // namespace thumbflow::server
