// JSON views shared by several areas (Quay's avatar, user and robot shapes).
#pragma once

#include <string_view>

#include "host/api/json.h"
#include "quay/identity.h"

namespace quayd {

// {"name","hash","color","kind"} (Quay's avatar block; the hash is of the name).
void WriteAvatar(Json& j, std::string_view name, std::string_view kind);
// Quay's entity block in permission listings: {"name","kind","is_robot","avatar"}.
void WriteEntity(Json& j, std::string_view name, std::string_view kind);
// "read"/"write"/"admin".
inline std::string_view RoleName(quay::RepositoryRole role) { return quay::ToString(role); }

}  // namespace quayd
