// Permissions: repositories as the identity side sees them (creation,
// visibility, description, listings, a principal's access), their
// permissions, a user's transitive role, and organizations' default
// permissions (prototypes). Part of IdentityService (quay/identity.h):
// identity.permissions().
//
// Thread safety: safe to use from many threads.
// Errors: InvalidArgument for a malformed name or role; NotFound
// (kRepository for repositories, kNone otherwise) for what does not exist;
// Conflict for a repository that exists; Unavailable/Internal on database
// failure. Authorization is the caller's (ask the Authorizer first). Every
// mutation writes its audit row (Quay kind in parentheses) in the same
// transaction.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "quay/identity_types.h"

namespace quay {

// What GET /api/v1/repository lists. Filters combine (AND).
struct RepositoryFilter {
  std::string namespace_name;  // only this namespace; empty any
  bool public_only = false;    // only public repositories
  std::string starred_by;      // only repositories this user starred; empty any
  // Only repositories whose short name or description contains this text
  // (ASCII case-insensitive, as Quay's ILIKE '%text%'); empty any. Quay's
  // repository search (GET /api/v1/find/repositories) pairs it with
  // namespace_name for a "namespace/text" query.
  std::string search;
};

// What a push may do to the repository it names (Permissions::PushToCreate).
enum class PushTarget : unsigned char {
  kExists,   // the repository is there; the push goes to it
  kCreated,  // it was missing and this call created (or adopted) it
  kRefused,  // the principal may not push there: nothing was created
};

struct RepositoryListing {
  std::string namespace_name;
  std::string name;  // the short name, without the namespace
  std::string description;
  bool is_public = false;
  // The latest tag change (push, move or delete) in the repository; unset
  // when it never had a tag.
  std::optional<Clock::TimePoint> last_modified;
  bool is_starred = false;        // by the listing principal's user
  bool namespace_is_org = false;  // the namespace is an organization (not a user)
  uint64_t star_count = 0;        // how many users starred it
};

struct RepositoryListingPage {
  std::vector<RepositoryListing> repositories;
  bool more = false;
  // Pass as `after_cursor` for the next page (the last full name); empty
  // when !more.
  std::string next_cursor;
};

class QUAY_EXPORT Permissions {
 public:
  virtual ~Permissions() = default;

  // ---- repositories ----
  // (create_repo: namespace, repo) Creates the repository with
  // `visibility`; its namespace must be an existing user or organization.
  // The creating user or robot gets admin on it, as Quay's
  // create_repository does. Applies the org's prototypes whose activating
  // user is unset or is the creator (no audit rows of their own, as in Quay).
  // InvalidArgument(kName) for a bad name or one without a namespace;
  // Conflict(kRepository) if it exists.
  virtual Result<RepositoryInfo> CreateRepository(const Actor& actor, std::string_view name,
                                                  Visibility visibility,
                                                  std::string_view description) = 0;
  // Push-to-create: CreateRepository with CREATE_PRIVATE_REPO_ON_PUSH's
  // visibility unless the repository exists (also when the Registry created
  // its row on an earlier push: it is adopted, and prototypes applied).
  // True if this call created (or adopted) it. With CREATE_NAMESPACE_ON_PUSH
  // and a namespace that does not exist, first creates it as an organization
  // owned by the actor's user (org_create). With that option on and a user
  // (or a user's token) as the actor, the push is authorized again here, from
  // the database, before anything is created: Denied/Unauthenticated if not
  // allowed now. Robots and anonymous actors never create namespaces.
  virtual Result<bool> EnsureRepository(const Actor& actor, std::string_view name) = 0;
  // Push-to-create as every protocol runs it (Quay's v2auth
  // _authorize_or_downscope_request): asks the Authorizer whether
  // `actor.principal` may push to `name` (on a missing repository: may
  // create repositories in its namespace - own user namespace, org admin or
  // creator team with repo:create, full-access superuser - or create the
  // namespace with CREATE_NAMESPACE_ON_PUSH); when it may and the repository
  // is missing or only a bare Registry row, EnsureRepository creates or
  // adopts it. Anonymous principals never create. A refusal of either step
  // (Denied, Unauthenticated, NotFound, or a name that cannot become a
  // namespace) is kRefused, not an error. Errors: InvalidArgument(kName) for
  // a malformed name; Unavailable/Internal.
  virtual Result<PushTarget> PushToCreate(const Actor& actor, std::string_view name) = 0;
  // POST /api/v1/repository as every protocol runs it: the Authorizer's
  // NamespaceAction::kCreateRepository on the name's namespace for
  // `actor.principal` (Denied/Unauthenticated otherwise), then
  // CreateRepository. InvalidArgument(kName) for a malformed name;
  // Conflict(kRepository) if it exists.
  virtual Result<RepositoryInfo> CreateRepositoryAs(const Actor& actor, std::string_view name,
                                                    Visibility visibility,
                                                    std::string_view description) = 0;
  // NotFound(kRepository). Repositories created by a Registry push without
  // an IdentityService are private with an empty description.
  virtual Result<RepositoryInfo> GetRepository(std::string_view name) = 0;
  // (change_repo_visibility: namespace, repo, visibility)
  virtual Status SetVisibility(const Actor& actor, std::string_view repository,
                               Visibility visibility) = 0;
  // (set_repo_description: namespace, repo, description)
  virtual Status SetDescription(const Actor& actor, std::string_view repository,
                                std::string_view description) = 0;
  // Names of repositories `who` may pull, in name order, paged like
  // Registry::ListRepositories (the catalog's answer). Anonymous principals
  // see public ones only if IdentityOptions::public_catalog.
  virtual Result<AccountPage> ListVisibleRepositories(const Principal& who, size_t limit,
                                                      std::string_view after) = 0;
  // GET /api/v1/repository: the repositories `who` may read (the
  // Authorizer's rule: public ones - for anonymous principals only with
  // FEATURE_ANONYMOUS_ACCESS -, the own user namespace, grants to the account
  // or its teams, orgs where it is in an admin team, everything for
  // superusers) that pass `filter`, in full-name order after `after_cursor`,
  // at most `limit` (1..1000). One query per page; each source of visibility
  // is an index range, so a page costs its size, not the number of
  // repositories (filter.search scans each source's range until the page
  // is full: its cost is bounded by what the principal can see, not by the
  // registry). NotFound(kNone) if filter.starred_by is not a user.
  Result<RepositoryListingPage> ListRepositories(const Principal& who,
                                                 const RepositoryFilter& filter, size_t limit,
                                                 std::string_view after_cursor) {
    auto page = SharedListRepositories(who, filter, limit, after_cursor);
    if (!page.ok()) return page.status();
    return **page;
  }
  // The same page, shared and immutable: while nothing is written, the same
  // request returns the same object, so a caller may keep what it derives
  // from a page (rendered JSON) keyed by the pointer.
  virtual Result<std::shared_ptr<const RepositoryListingPage>> SharedListRepositories(
      const Principal& who, const RepositoryFilter& filter, size_t limit,
      std::string_view after_cursor) = 0;
  // The principal's standing on one repository. For a repository that does
  // not exist, `role` is what it would have on a private one of that name.
  virtual Result<RepositoryAccess> Access(const Principal& who, std::string_view repository) = 0;
  // A user's (or robot's) effective role on a repository from every source -
  // direct grant, its teams' grants, own namespace, org admin team,
  // superuser - as Access for that account with all scopes, but without the
  // public read (GET .../permissions/user/{u}/transitive). NotFound(kNone)
  // for an unknown account, NotFound(kRepository) for an unknown repository.
  virtual Result<RepositoryRole> UserRoleOn(std::string_view account,
                                            std::string_view repository) = 0;

  // ---- repository permissions ----
  // (change_repo_permission: namespace, repo, role, username or team)
  // Grants or changes a direct permission. Robots and teams must belong to
  // the repository's namespace (teams: an org).
  virtual Status SetPermission(const Actor& actor, std::string_view repository,
                               const Grantee& grantee, RepositoryRole role) = 0;
  // (delete_repo_permission: namespace, repo, username or team) NotFound if
  // there is no such permission.
  virtual Status RemovePermission(const Actor& actor, std::string_view repository,
                                  const Grantee& grantee) = 0;
  virtual Result<std::vector<RepositoryPermission>> ListPermissions(
      std::string_view repository) = 0;

  // ---- default permissions (prototypes) ----
  // (create_prototype_permission: prototypeid, role, activating_username,
  // delegate_user or delegate_team)
  virtual Result<Prototype> CreatePrototype(const Actor& actor, std::string_view organization,
                                            std::optional<std::string> activating_user,
                                            const Grantee& delegate, RepositoryRole role) = 0;
  virtual Result<std::vector<Prototype>> ListPrototypes(std::string_view organization) = 0;
  // (modify_prototype_permission: as create + original_role) NotFound for an
  // unknown prototype; InvalidArgument for kNone.
  virtual Result<Prototype> UpdatePrototype(const Actor& actor, std::string_view organization,
                                            std::string_view prototype_id, RepositoryRole role) = 0;
  // (delete_prototype_permission: as create)
  virtual Status DeletePrototype(const Actor& actor, std::string_view organization,
                                 std::string_view prototype_id) = 0;
};

}  // namespace quay
