// JSON object text of string fields, built without a DOM: audit metadata,
// referrer annotations. Escaping itself is public (quay::AppendJsonString in
// quay/logger.h) so that hosts' JSON log lines share it. Internal to libquay.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace quay::core {

// {"k":"v",...} in the given order, every key and value escaped.
std::string JsonObjectText(
    const std::vector<std::pair<std::string_view, std::string_view>>& fields);

}  // namespace quay::core
