// AWS Signature Version 4 for S3 requests: canonical request, string to sign,
// signing key and the Authorization header, over OpenSSL's HMAC-SHA256 and
// SHA-256. Pure functions of their inputs (the caller passes the time), so
// AWS's published examples are known-answer tests.
//
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace quay::storage::s3 {

using NameValues = std::vector<std::pair<std::string, std::string>>;

struct SigV4Credentials {
  std::string access_key;
  std::string secret_key;  // only ever an HMAC key: never logged, never in a message
  std::string region;
  std::string service = "s3";
};

struct SigV4Request {
  std::string method;
  // The path as sent: already URI-encoded, "/" kept (UriEncode(path, false)).
  std::string canonical_uri;
  // Decoded query parameters, in any order; a flag parameter ("uploads")
  // has an empty value.
  NameValues query;
  // Every header to sign, names in any case; must include host, and for S3
  // x-amz-date and x-amz-content-sha256.
  NameValues headers;
  // Hex SHA-256 of the body, or "UNSIGNED-PAYLOAD".
  std::string payload_sha256;
};

struct SigV4Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;x-amz-date;..."
  std::string signature;       // lower-case hex
  std::string authorization;   // the Authorization header's value
};

// `amz_date` is the request's x-amz-date, "YYYYMMDDTHHMMSSZ".
SigV4Signature SignV4(const SigV4Credentials& credentials, std::string_view amz_date,
                      const SigV4Request& request);

// The query string of a presigned URL (query-string authentication):
// `method` on `canonical_uri` at `host`, valid for `expires` (1 s to 7 days)
// from `amz_date`, signing only the host header, the payload unsigned. The
// X-Amz-* parameters, sorted and encoded, then X-Amz-Signature.
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
std::string PresignV4Query(const SigV4Credentials& credentials, std::string_view amz_date,
                           std::string_view method, std::string_view canonical_uri,
                           std::string_view host, std::chrono::seconds expires);

// "YYYYMMDDTHHMMSSZ" in UTC.
std::string AmzDate(std::chrono::system_clock::time_point when);

// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters
// (A-Z a-z 0-9 - . _ ~) stay, everything else is %XX in upper-case hex; "/"
// stays unless `encode_slash`.
std::string UriEncode(std::string_view text, bool encode_slash);

// Hex SHA-256 of `data` (lower case).
std::string Sha256Hex(std::string_view data);

// The query string as sent and as signed: encoded, sorted by name then value.
std::string CanonicalQuery(const NameValues& query);

}  // namespace quay::storage::s3
