// THE route table of /api/v1, /oauth and /csrf_token. Paths, methods,
// nicknames, permissions, scopes and flags follow Quay's @resource
// decorators (reference/quay-api.md Appendix A). The router (a PathTrie built
// from it), the dispatcher's checks, GET /api/v1/discovery and the
// route-coverage and permission-matrix tests all read this table.
#include <array>

#include "host/api/handlers.h"
#include "host/route/route_table.h"

namespace quayd {
namespace {

using M = HttpMethod;
using N = Need;
using F = Feature;

constexpr unsigned char SU = kFullAccessSuperuser;
constexpr unsigned char RO = kReadOnlySuperuser;
constexpr unsigned char ANY_SU = kAnySuperuser;

constexpr std::string_view kRepo = "/api/v1/repository/{repository+}";

constexpr ApiRoute kRoutes[] = {
    // ---- discovery, errors, capabilities, CSRF ----
    {M::kGet, "/api/v1/discovery", "discovery", &HandleDiscovery, N::kNone, 0, {}, F::kAlways,
     true, true, false, false, Surface::kApi,
     "List all of the API endpoints available in the swagger API format."},
    {M::kGet, "/api/v1/error/{error_type}", "getErrorDescription", &HandleErrorDescription,
     N::kNone, 0, {}, F::kAlways, true, true, false, false, Surface::kApi,
     "Get a detailed description of the error."},
    {M::kGet, "/api/v1/registry/capabilities", "getRegistryCapabilities", &HandleCapabilities,
     N::kNone, 0, {}, F::kAlways, true, true, false, false, Surface::kApi,
     "Get registry capabilities."},
    {M::kGet, "/csrf_token", "csrfToken", &HandleCsrfToken, N::kNone, 0, {}, F::kAlways, true,
     true, true, false, Surface::kApi, "The session's CSRF token."},

    // ---- users and sessions ----
    {M::kPost, "/api/v1/signin", "signinUser", &HandleSignin, N::kNone, 0, {}, F::kDirectLogin,
     true, true, true, false, Surface::kApi,
     "Sign in the user with the specified credentials."},
    {M::kPost, "/api/v1/signout", "logout", &HandleSignout, N::kNone, 0, {}, F::kAlways, true,
     true, true, false, Surface::kApi, "Request that the current user be signed out."},
    {M::kGet, "/api/v1/user/", "getLoggedInUser", &HandleGetUser, N::kNone, 0, "user:read",
     F::kAlways, true, true, false, false, Surface::kApi,
     "Get user information for the authenticated user."},
    {M::kPost, "/api/v1/user/", "createNewUser", &HandleCreateUser, N::kNone, 0, {},
     F::kUserCreation, true, false, true, false, Surface::kApi, "Create a new user."},
    {M::kPost, "/api/v1/user/initialize", "createInitialUser", &HandleInitializeUser, N::kNone, 0,
     {}, F::kUserInitialize, true, false, false, false, Surface::kApi,
     "Create the first user of an empty registry and return an access token."},
    {M::kGet, "/api/v1/users/{username}", "getUserInformation", &HandleUserInformation, N::kNone,
     0, {}, F::kAlways, true, true, false, false, Surface::kApi,
     "Get user information for the specified user."},

    // ---- app-specific tokens ----
    {M::kGet, "/api/v1/user/apptoken", "listAppTokens", &HandleListAppTokens, N::kUserAdmin, 0,
     "user:admin", F::kAppSpecificTokens, false, true, false, false, Surface::kApi,
     "Lists the app specific tokens for the user."},
    {M::kPost, "/api/v1/user/apptoken", "createAppToken", &HandleCreateAppToken, N::kUserAdmin, 0,
     "user:admin", F::kAppSpecificTokens, false, false, false, true, Surface::kApi,
     "Create a new app specific token for user."},
    {M::kGet, "/api/v1/user/apptoken/{token_uuid}", "getAppToken", &HandleGetAppToken,
     N::kUserAdmin, 0, "user:admin", F::kAppSpecificTokens, false, true, false, true,
     Surface::kApi, "Returns a specific app token for the user."},
    {M::kDelete, "/api/v1/user/apptoken/{token_uuid}", "revokeAppToken", &HandleRevokeAppToken,
     N::kUserAdmin, 0, "user:admin", F::kAppSpecificTokens, false, false, false, true,
     Surface::kApi, "Revokes a specific app token for the user."},

    // ---- repositories ----
    {M::kPost, "/api/v1/repository", "createRepo", &HandleCreateRepo, N::kSignedIn, 0,
     "repo:create", F::kAlways, false, false, false, false, Surface::kApi,
     "Create a new repository."},
    {M::kGet, "/api/v1/repository", "listRepos", &HandleListRepos, N::kNone, 0, "repo:read",
     F::kAlways, true, true, false, false, Surface::kApi,
     "Fetch the list of repositories visible to the current user."},
    {M::kGet, "/api/v1/repository/{repository+}", "getRepo", &HandleGetRepo, N::kRepoRead,
     SU | RO, "repo:read", F::kAlways, true, true, false, false, Surface::kApi,
     "Fetch the specified repository."},
    {M::kPut, "/api/v1/repository/{repository+}", "updateRepo", &HandleUpdateRepo, N::kRepoWrite,
     SU, "repo:write", F::kAlways, false, false, false, false, Surface::kApi,
     "Update the description in the specified repository."},
    {M::kDelete, "/api/v1/repository/{repository+}", "deleteRepository", &HandleDeleteRepo,
     N::kRepoAdmin, SU, "repo:admin", F::kAlways, false, false, false, false, Surface::kApi,
     "Delete a repository."},
    {M::kPost, "/api/v1/repository/{repository+}/changevisibility", "changeRepoVisibility",
     &HandleChangeVisibility, N::kRepoAdmin, SU, "repo:admin", F::kAlways, false, false, false,
     false, Surface::kApi, "Change the visibility of a repository."},

    // ---- tags ----
    {M::kDelete, "/api/v1/repository/{repository+}/tag/{tag}", "deleteFullTag", &HandleDeleteTag,
     N::kRepoWrite, SU, "repo:write", F::kAlways, false, false, false, false, Surface::kApi,
     "Delete the specified repository tag."},
    {M::kPost, "/api/v1/repository/{repository+}/tag/{tag}/restore", "restoreTag",
     &HandleRestoreTag, N::kRepoWrite, SU, "repo:write", F::kAlways, false, false, false, false,
     Surface::kApi, "Restores a repository tag back to a previous image in the repository."},

    // ---- repository permissions ----
    {M::kGet, "/api/v1/repository/{repository+}/permissions/user/", "listRepoUserPermissions",
     &HandleListUserPermissions, N::kRepoAdmin, SU | RO, "repo:admin", F::kAlways, false, true,
     false, false, Surface::kApi, "List all user permissions."},
    {M::kGet, "/api/v1/repository/{repository+}/permissions/team/", "listRepoTeamPermissions",
     &HandleListTeamPermissions, N::kRepoAdmin, SU | RO, "repo:admin", F::kAlways, false, true,
     false, false, Surface::kApi, "List all team permission."},
    {M::kGet, "/api/v1/repository/{repository+}/permissions/user/{username}",
     "getUserPermissions", &HandleGetUserPermission, N::kRepoAdmin, SU | RO, "repo:admin",
     F::kAlways, false, true, false, false, Surface::kApi,
     "Get the permission for the specified user."},
    {M::kPut, "/api/v1/repository/{repository+}/permissions/user/{username}",
     "changeUserPermissions", &HandlePutUserPermission, N::kRepoAdmin, SU, "repo:admin",
     F::kAlways, false, false, false, false, Surface::kApi,
     "Update the perimssions for an existing repository."},
    {M::kDelete, "/api/v1/repository/{repository+}/permissions/user/{username}",
     "deleteUserPermissions", &HandleDeleteUserPermission, N::kRepoAdmin, SU, "repo:admin",
     F::kAlways, false, false, false, false, Surface::kApi, "Delete the permission for the user."},
    {M::kGet, "/api/v1/repository/{repository+}/permissions/team/{teamname}",
     "getTeamPermissions", &HandleGetTeamPermission, N::kRepoAdmin, SU | RO, "repo:admin",
     F::kAlways, false, true, false, false, Surface::kApi,
     "Fetch the permission for the specified team."},
    {M::kPut, "/api/v1/repository/{repository+}/permissions/team/{teamname}",
     "changeTeamPermissions", &HandlePutTeamPermission, N::kRepoAdmin, SU, "repo:admin",
     F::kAlways, false, false, false, false, Surface::kApi, "Update the existing team permission."},
    {M::kDelete, "/api/v1/repository/{repository+}/permissions/team/{teamname}",
     "deleteTeamPermissions", &HandleDeleteTeamPermission, N::kRepoAdmin, SU, "repo:admin",
     F::kAlways, false, false, false, false, Surface::kApi,
     "Delete the permission for the specified team."},

    // ---- organizations, teams, prototypes ----
    {M::kPost, "/api/v1/organization/", "createOrganization", &HandleCreateOrg, N::kUserAdmin, 0,
     "user:admin", F::kAlways, false, false, false, false, Surface::kApi,
     "Create a new organization."},
    {M::kGet, "/api/v1/organization/{orgname}", "getOrganization", &HandleGetOrg, N::kNone, 0,
     "org:admin", F::kAlways, true, true, false, false, Surface::kApi,
     "Get the details for the specified organization."},
    {M::kDelete, "/api/v1/organization/{orgname}", "deleteAdminedOrganization", &HandleDeleteOrg,
     N::kOrgAdmin, SU, "org:admin", F::kAlways, false, false, false, true, Surface::kApi,
     "Deletes the specified organization."},
    {M::kPut, "/api/v1/organization/{orgname}/team/{teamname}", "updateOrganizationTeam",
     &HandlePutTeam, N::kOrgAdmin, SU, "org:admin", F::kAlways, false, false, false, false,
     Surface::kApi, "Update the org-wide permission for the specified team."},
    {M::kDelete, "/api/v1/organization/{orgname}/team/{teamname}", "deleteOrganizationTeam",
     &HandleDeleteTeam, N::kOrgAdmin, SU, "org:admin", F::kAlways, false, false, false, false,
     Surface::kApi, "Delete the specified team."},
    {M::kGet, "/api/v1/organization/{orgname}/team/{teamname}/members",
     "getOrganizationTeamMembers", &HandleListTeamMembers, N::kOrgMember, SU | RO, "org:admin",
     F::kAlways, false, true, false, false, Surface::kApi,
     "Retrieve the list of members for the specified team."},
    {M::kPut, "/api/v1/organization/{orgname}/team/{teamname}/members/{membername}",
     "updateOrganizationTeamMember", &HandlePutTeamMember, N::kOrgAdmin, SU, "org:admin",
     F::kAlways, false, false, false, false, Surface::kApi,
     "Adds or invites a member to an existing team."},
    {M::kDelete, "/api/v1/organization/{orgname}/team/{teamname}/members/{membername}",
     "deleteOrganizationTeamMember", &HandleDeleteTeamMember, N::kOrgAdmin, SU, "org:admin",
     F::kAlways, false, false, false, false, Surface::kApi, "Delete a member of a team."},
    {M::kGet, "/api/v1/organization/{orgname}/prototypes", "getOrganizationPrototypePermissions",
     &HandleListPrototypes, N::kOrgAdmin, SU | RO, "org:admin", F::kAlways, false, true, false,
     false, Surface::kApi, "List the existing prototypes for this organization."},
    {M::kPost, "/api/v1/organization/{orgname}/prototypes",
     "createOrganizationPrototypePermission", &HandleCreatePrototype, N::kOrgAdmin, SU,
     "org:admin", F::kAlways, false, false, false, false, Surface::kApi,
     "Create a new permission prototype."},
    {M::kDelete, "/api/v1/organization/{orgname}/prototypes/{prototypeid}",
     "deleteOrganizationPrototypePermission", &HandleDeletePrototype, N::kOrgAdmin, SU,
     "org:admin", F::kAlways, false, false, false, false, Surface::kApi,
     "Delete an existing permission prototype."},

    // ---- robots ----
    {M::kGet, "/api/v1/user/robots", "getUserRobots", &HandleListRobots, N::kUserAdmin, 0,
     "user:admin", F::kAlways, false, true, false, false, Surface::kApi,
     "List the available robots for the user."},
    {M::kGet, "/api/v1/user/robots/{robot_shortname}", "getUserRobot", &HandleGetRobot,
     N::kUserAdmin, 0, "user:admin", F::kAlways, false, true, false, false, Surface::kApi,
     "Returns the user's robot with the specified name."},
    {M::kPut, "/api/v1/user/robots/{robot_shortname}", "createUserRobot", &HandleCreateRobot,
     N::kUserAdmin, 0, "user:admin", F::kAlways, false, false, false, false, Surface::kApi,
     "Create a new user robot with the specified name."},
    {M::kDelete, "/api/v1/user/robots/{robot_shortname}", "deleteUserRobot", &HandleDeleteRobot,
     N::kUserAdmin, 0, "user:admin", F::kAlways, false, false, false, false, Surface::kApi,
     "Delete an existing robot."},
    {M::kPost, "/api/v1/user/robots/{robot_shortname}/regenerate", "regenerateUserRobotToken",
     &HandleRegenerateRobot, N::kUserAdmin, 0, "user:admin", F::kAlways, false, false, false,
     false, Surface::kApi, "Regenerates the token for a user's robot."},
    {M::kGet, "/api/v1/organization/{orgname}/robots", "getOrgRobots", &HandleListRobots,
     N::kOrgAdmin, ANY_SU | RO, "org:admin", F::kAlways, false, true, false, false, Surface::kApi,
     "List the organization's robots."},
    {M::kGet, "/api/v1/organization/{orgname}/robots/{robot_shortname}", "getOrgRobot",
     &HandleGetRobot, N::kOrgAdmin, ANY_SU | RO, "org:admin", F::kAlways, false, true, false,
     false, Surface::kApi, "Returns the organization's robot with the specified name."},
    {M::kPut, "/api/v1/organization/{orgname}/robots/{robot_shortname}", "createOrgRobot",
     &HandleCreateRobot, N::kOrgAdmin, SU, "org:admin", F::kAlways, false, false, false, false,
     Surface::kApi, "Create a new robot in the organization."},
    {M::kDelete, "/api/v1/organization/{orgname}/robots/{robot_shortname}", "deleteOrgRobot",
     &HandleDeleteRobot, N::kOrgAdmin, SU, "org:admin", F::kAlways, false, false, false, false,
     Surface::kApi, "Delete an existing organization robot."},
    {M::kPost, "/api/v1/organization/{orgname}/robots/{robot_shortname}/regenerate",
     "regenerateOrgRobotToken", &HandleRegenerateRobot, N::kOrgAdmin, SU, "org:admin",
     F::kAlways, false, false, false, false, Surface::kApi,
     "Regenerates the token for an organization robot."},

    // ---- logs ----
    {M::kGet, "/api/v1/repository/{repository+}/logs", "listRepoLogs", &HandleRepoLogs,
     N::kRepoAdmin, SU | RO, "repo:admin", F::kAlways, false, true, false, false, Surface::kApi,
     "List the logs for the specified repository."},
    {M::kGet, "/api/v1/user/logs", "listUserLogs", &HandleUserLogs, N::kUserAdmin, 0, "user:admin",
     F::kAlways, false, true, false, false, Surface::kApi, "List the logs for the current user."},
    {M::kGet, "/api/v1/organization/{orgname}/logs", "listOrgLogs", &HandleOrgLogs, N::kOrgAdmin,
     SU | RO, "org:admin", F::kAlways, false, true, false, false, Surface::kApi,
     "List the logs for the specified organization."},
    {M::kGet, "/api/v1/repository/{repository+}/aggregatelogs", "getAggregateRepoLogs",
     &HandleRepoAggregateLogs, N::kRepoAdmin, SU | RO, "repo:admin", F::kAggregatedLogs, false,
     true, false, false, Surface::kApi, "Returns the aggregated logs for the specified repository."},
    {M::kGet, "/api/v1/user/aggregatelogs", "getAggregateUserLogs", &HandleUserAggregateLogs,
     N::kUserAdmin, 0, "user:admin", F::kAggregatedLogs, false, true, false, false, Surface::kApi,
     "Returns the aggregated logs for the current user."},
    {M::kGet, "/api/v1/organization/{orgname}/aggregatelogs", "getAggregateOrgLogs",
     &HandleOrgAggregateLogs, N::kOrgAdmin, SU | RO, "org:admin", F::kAggregatedLogs, false, true,
     false, false, Surface::kApi, "Gets the aggregated logs for the specified organization."},
    {M::kGet, "/api/v1/superuser/logs", "listAllLogs", &HandleAllLogs, N::kSuperuser, RO,
     "super:user", F::kSuperUsers, false, true, false, true, Surface::kApi,
     "List the usage logs for the current system."},
    {M::kGet, "/api/v1/superuser/aggregatelogs", "listAllAggregateLogs", &HandleAllAggregateLogs,
     N::kSuperuser, RO, "super:user", F::kSuperUsers, false, true, true, true, Surface::kApi,
     "Returns the aggregated logs for the current system."},

    // ---- superuser ----
    {M::kGet, "/api/v1/superuser/users/", "listAllUsers", &HandleSuperuserListUsers,
     N::kSuperuser, RO, "super:user", F::kSuperUsers, false, true, false, true, Surface::kApi,
     "Returns a list of all users in the system."},
    {M::kPost, "/api/v1/superuser/users/", "createInstallUser", &HandleSuperuserCreateUser,
     N::kSuperuser, 0, "super:user", F::kSuperUsers, false, false, false, true, Surface::kApi,
     "Creates a new user."},
    {M::kGet, "/api/v1/superuser/users/{username}", "getInstallUser", &HandleSuperuserGetUser,
     N::kSuperuser, RO, "super:user", F::kSuperUsers, false, true, false, true, Surface::kApi,
     "Returns information about the specified user."},
    {M::kPut, "/api/v1/superuser/users/{username}", "changeInstallUser",
     &HandleSuperuserChangeUser, N::kSuperuser, 0, "super:user", F::kSuperUsers, false, false,
     false, true, Surface::kApi, "Updates information about the specified user."},
    {M::kDelete, "/api/v1/superuser/users/{username}", "deleteInstallUser",
     &HandleSuperuserDeleteUser, N::kSuperuser, 0, "super:user", F::kSuperUsers, false, false,
     false, true, Surface::kApi, "Deletes the specified user."},
    {M::kDelete, "/api/v1/superuser/organizations/{name}", "deleteOrganization",
     &HandleSuperuserDeleteOrg, N::kSuperuser, 0, "super:user", F::kSuperUsers, false, false,
     false, true, Surface::kApi, "Deletes the specified organization."},
};

}  // namespace

std::span<const ApiRoute> ApiRoutes() { return kRoutes; }

HttpMethod ParseHttpMethod(std::string_view method) {
  if (method == "GET") return HttpMethod::kGet;
  if (method == "HEAD") return HttpMethod::kHead;
  if (method == "POST") return HttpMethod::kPost;
  if (method == "PUT") return HttpMethod::kPut;
  if (method == "PATCH") return HttpMethod::kPatch;
  if (method == "DELETE") return HttpMethod::kDelete;
  return HttpMethod::kOther;
}

std::string_view HttpMethodName(HttpMethod method) {
  constexpr std::array<std::string_view, kHttpMethodCount> kNames = {
      "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OTHER"};
  return kNames[static_cast<size_t>(method)];
}

}  // namespace quayd
