// Organizations: orgs, their teams, team members and org members. Part of
// IdentityService (quay/identity.h): identity.organizations().
//
// Thread safety: safe to use from many threads.
//
// Errors: InvalidArgument for a malformed name or role; NotFound (kNone) for
// an unknown org, team, user or member; Conflict for a name already taken;
// Unavailable/Internal on database failure. Authorization (is the caller an
// org admin?) is the host's: ask the Authorizer first. Every mutation writes
// its audit row (Quay kind and metadata keys in parentheses) in the same
// transaction.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "quay/accounts.h"
#include "quay/identity_types.h"

namespace quay {

// An org a user belongs to (through any team).
struct OrganizationMembership {
  std::string organization;
  bool is_admin = false;  // in a team with the admin role
};

// A user member of an org: the union of its teams' members (robots are not
// members, as in Quay's org members list), with the teams it is in.
struct OrganizationMember {
  std::string name;
  std::vector<std::string> teams;  // in name order
};

// A team with its member count and whether the viewing account is in it.
struct TeamSummary {
  Team team;
  size_t member_count = 0;  // users and robots
  bool is_member = false;   // the `viewer` passed to ListTeamSummaries
};

// A user in none of the org's teams with direct grants on its repositories
// (GET /api/v1/organization/{org}/collaborators).
struct OutsideCollaborator {
  std::string name;
  std::vector<std::string> repositories;  // short names, in name order
};

// What TakeOwnership did.
struct OwnershipTaken {
  int64_t entity_id = 0;  // the namespace's account id (Quay's entity_id)
  bool was_user = false;  // the namespace was a user, now an organization
};

class QUAY_EXPORT Organizations {
 public:
  virtual ~Organizations() = default;

  // (org_create: namespace, email) Creates the org and its "owners" team
  // (admin role) with `owner` (a user) as member, as Quay does.
  // Superusers-only creation (FEATURE_SUPERUSERS_ORG_CREATION_ONLY) is the
  // host's policy.
  virtual Result<Organization> CreateOrganization(const Actor& actor, std::string_view name,
                                                  std::string_view email,
                                                  std::string_view owner) = 0;
  virtual Result<Organization> GetOrganization(std::string_view name) = 0;
  // Org names in name order (the superuser organization list).
  virtual Result<AccountPage> ListOrganizations(size_t limit, std::string_view after) = 0;
  // The orgs `user` is in, in name order (GET /api/v1/user/ `organizations`).
  // One query. NotFound for an unknown user.
  virtual Result<std::vector<OrganizationMembership>> OrganizationsOf(std::string_view user) = 0;
  // (org_change_email: email, namespace, old_email) Same e-mail: OK, no row.
  virtual Status SetOrganizationEmail(const Actor& actor, std::string_view organization,
                                      std::string_view email) = 0;
  // (org_change_name: old_name, new_name, superuser) Renames the org, its
  // robots ("<new>+<short>") and its repositories ("<new>/<repo>") in one
  // transaction; grants, teams, tokens, stars and tags follow (they hang off
  // ids). Audit rows already written keep the old name. The superuser key
  // is the actor's name. InvalidArgument for a malformed name, Conflict if
  // `new_name` is taken, NotFound for an unknown org. Same name: OK, no row.
  virtual Result<Organization> RenameOrganization(const Actor& actor, std::string_view organization,
                                                  std::string_view new_name) = 0;
  // (take_ownership: entity_id, namespace, was_user, superuser; the row's
  // namespace is the superuser, as Quay logs it) The superuser `actor`'s
  // user joins an admin team of the org `namespace_name`; a user namespace
  // is first converted into an organization (Quay's
  // convert_user_to_organization: its password, tokens, team memberships
  // and direct grants go; an "owners" admin team holds the superuser), in
  // one transaction. InvalidArgument when the namespace is a superuser or
  // a robot; NotFound when it does not exist.
  virtual Result<OwnershipTaken> TakeOwnership(const Actor& actor,
                                               std::string_view namespace_name) = 0;
  // (org_delete: namespace) Removes the org, its teams, robots, prototypes,
  // permissions and OAuth applications.
  virtual Status DeleteOrganization(const Actor& actor, std::string_view name) = 0;

  // Users outside the org (in none of its teams) holding direct grants on
  // its repositories, in name order, each with those repositories. Robots
  // are not collaborators. One query. NotFound for an unknown org.
  virtual Result<std::vector<OutsideCollaborator>> ListOutsideCollaborators(
      std::string_view organization) = 0;
  // The org's user members, in name order. One query.
  virtual Result<std::vector<OrganizationMember>> ListOrganizationMembers(
      std::string_view organization) = 0;
  // Removes `member` (a user) from every team of the org and drops its
  // direct permissions on the org's repositories, in one transaction.
  // Quay writes no audit kind of its own for this (Appendix B has none), so
  // this writes one org_remove_team_member (member, team) row per team left
  // and one delete_repo_permission (namespace, repo, username) row per
  // permission dropped. NotFound if the user is in no team of the org.
  // Removing the last member of the owners team is refused
  // (InvalidArgument), as Quay does.
  virtual Status RemoveOrganizationMember(const Actor& actor, std::string_view organization,
                                          std::string_view member) = 0;

  // (org_create_team: team)
  virtual Result<Team> CreateTeam(const Actor& actor, std::string_view organization,
                                  std::string_view team, TeamRole role,
                                  std::string_view description) = 0;
  virtual Result<std::vector<Team>> ListTeams(std::string_view organization) = 0;
  // The org's teams in name order with member counts and whether `viewer`
  // (an account name; may be empty) is a member. One query for all teams.
  virtual Result<std::vector<TeamSummary>> ListTeamSummaries(std::string_view organization,
                                                             std::string_view viewer) = 0;
  // (org_set_team_role: role, team)
  virtual Status SetTeamRole(const Actor& actor, std::string_view organization,
                             std::string_view team, TeamRole role) = 0;
  // PUT /organization/{org}/team/{team} on an existing team: sets what is
  // given, in one transaction: (org_set_team_description: description, team)
  // when the description changes, (org_set_team_role: role, team) when the
  // role changes. Nothing changes: OK, no row. Returns the team after.
  virtual Result<Team> UpdateTeam(const Actor& actor, std::string_view organization,
                                  std::string_view team, std::optional<std::string> description,
                                  std::optional<TeamRole> role) = 0;
  // (org_delete_team: team)
  virtual Status DeleteTeam(const Actor& actor, std::string_view organization,
                            std::string_view team) = 0;
  // (org_add_team_member: member, team) `member` is a username or a robot of
  // the org. Adding an existing member is OK and writes no row.
  virtual Status AddTeamMember(const Actor& actor, std::string_view organization,
                               std::string_view team, std::string_view member) = 0;
  // (org_remove_team_member: member, team) NotFound if not a member.
  virtual Status RemoveTeamMember(const Actor& actor, std::string_view organization,
                                  std::string_view team, std::string_view member) = 0;
  virtual Result<std::vector<std::string>> ListTeamMembers(std::string_view organization,
                                                           std::string_view team) = 0;
  // The team's grants on repositories, in repository name order.
  virtual Result<std::vector<RepositoryGrant>> ListTeamPermissions(std::string_view organization,
                                                                   std::string_view team) = 0;
};

}  // namespace quay
