// The few S3 operations the blob driver needs, as calls that return
// quay::Status values: objects (put, ranged get, head, delete, copy, list
// with pagination) and multipart uploads assembled from server-side part
// copies. Path-style addressing (endpoint/bucket/key), which every
// S3-compatible store accepts. Requests are signed with SigV4.
//
// Errors: NotFound(subject) for a missing object or upload, Unavailable when
// the store cannot be reached or answers 5xx, Conflict for a failed
// precondition, Internal for anything else (denied access, a malformed
// answer). Messages name the operation, the key and the store's error code,
// never a credential.
//
// Thread safety: an S3Client is immutable and safe to share.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "quay/clock.h"
#include "quay/status.h"
#include "storage/s3/http_transport.h"
#include "storage/s3/sigv4_signer.h"

namespace quay::storage::s3 {

struct S3ClientConfig {
  std::string endpoint;  // "http://127.0.0.1:7480" or "https://s3.us-east-1.amazonaws.com"
  std::string bucket;
  SigV4Credentials credentials;
  // Keys per list request (max-keys, max-uploads); 0: the store's default
  // (1000). Tests make it small to exercise pagination.
  int list_page_size = 0;
};

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
};

struct MultipartUploadInfo {
  std::string key;
  std::string upload_id;
};

// A ranged read's bytes and the object's full size.
struct ObjectRange {
  std::string bytes;
  uint64_t object_size = 0;
};

class S3Client {
 public:
  S3Client(S3ClientConfig config, std::shared_ptr<HttpTransport> transport,
           std::shared_ptr<Clock> clock);

  // OK if the bucket exists already and is ours.
  Status CreateBucket() const;
  // OK if the bucket exists and answers; NotFound if it does not exist.
  Status HeadBucket() const;
  // With `if_absent`, Conflict when the key exists (If-None-Match: *).
  Status PutObject(std::string_view key, std::string_view body, bool if_absent = false) const;
  // Up to `length` bytes at `offset`; empty bytes at or past the end.
  Result<ObjectRange> GetObjectRange(std::string_view key, uint64_t offset, uint64_t length,
                                     Subject missing) const;
  Result<uint64_t> HeadObject(std::string_view key, Subject missing) const;
  // OK if it did not exist.
  Status DeleteObject(std::string_view key) const;
  // Server-side copy of an object of at most 5 GiB.
  Status CopyObject(std::string_view source_key, std::string_view key) const;
  // Every object under `prefix` (all pages), in key order.
  Result<std::vector<ObjectInfo>> ListObjects(std::string_view prefix) const;
  // The distinct "<prefix>...<delimiter>" groups and the objects directly
  // under `prefix` (all pages).
  Status ListObjects(std::string_view prefix, std::string_view delimiter,
                     std::vector<ObjectInfo>* objects, std::vector<std::string>* groups) const;

  Result<std::string> CreateMultipartUpload(std::string_view key) const;
  // Copies bytes [first, last] of `source_key` as part `part_number`;
  // returns the part's ETag.
  Result<std::string> UploadPartCopy(std::string_view key, std::string_view upload_id,
                                     int part_number, std::string_view source_key, uint64_t first,
                                     uint64_t last) const;
  Status CompleteMultipartUpload(std::string_view key, std::string_view upload_id,
                                 const std::vector<std::string>& part_etags) const;
  Status AbortMultipartUpload(std::string_view key, std::string_view upload_id) const;
  Result<std::vector<MultipartUploadInfo>> ListMultipartUploads(std::string_view prefix) const;
  // A URL anyone may GET `key` with until `lifetime` from now (no request is
  // made; whether the key exists is not checked).
  std::string PresignGet(std::string_view key, std::chrono::seconds lifetime) const;

 private:
  struct Call {
    std::string method;
    std::string key;  // empty: the bucket itself
    NameValues query;
    NameValues headers;
    std::string_view body;
  };
  Result<HttpResponse> Send(const Call& call) const;
  // x-amz-copy-source: "/bucket/key", encoded.
  std::string CopySource(std::string_view source_key) const;
  Status ErrorStatus(const Call& call, const HttpResponse& response, Subject missing) const;

  S3ClientConfig config_;
  std::string host_;  // the Host header: authority of the endpoint
  std::shared_ptr<HttpTransport> transport_;
  std::shared_ptr<Clock> clock_;
};

// XML helpers for the store's answers (exposed for tests).
// Inner text of every <tag>...</tag> element of `xml`, in order.
std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view tag);
// The first one's inner text, entities decoded; empty if absent.
std::string XmlFirst(std::string_view xml, std::string_view tag);
std::string XmlDecode(std::string_view text);

}  // namespace quay::storage::s3
