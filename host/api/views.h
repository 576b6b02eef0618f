// JSON views shared by several areas (Quay's avatar, user and robot shapes).
#pragma once

#include <string_view>

#include "host/api/api_exchange.h"
#include "host/api/json.h"
#include "quay/identity.h"

namespace quayd {

// {"name","hash","color","kind"} (Quay's avatar block; the hash is of the name).
void WriteAvatar(Json& j, std::string_view name, std::string_view kind);
// Quay's entity block in permission listings: {"name","kind","is_robot","avatar"}.
void WriteEntity(Json& j, std::string_view name, std::string_view kind);
// "read"/"write"/"admin".
inline std::string_view RoleName(quay::RepositoryRole role) { return quay::ToString(role); }

// "app" of "ns/app".
std::string_view ShortName(std::string_view repository);

// An audit row about `repository` by the request's actor, written now
// (strict: the caller fails the request when it cannot be written).
quay::Status AuditRepository(
    ApiExchange& ex, std::string kind, std::string_view repository,
    std::initializer_list<std::pair<std::string_view, std::string_view>> fields);

// Sealed next_page cursors. `binding` names the listing, its filters and the
// caller; PageCursor answers the position inside the request's next_page
// ("" without one), InvalidArgument for a token sealed for another binding
// or tampered with; NextPage seals `position` for the answer.
quay::Result<std::string> PageCursor(const ApiExchange& ex, const std::string& binding);
std::string NextPage(const ApiExchange& ex, const std::string& binding, std::string_view position);

}  // namespace quayd
