// Internal JSON checks around manifests that the public quay/manifest.h does
// not need: label values and image config labels. Internal to libquay.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace quay::core {

// True when `text` is one well-formed JSON value (UTF-8 validated).
bool IsJsonText(std::string_view text);

// The string entries of an image configuration's config.Labels (Docker and
// OCI image config), in document order. Empty when the blob is not JSON, has
// no such object, or it holds no strings; entries whose value is not a string
// are skipped.
std::vector<std::pair<std::string, std::string>> ImageConfigLabels(std::string_view config);

}  // namespace quay::core
