// Status and Result<T>: the only error channel of libquay.
//
// A Status is OK (cheap: no allocation) or carries a domain Code, the Subject
// the error is about (blob, upload, manifest...) and a human message. Hosts map
// (Code, Subject) to their protocol's errors in one place; the library never
// speaks HTTP. No exception crosses the library boundary.
//
// Thread safety: values; safe to copy and move between threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "quay/export.h"

namespace quay {

enum class Code : unsigned char {
  kOk,
  kNotFound,         // the Subject does not exist (or is not visible)
  kInvalidArgument,  // malformed input: name, digest, JSON, header value
  kDigestMismatch,   // content does not hash to the claimed digest
  kSizeMismatch,     // content length differs from the claimed size
  kRangeInvalid,     // a byte range that cannot be satisfied / out of order
  kTooLarge,         // input over a configured cap
  kUnauthenticated,  // credentials missing or wrong
  kDenied,           // authenticated but not allowed
  kConflict,         // concurrent use of the same resource
  kUnsupported,      // a valid request this registry does not implement
  kUnavailable,      // transient: storage or database busy / failing
  kInternal,         // a bug or unexpected I/O failure
};

// What an error is about; lets a host pick e.g. BLOB_UNKNOWN vs MANIFEST_UNKNOWN.
enum class Subject : unsigned char {
  kNone,
  kBlob,        // a blob in a repository
  kUpload,      // an upload session
  kManifest,    // a manifest (by digest) or its body
  kTag,         // a tag reference
  kRepository,  // a repository
  kName,        // a repository name's grammar
  kDigest,      // a digest's grammar or value
  kReference,   // a blob or child manifest referenced by a manifest
  kMediaType,   // a content type
  kSize,        // a declared size
  kRange,       // a byte range
  kStorage,     // the registry's own space (disk or database) is exhausted
  kExpiredTag,  // a tag that was deleted or expired and is still in the time machine
};

class QUAY_EXPORT Status {
 public:
  Status() = default;  // OK

  static Status Ok() { return Status(); }
  static Status NotFound(Subject s, std::string msg) {
    return {Code::kNotFound, s, std::move(msg)};
  }
  static Status InvalidArgument(Subject s, std::string msg) {
    return {Code::kInvalidArgument, s, std::move(msg)};
  }
  static Status DigestMismatch(std::string msg) {
    return {Code::kDigestMismatch, Subject::kDigest, std::move(msg)};
  }
  static Status SizeMismatch(std::string msg) {
    return {Code::kSizeMismatch, Subject::kSize, std::move(msg)};
  }
  static Status RangeInvalid(Subject s, std::string msg) {
    return {Code::kRangeInvalid, s, std::move(msg)};
  }
  static Status TooLarge(Subject s, std::string msg) {
    return {Code::kTooLarge, s, std::move(msg)};
  }
  static Status Unauthenticated(std::string msg) {
    return {Code::kUnauthenticated, Subject::kNone, std::move(msg)};
  }
  static Status Denied(std::string msg) { return {Code::kDenied, Subject::kNone, std::move(msg)}; }
  static Status Conflict(Subject s, std::string msg) {
    return {Code::kConflict, s, std::move(msg)};
  }
  static Status Unsupported(Subject s, std::string msg) {
    return {Code::kUnsupported, s, std::move(msg)};
  }
  static Status Unavailable(std::string msg) {
    return {Code::kUnavailable, Subject::kNone, std::move(msg)};
  }
  // The disk or the database is full (ENOSPC, EDQUOT, SQLITE_FULL): transient
  // like Unavailable, but retrying is useless until space is freed, so hosts
  // answer it apart (quayd: 507).
  static Status NoSpace(std::string msg) {
    return {Code::kUnavailable, Subject::kStorage, std::move(msg)};
  }
  static Status Internal(std::string msg) {
    return {Code::kInternal, Subject::kNone, std::move(msg)};
  }

  bool ok() const { return code_ == Code::kOk; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsNoSpace() const { return code_ == Code::kUnavailable && subject_ == Subject::kStorage; }
  Code code() const { return code_; }
  Subject subject() const { return subject_; }
  const std::string& message() const { return message_; }

  // "NotFound(blob): sha256:... unknown"; for logs and tests.
  std::string ToString() const;

 private:
  Status(Code c, Subject s, std::string m) : code_(c), subject_(s), message_(std::move(m)) {}

  Code code_ = Code::kOk;
  Subject subject_ = Subject::kNone;
  std::string message_;
};

// A value or a non-OK Status. Accessing value() of an error is a bug (asserts).
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace quay
