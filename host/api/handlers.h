// The /api/v1, /oauth and /csrf_token handlers, one file per area. Each
// translates HTTP to library calls and results to Quay's JSON; permission
// was checked by the dispatcher from the route's row (api_routes.cpp).
#pragma once

#include "host/api/api_exchange.h"
#include "quay/status.h"

namespace quayd {

// handlers_meta.cpp
quay::Status HandleDiscovery(ApiExchange& ex);
quay::Status HandleErrorDescription(ApiExchange& ex);
quay::Status HandleCapabilities(ApiExchange& ex);
quay::Status HandleCsrfToken(ApiExchange& ex);

// handlers_user.cpp
quay::Status HandleSignin(ApiExchange& ex);
quay::Status HandleSignout(ApiExchange& ex);
quay::Status HandleVerifyUser(ApiExchange& ex);
quay::Status HandleGetUser(ApiExchange& ex);
quay::Status HandleCreateUser(ApiExchange& ex);
quay::Status HandleInitializeUser(ApiExchange& ex);
quay::Status HandleUserInformation(ApiExchange& ex);
quay::Status HandleListAppTokens(ApiExchange& ex);
quay::Status HandleListUserNotifications(ApiExchange& ex);
quay::Status HandleGetUserNotification(ApiExchange& ex);
quay::Status HandleUpdateUserNotification(ApiExchange& ex);
quay::Status HandleCreateAppToken(ApiExchange& ex);
quay::Status HandleGetAppToken(ApiExchange& ex);
quay::Status HandleRevokeAppToken(ApiExchange& ex);

// handlers_repository.cpp
quay::Status HandleCreateRepo(ApiExchange& ex);
quay::Status HandleListRepos(ApiExchange& ex);
quay::Status HandleGetRepo(ApiExchange& ex);
quay::Status HandleUpdateRepo(ApiExchange& ex);
quay::Status HandleDeleteRepo(ApiExchange& ex);
quay::Status HandleChangeVisibility(ApiExchange& ex);
quay::Status HandleDeleteTag(ApiExchange& ex);
quay::Status HandleRestoreTag(ApiExchange& ex);

// handlers_tag.cpp
quay::Status HandleListTags(ApiExchange& ex);
quay::Status HandleChangeTag(ApiExchange& ex);
quay::Status HandleGetManifest(ApiExchange& ex);
quay::Status HandleListLabels(ApiExchange& ex);
quay::Status HandleListManifestReferrers(ApiExchange& ex);
quay::Status HandleAddLabel(ApiExchange& ex);
quay::Status HandleGetLabel(ApiExchange& ex);
quay::Status HandleDeleteLabel(ApiExchange& ex);

// handlers_policy.cpp (organization, user or repository scope from the path)
quay::Status HandleListImmutabilityPolicies(ApiExchange& ex);
quay::Status HandleCreateImmutabilityPolicy(ApiExchange& ex);
quay::Status HandleGetImmutabilityPolicy(ApiExchange& ex);
quay::Status HandleUpdateImmutabilityPolicy(ApiExchange& ex);
quay::Status HandleDeleteImmutabilityPolicy(ApiExchange& ex);
quay::Status HandleListAutoPrunePolicies(ApiExchange& ex);
quay::Status HandleCreateAutoPrunePolicy(ApiExchange& ex);
quay::Status HandleGetAutoPrunePolicy(ApiExchange& ex);
quay::Status HandleUpdateAutoPrunePolicy(ApiExchange& ex);
quay::Status HandleDeleteAutoPrunePolicy(ApiExchange& ex);

// handlers_quota.cpp (organization, user, or a superuser's {namespace})
quay::Status HandleListQuotas(ApiExchange& ex);
quay::Status HandleCreateQuota(ApiExchange& ex);
quay::Status HandleGetQuota(ApiExchange& ex);
quay::Status HandleChangeQuota(ApiExchange& ex);
quay::Status HandleDeleteQuota(ApiExchange& ex);
quay::Status HandleListQuotaLimits(ApiExchange& ex);
quay::Status HandleCreateQuotaLimit(ApiExchange& ex);
quay::Status HandleGetQuotaLimit(ApiExchange& ex);
quay::Status HandleChangeQuotaLimit(ApiExchange& ex);
quay::Status HandleDeleteQuotaLimit(ApiExchange& ex);

// handlers_permission.cpp
quay::Status HandleListUserPermissions(ApiExchange& ex);
quay::Status HandleListTeamPermissions(ApiExchange& ex);
quay::Status HandleGetUserPermission(ApiExchange& ex);
quay::Status HandlePutUserPermission(ApiExchange& ex);
quay::Status HandleDeleteUserPermission(ApiExchange& ex);
quay::Status HandleGetTeamPermission(ApiExchange& ex);
quay::Status HandlePutTeamPermission(ApiExchange& ex);
quay::Status HandleDeleteTeamPermission(ApiExchange& ex);

// handlers_org.cpp
quay::Status HandleCreateOrg(ApiExchange& ex);
quay::Status HandleGetOrg(ApiExchange& ex);
quay::Status HandleDeleteOrg(ApiExchange& ex);
quay::Status HandlePutTeam(ApiExchange& ex);
quay::Status HandleDeleteTeam(ApiExchange& ex);
quay::Status HandleListTeamMembers(ApiExchange& ex);
quay::Status HandlePutTeamMember(ApiExchange& ex);
quay::Status HandleDeleteTeamMember(ApiExchange& ex);
quay::Status HandleListPrototypes(ApiExchange& ex);
quay::Status HandleCreatePrototype(ApiExchange& ex);
quay::Status HandleDeletePrototype(ApiExchange& ex);

// handlers_robot.cpp ({orgname} absent: the signed-in user's robots)
quay::Status HandleListRobots(ApiExchange& ex);
quay::Status HandleGetRobot(ApiExchange& ex);
quay::Status HandleCreateRobot(ApiExchange& ex);
quay::Status HandleDeleteRobot(ApiExchange& ex);
quay::Status HandleRegenerateRobot(ApiExchange& ex);

// handlers_logs.cpp
quay::Status HandleRepoLogs(ApiExchange& ex);
quay::Status HandleUserLogs(ApiExchange& ex);
quay::Status HandleOrgLogs(ApiExchange& ex);
quay::Status HandleAllLogs(ApiExchange& ex);
quay::Status HandleRepoAggregateLogs(ApiExchange& ex);
quay::Status HandleUserAggregateLogs(ApiExchange& ex);
quay::Status HandleOrgAggregateLogs(ApiExchange& ex);
quay::Status HandleAllAggregateLogs(ApiExchange& ex);

// handlers_application.cpp
quay::Status HandleListApplications(ApiExchange& ex);
quay::Status HandleCreateApplication(ApiExchange& ex);
quay::Status HandleGetApplication(ApiExchange& ex);
quay::Status HandleUpdateApplication(ApiExchange& ex);
quay::Status HandleDeleteApplication(ApiExchange& ex);
quay::Status HandleResetClientSecret(ApiExchange& ex);
quay::Status HandleApplicationInformation(ApiExchange& ex);
quay::Status HandleListApplicationTokens(ApiExchange& ex);
quay::Status HandleCreateApplicationToken(ApiExchange& ex);
quay::Status HandleDeleteApplicationToken(ApiExchange& ex);
quay::Status HandleListAuthorizations(ApiExchange& ex);
quay::Status HandleGetAuthorization(ApiExchange& ex);
quay::Status HandleDeleteAuthorization(ApiExchange& ex);
quay::Status HandleListAssignedAuthorizations(ApiExchange& ex);
quay::Status HandleDeleteAssignedAuthorization(ApiExchange& ex);

// host/oauth/handlers_oauth.cpp
quay::Status HandleOAuthAuthorize(ApiExchange& ex);
quay::Status HandleOAuthAuthorizeApp(ApiExchange& ex);
quay::Status HandleOAuthDenyApp(ApiExchange& ex);
quay::Status HandleOAuthAccessToken(ApiExchange& ex);

// handlers_social.cpp
quay::Status HandleListStarred(ApiExchange& ex);
quay::Status HandleCreateStar(ApiExchange& ex);
quay::Status HandleDeleteStar(ApiExchange& ex);
quay::Status HandleEntities(ApiExchange& ex);
quay::Status HandleListOrgMembers(ApiExchange& ex);
quay::Status HandleGetOrgMember(ApiExchange& ex);
quay::Status HandleListOrgCollaborators(ApiExchange& ex);
quay::Status HandleRemoveOrgMember(ApiExchange& ex);
quay::Status HandleCreateNotification(ApiExchange& ex);
quay::Status HandleListNotifications(ApiExchange& ex);
quay::Status HandleGetNotification(ApiExchange& ex);
quay::Status HandleDeleteNotification(ApiExchange& ex);
quay::Status HandleResetNotification(ApiExchange& ex);
quay::Status HandleTestNotification(ApiExchange& ex);

// handlers_account.cpp
quay::Status HandleChangeUserDetails(ApiExchange& ex);
quay::Status HandleDeleteCurrentUser(ApiExchange& ex);
quay::Status HandleChangeOrgDetails(ApiExchange& ex);
quay::Status HandleTeamPermissions(ApiExchange& ex);
quay::Status HandleRobotPermissions(ApiExchange& ex);
quay::Status HandleUserTransitivePermission(ApiExchange& ex);
quay::Status HandleUpdatePrototype(ApiExchange& ex);
quay::Status HandleSuperuserListOrgs(ApiExchange& ex);

// handlers_superuser.cpp
quay::Status HandleSuperuserListUsers(ApiExchange& ex);
quay::Status HandleSuperuserCreateUser(ApiExchange& ex);
quay::Status HandleSuperuserGetUser(ApiExchange& ex);
quay::Status HandleSuperuserChangeUser(ApiExchange& ex);
quay::Status HandleSuperuserDeleteUser(ApiExchange& ex);
quay::Status HandleSuperuserDeleteOrg(ApiExchange& ex);
quay::Status HandleRegistrySize(ApiExchange& ex);
quay::Status HandleQueueRegistrySize(ApiExchange& ex);
quay::Status HandleRegistryStatus(ApiExchange& ex);
quay::Status HandleTakeOwnership(ApiExchange& ex);
quay::Status HandleSuperuserChangeOrg(ApiExchange& ex);
quay::Status HandleSuperuserAppTokens(ApiExchange& ex);

// handlers_search.cpp
quay::Status HandleConductRepoSearch(ApiExchange& ex);
quay::Status HandleConductSearch(ApiExchange& ex);

// handlers_messages.cpp
quay::Status HandleListMessages(ApiExchange& ex);
quay::Status HandleCreateMessage(ApiExchange& ex);
quay::Status HandleDeleteMessage(ApiExchange& ex);

}  // namespace quayd
