// Upload ids name files in the filesystem driver, so every driver accepts the
// same restricted alphabet: a caller that works against the memory store then
// cannot be surprised by the filesystem store, and no id can smuggle a path
// ("..", "/", NUL) down to the filesystem.
#pragma once

#include <string_view>

#include "quay/status.h"

namespace quay::storage {

inline constexpr size_t kMaxUploadIdLength = 64;

// OK if `id` is 1..64 characters of [A-Za-z0-9-]; otherwise InvalidArgument(kUpload).
Status ValidateUploadId(std::string_view id);

}  // namespace quay::storage
