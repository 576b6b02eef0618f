// JSON object text of string fields, for audit metadata. Internal to lib/api.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace quay::api {

// {"k":"v",...} in the given order, every key and value escaped.
std::string JsonObjectText(
    const std::vector<std::pair<std::string_view, std::string_view>>& fields);

}  // namespace quay::api
