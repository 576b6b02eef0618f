// The identity services reachable only through IdentityService accessors
// (stars, repository notifications, OAuth applications), and the OAuth token
// minting the facade shares with them. Internal to lib/api.
#pragma once

#include <memory>
#include <string>

#include "api/service_state.h"
#include "quay/messages.h"
#include "quay/notifications.h"
#include "quay/oauth_apps.h"
#include "quay/stars.h"

namespace quay::api {

std::unique_ptr<Stars> NewStars(std::shared_ptr<ServiceState> state);
std::unique_ptr<RepositoryNotifications> NewNotifications(std::shared_ptr<ServiceState> state);
std::unique_ptr<OAuthApplications> NewOAuthApplications(std::shared_ptr<ServiceState> state);
std::unique_ptr<GlobalMessages> NewGlobalMessages(std::shared_ptr<ServiceState> state);

// Issues an OAuth token for `account` (a user) of `application` and writes
// create_oauth_api_token (oauth_token_uuid, application_name, client_id,
// scope, auth_method) as `actor`, in one transaction.
Result<Issued<OAuthToken>> MintApplicationToken(ServiceState& state, const Actor& actor,
                                                const db::AccountRow& account,
                                                const db::ApplicationRow& application,
                                                ScopeSet scopes, std::string_view auth_method);

OAuthToken OAuthTokenFromRow(const db::TokenRow& row);

}  // namespace quay::api
