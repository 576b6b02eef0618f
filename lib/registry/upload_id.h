#pragma once

#include <string>
#include <string_view>

namespace quay::registry {

// A random UUID (version 4). Upload ids are capabilities: whoever knows one can
// write to the session, so they come from the CSPRNG.
std::string NewUploadId();

// True for the canonical 36-character lower-case form NewUploadId produces.
bool IsUploadId(std::string_view id);

}  // namespace quay::registry
