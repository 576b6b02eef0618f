// The OCI distribution grammar for repository names, tags and references.
// Validation happens before any storage or database access.
#pragma once

#include <string>
#include <string_view>

#include "quay/digest.h"
#include "quay/export.h"
#include "quay/status.h"

namespace quay {

// Repository names: path components of [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
// separated by '/', at most 255 characters in total. OK, or
// InvalidArgument(kName) naming what is wrong. This also rejects every path
// trick ("..", "%2F", leading '/', empty components).
QUAY_EXPORT Status ValidateRepositoryName(std::string_view name);

// Tags: [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}. OK or InvalidArgument(kTag).
QUAY_EXPORT Status ValidateTag(std::string_view tag);

// A manifest reference: a tag or a digest.
class QUAY_EXPORT Reference {
 public:
  // A string with ':' is parsed as a digest, anything else as a tag.
  // Errors: InvalidArgument(kTag) or InvalidArgument/Unsupported(kDigest).
  static Result<Reference> Parse(std::string_view text);

  bool is_digest() const { return !digest_.empty(); }
  const std::string& tag() const { return tag_; }   // empty for a digest
  const Digest& digest() const { return digest_; }  // empty for a tag
  std::string str() const { return is_digest() ? digest_.str() : tag_; }

 private:
  std::string tag_;
  Digest digest_;
};

}  // namespace quay
