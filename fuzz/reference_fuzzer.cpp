// The reference grammar (include/quay/reference.h, include/quay/digest.h):
// repository names, tags, digests and tag-or-digest references.
// Checked against the grammar itself: an accepted name is at most 255
// characters of [a-z0-9._/-] with no empty component and no "..", an accepted
// tag matches [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}, an accepted digest prints
// back as it was given, and Reference::Parse agrees with the other two.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "quay/digest.h"
#include "quay/reference.h"

namespace {

bool IsTagChar(char c, bool first) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') {
    return true;
  }
  return !first && (c == '.' || c == '-');
}

void CheckName(std::string_view text) {
  if (!quay::ValidateRepositoryName(text).ok()) return;
  if (text.empty() || text.size() > 255) std::abort();
  if (text.front() == '/' || text.back() == '/') std::abort();
  if (text.find("//") != std::string_view::npos || text.find("..") != std::string_view::npos) {
    std::abort();
  }
  for (const char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                    c == '-' || c == '/';
    if (!ok) std::abort();
  }
}

void CheckTag(std::string_view text) {
  if (!quay::ValidateTag(text).ok()) return;
  if (text.empty() || text.size() > 128) std::abort();
  for (size_t i = 0; i < text.size(); ++i) {
    if (!IsTagChar(text[i], i == 0)) std::abort();
  }
}

void CheckReference(std::string_view text) {
  quay::Result<quay::Reference> ref = quay::Reference::Parse(text);
  quay::Result<quay::Digest> digest = quay::Digest::Parse(text);
  if (digest.ok() && digest->str() != text) std::abort();
  if (!ref.ok()) {
    if (digest.ok() || quay::ValidateTag(text).ok()) std::abort();
    return;
  }
  if (ref->str() != text) std::abort();
  if (ref->is_digest() != digest.ok()) std::abort();
  if (!ref->is_digest() && !quay::ValidateTag(text).ok()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  CheckName(text);
  CheckTag(text);
  CheckReference(text);
  return 0;
}
