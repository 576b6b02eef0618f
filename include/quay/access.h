// Who is asking, and the one decision point for "may they do this".
//
// Every protocol binding (OCI /v2, token issuing at /v2/auth, /api/v1)
// authenticates a request into a Principal and asks the Authorizer before
// calling the Registry or the IdentityService. Two Authorizers exist:
// AllowAll() (no identities: anonymous pull and push, the registry core's
// contract for embedders who want no auth) and the database-backed one that
// IdentityService::authorizer() returns (Quay's permission model; see
// identity.h and docs/architecture.md "Identity, permissions and audit").
//
// Thread safety: Authorizers are safe to call from many threads. Principal
// and ScopeSet are values.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "quay/export.h"
#include "quay/status.h"

namespace quay {

enum class Action : unsigned char {
  kPull,     // read manifests, blobs, tags, referrers
  kPush,     // upload blobs, put manifests; on a missing repository: create it
  kDelete,   // delete manifests, tags, blobs (Quay: needs write, not admin)
  kAdmin,    // repository administration (permissions, visibility, "*" scope)
  kCatalog,  // list repositories (repository is empty)
};

// Namespace-wide decisions (a user's own namespace or an organization).
enum class NamespaceAction : unsigned char {
  kCreateRepository,  // own user namespace; org admin or creator team role
  kAdmin,             // the user themself; an org's admin team members
  kMember,            // the user themself; a member of any team of the org
  // Read-only administration views (an org's members, robots, logs): kAdmin,
  // or a global read-only superuser.
  kViewAdmin,
};

// OAuth scopes (Quay's auth/scopes.py). A token's scopes cap what its user
// may do ("role clamping"); they never add rights the user lacks.
enum class Scope : std::uint16_t {
  kRepoRead = 1u << 0,    // "repo:read": at most read on repositories
  kRepoWrite = 1u << 1,   // "repo:write": at most write
  kRepoAdmin = 1u << 2,   // "repo:admin": at most admin
  kRepoCreate = 1u << 3,  // "repo:create": may create repositories
  kUserRead = 1u << 4,    // "user:read"
  kUserAdmin = 1u << 5,   // "user:admin"
  kOrgAdmin = 1u << 6,    // "org:admin": org administration (team admin role)
  kSuperUser = 1u << 7,   // "super:user": superuser powers of the user, if any
};

class QUAY_EXPORT ScopeSet {
 public:
  constexpr ScopeSet() = default;
  constexpr ScopeSet(std::initializer_list<Scope> scopes) {
    for (Scope s : scopes) bits_ |= static_cast<std::uint16_t>(s);
  }
  // Every scope: what a password, an app-specific token or a robot token carries.
  static constexpr ScopeSet All() { return FromBits(0xff); }
  static constexpr ScopeSet FromBits(std::uint16_t bits) {
    ScopeSet s;
    s.bits_ = bits & 0xff;
    return s;
  }
  // "repo:read repo:write" (separated by spaces and/or commas).
  // InvalidArgument naming the first unknown scope.
  static Result<ScopeSet> Parse(std::string_view text);
  // Canonical text: space-separated, in the order of the Scope enum.
  std::string ToString() const;

  constexpr bool Has(Scope s) const { return (bits_ & static_cast<std::uint16_t>(s)) != 0; }
  constexpr ScopeSet& Add(Scope s) {
    bits_ |= static_cast<std::uint16_t>(s);
    return *this;
  }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr std::uint16_t bits() const { return bits_; }
  friend constexpr bool operator==(ScopeSet a, ScopeSet b) { return a.bits_ == b.bits_; }

 private:
  std::uint16_t bits_ = 0;
};

// Quay's superuser flavours. A user listed in both superuser lists is
// global read-only (Quay: read-only wins).
enum class SuperuserKind : unsigned char {
  kNone,
  kPlain,           // SUPER_USERS: superuser panel only, no repository bypass
  kFullAccess,      // SUPER_USERS + FEATURE_SUPERUSERS_FULL_ACCESS: passes every check
  kGlobalReadOnly,  // GLOBAL_READONLY_SUPER_USERS: reads everything, writes nothing
};

struct Principal {
  enum class Kind : unsigned char { kAnonymous, kUser, kRobot, kToken };
  enum class TokenKind : unsigned char { kNone, kAppSpecific, kOAuth };

  Kind kind = Kind::kAnonymous;
  // kUser: the username. kRobot: "<namespace>+<short name>". kToken: the
  // username the token belongs to. Empty for anonymous.
  std::string name;
  // kToken only: which kind, its public id (never the secret) and its title
  // (app-specific token title, OAuth application name); for audit rows.
  TokenKind token_kind = TokenKind::kNone;
  std::string token_id;
  std::string token_title;
  // The account's uuid (for kToken: the owning user's), filled by the
  // Authenticate* calls: an identifier no other account - not even one
  // re-created under the same name - ever has. A credential that outlives
  // the login (a registry token) carries it, and Accounts::CheckCurrent
  // compares it with the account that has the name now. Empty for
  // anonymous, and for principals built by name (Principal::User).
  std::string account_uuid;
  // What the credential may do. Passwords, app-specific tokens and robot
  // tokens carry All(); OAuth tokens carry their granted scopes.
  ScopeSet scopes = ScopeSet::All();
  // Filled by IdentityService::Authenticate* from the configured lists, for
  // the host (e.g. superuser panel routes). The database-backed Authorizer
  // does not trust it: it looks the user up in its own configuration.
  SuperuserKind superuser = SuperuserKind::kNone;

  static Principal Anonymous() { return {}; }
  static Principal User(std::string username) {
    Principal p;
    p.kind = Kind::kUser;
    p.name = std::move(username);
    return p;
  }
  static Principal Robot(std::string robot_name) {
    Principal p;
    p.kind = Kind::kRobot;
    p.name = std::move(robot_name);
    return p;
  }
  bool anonymous() const { return kind == Kind::kAnonymous; }
};

// "anonymous", "user", "robot" or "token": the kind as audit rows and token
// claims spell it.
QUAY_EXPORT std::string_view ToString(Principal::Kind kind);

class QUAY_EXPORT Authorizer {
 public:
  virtual ~Authorizer() = default;
  // OK, or Unauthenticated (anonymous and credentials would be needed) /
  // Denied (authenticated but not allowed); Unavailable/Internal when the
  // database fails. `repository` is empty for registry-wide actions (kCatalog).
  //
  // Existence never leaks: kPull on a repository that does not exist answers
  // exactly as on a private one the principal cannot read, unless the
  // principal could read a repository of that name if it existed (namespace
  // admin, full-access or read-only superuser): then OK, and the caller
  // reports NAME_UNKNOWN from the Registry. kPush on a missing repository is
  // OK only if the principal may create repositories in its namespace.
  virtual Status Check(const Principal& who, std::string_view repository, Action action) const = 0;

  // Namespace-wide decision; same error contract as Check. The default
  // answers Denied (an Authorizer that only knows repositories grants
  // nothing namespace-wide); AllowAll() answers OK.
  virtual Status CheckNamespace(const Principal& who, std::string_view namespace_name,
                                NamespaceAction action) const;

  // Grants everything to everyone.
  static std::shared_ptr<Authorizer> AllowAll();
};

}  // namespace quay
