// The /api/v1 permission matrix, generated from the route table: every row
// of quayd::ApiRoutes() is sent by thirteen principals (anonymous, a user
// without grants, repository reader / writer / admin, org member, creator
// and admin, the repository's robot, a too-narrow OAuth token, plain,
// full-access and global read-only superusers), and the answer's class is
// compared with what Quay's rules (reference/quay-api.md 1.1, 3) derive from
// the row's Need, superuser bits, scope and anonymous flag:
//   401 - anonymous on a protected route;
//   403 - authenticated but not allowed;
//   anything else (2xx, 400, 404; never 401/403/405/5xx) - allowed.
//
// Destructive rows (DELETE of the org, repository, user...): an allowed
// mutation marks its world dirty and the next principal gets a fresh one, so
// every check runs against the full world with real targets; no row is
// checked against a missing target. The matrix's servers do not count for
// route coverage (the functional tests must exercise every row).
//
// Robots: Quay's REST API reads only OAuth bearer tokens and the session
// cookie (reference 1.2), so a robot's Basic credentials leave it anonymous.
#include <doctest/doctest.h>

#include <sstream>

#include "api_fixture.h"

using namespace quayd::apitest;
using quayd::ApiRoute;
using quayd::Need;

namespace {

enum class Role { kNone, kRead, kWrite, kAdmin };

struct Who {
  std::string_view label;
  std::string user;  // empty: no bearer token
  quay::ScopeSet scopes = quay::ScopeSet::All();
  bool robot_basic = false;      // sends the robot's Basic credentials
  Role repo_role = Role::kNone;  // on acme/app
  bool org_member = false;       // of acme (any team)
  bool org_admin = false;        // of acme
  quay::SuperuserKind su = quay::SuperuserKind::kNone;
  bool authenticated() const { return !user.empty(); }

  Who(std::string_view l, std::string u, quay::ScopeSet s = quay::ScopeSet::All(),
      bool robot = false, Role role = Role::kNone, bool member = false, bool admin = false,
      quay::SuperuserKind kind = quay::SuperuserKind::kNone)
      : label(l),
        user(std::move(u)),
        scopes(s),
        robot_basic(robot),
        repo_role(role),
        org_member(member),
        org_admin(admin),
        su(kind) {}
};

std::vector<Who> Principals() {
  using quay::Scope;
  using quay::SuperuserKind;
  return {
      {"anonymous", ""},
      {"user without grants", "eve"},
      {"repository reader", "rita", quay::ScopeSet::All(), false, Role::kRead},
      {"repository writer", "wendy", quay::ScopeSet::All(), false, Role::kWrite},
      {"repository admin", "adam", quay::ScopeSet::All(), false, Role::kAdmin},
      {"org member (member team)", "mike", quay::ScopeSet::All(), false, Role::kNone, true},
      {"org creator-team member", "carl", quay::ScopeSet::All(), false, Role::kNone, true},
      {"org admin", "alice", quay::ScopeSet::All(), false, Role::kAdmin, true, true},
      {"robot with read (Basic: anonymous to the REST API)", "", quay::ScopeSet::All(), true},
      // alice's token, capped at repo:read: roles are clamped to read and
      // every other scope is missing.
      {"OAuth token repo:read only (org admin's)", "alice", quay::ScopeSet{Scope::kRepoRead}, false,
       Role::kRead},
      {"plain superuser", "sue", quay::ScopeSet::All(), false, Role::kNone, false, false,
       SuperuserKind::kPlain},
      {"full-access superuser", "sue", quay::ScopeSet::All(), false, Role::kNone, false, false,
       SuperuserKind::kFullAccess},
      {"global read-only superuser", "rosa", quay::ScopeSet::All(), false, Role::kNone, false,
       false, SuperuserKind::kGlobalReadOnly},
  };
}

// Does a token with `scopes` carry the route's scope (admin > write > read
// for repositories, user:admin > user:read)?
bool ScopeCovers(quay::ScopeSet scopes, std::string_view scope) {
  using quay::Scope;
  if (scope.empty()) return true;
  auto has = [&](Scope s) { return scopes.Has(s); };
  if (scope == "repo:read")
    return has(Scope::kRepoRead) || has(Scope::kRepoWrite) || has(Scope::kRepoAdmin);
  if (scope == "repo:write") return has(Scope::kRepoWrite) || has(Scope::kRepoAdmin);
  if (scope == "repo:admin") return has(Scope::kRepoAdmin);
  if (scope == "user:read") return has(Scope::kUserRead) || has(Scope::kUserAdmin);
  quay::Result<quay::ScopeSet> parsed = quay::ScopeSet::Parse(scope);
  REQUIRE_MESSAGE(parsed.ok(), "route scope " << scope << " does not parse");
  return (scopes.bits() & parsed->bits()) == parsed->bits();
}

enum class Expect { kAllowed, kUnauthenticated, kDenied };

const char* Name(Expect e) {
  return e == Expect::kAllowed ? "allowed" : e == Expect::kUnauthenticated ? "401" : "403";
}

// Quay's rules from the row's columns, written once.
Expect Expected(const ApiRoute& r, const Who& p) {
  using quay::SuperuserKind;
  const bool reading = !quayd::IsMutation(r.method);
  // (anon_allowed only lets anonymous callers past check_anon_protection;
  // the Need still applies: getRepo of a private repository is 401 for them.)
  if (r.need == Need::kNone) {
    if (!p.authenticated()) return Expect::kAllowed;
    // Anonymous routes narrow their view by the caller's grants, except the
    // caller's own user information: a token without user:read is refused.
    if (r.scope.starts_with("user:") && !ScopeCovers(p.scopes, r.scope)) return Expect::kDenied;
    return Expect::kAllowed;
  }
  if (!p.authenticated()) return Expect::kUnauthenticated;
  if (!ScopeCovers(p.scopes, r.scope)) return Expect::kDenied;
  bool pass = false;
  bool namespace_check = false;  // a repository or organization check
  switch (r.need) {
    case Need::kNone:
    case Need::kSignedIn:
    case Need::kUserRead:
    case Need::kUserAdmin:  // always the caller's own account
      pass = true;
      break;
    case Need::kRepoRead:
      pass = p.repo_role >= Role::kRead;
      namespace_check = true;
      break;
    case Need::kRepoWrite:
      pass = p.repo_role >= Role::kWrite;
      namespace_check = true;
      break;
    case Need::kRepoAdmin:
      pass = p.repo_role >= Role::kAdmin;
      namespace_check = true;
      break;
    case Need::kOrgMember:
      pass = p.org_member;
      namespace_check = true;
      break;
    case Need::kOrgAdmin:
      pass = p.org_admin;
      namespace_check = true;
      break;
    case Need::kSuperuser:
      pass = p.su == SuperuserKind::kPlain || p.su == SuperuserKind::kFullAccess ||
             (p.su == SuperuserKind::kGlobalReadOnly && reading &&
              (r.superusers & quayd::kReadOnlySuperuser));
      break;
    case Need::kAuditingSuperuser:
      pass =
          p.su == SuperuserKind::kFullAccess || (p.su == SuperuserKind::kGlobalReadOnly && reading);
      break;
  }
  if (namespace_check) {
    // FEATURE_SUPERUSERS_FULL_ACCESS: Quay's permission check short-circuits.
    if (p.su == SuperuserKind::kFullAccess) pass = true;
    if (p.su == SuperuserKind::kPlain && (r.superusers & quayd::kAnySuperuser)) pass = true;
    if (p.su == SuperuserKind::kGlobalReadOnly && reading &&
        (r.superusers & (quayd::kReadOnlySuperuser | quayd::kAnySuperuser))) {
      pass = true;
    }
  }
  return pass ? Expect::kAllowed : Expect::kDenied;
}

// A body the handler accepts (the matrix wants the handler's own checks to
// run, not a 400 for a missing field); `{}` for rows without one.
std::string BodyFor(const ApiRoute& r, const Who& p) {
  const std::string n(r.nickname);
  const std::string own = p.user.empty() ? "acme" : p.user;
  if (n == "signinUser")
    return R"({"username":"bob","password":")" + std::string(kPassword) + "\"}";
  if (n == "createNewUser" || n == "createInitialUser")
    return R"({"username":"newbie","password":")" + std::string(kPassword) +
           R"(","email":"newbie@example.com"})";
  if (n == "createAppToken") return R"({"title":"matrix"})";
  if (n == "createRepo")
    return R"({"namespace":")" + own + R"(","repository":"matrix","visibility":"private"})";
  if (n == "updateRepo") return R"({"description":"from the matrix"})";
  if (n == "changeRepoVisibility") return R"({"visibility":"private"})";
  if (n == "restoreTag") return R"({"manifest_digest":"sha256:)" + std::string(64, '0') + "\"}";
  if (n == "changeUserPermissions" || n == "changeTeamPermissions") return R"({"role":"read"})";
  if (n == "createOrganization") return R"({"name":"matrixorg","email":"m@example.com"})";
  if (n == "updateOrganizationTeam") return R"({"role":"member"})";
  if (n == "createOrganizationPrototypePermission")
    return R"({"role":"read","delegate":{"kind":"user","name":"bob"}})";
  if (n == "createInstallUser") return R"({"username":"made","email":"made@example.com"})";
  if (n == "changeInstallUser") return R"({"enabled":true})";
  return quayd::IsMutation(r.method) ? "{}" : "";
}

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) |
                 uint32_t(uint8_t(in[i + 2]));
    for (int s : {18, 12, 6, 0}) out += kAlphabet[(v >> s) & 63];
  }
  if (size_t rest = in.size() - i; rest > 0) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    if (rest == 2) v |= uint32_t(uint8_t(in[i + 1])) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// A world per server kind (full access or not), rebuilt after an allowed
// mutation.
class Worlds {
 public:
  ApiServer& For(const Who& p) {
    const bool full = p.su == quay::SuperuserKind::kFullAccess;
    std::unique_ptr<ApiServer>& slot = full ? full_ : plain_;
    bool& dirty = full ? full_dirty_ : plain_dirty_;
    if (!slot || dirty) {
      slot.reset();
      ServerSpec spec;
      spec.superusers_full_access = full;
      spec.counts_for_coverage = false;
      slot = std::make_unique<ApiServer>(spec);
      dirty = false;
      tokens(full).clear();
    }
    return *slot;
  }
  std::string TokenFor(const Who& p) {
    if (p.user.empty()) return "";
    const bool full = p.su == quay::SuperuserKind::kFullAccess;
    const std::string key = p.user + "/" + p.scopes.ToString();
    auto& cache = tokens(full);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
    return cache[key] = For(p).Token(p.user, p.scopes);
  }
  void Dirty(const Who& p) {
    (p.su == quay::SuperuserKind::kFullAccess ? full_dirty_ : plain_dirty_) = true;
  }

 private:
  std::map<std::string, std::string>& tokens(bool full) {
    return full ? full_tokens_ : plain_tokens_;
  }
  std::unique_ptr<ApiServer> plain_, full_;
  bool plain_dirty_ = false, full_dirty_ = false;
  std::map<std::string, std::string> plain_tokens_, full_tokens_;
};

}  // namespace

TEST_CASE("api permission matrix: every route row x every principal answers Quay's class") {
  Worlds worlds;
  const std::vector<Who> principals = Principals();
  size_t checks = 0;
  for (const ApiRoute& route : quayd::ApiRoutes()) {
    // /oauth answers in RFC 6749's terms (pages, redirects, invalid_client),
    // not the API's classes: tests/e2e/oauth_flows.py and api_more_test.
    if (route.surface == quayd::Surface::kOAuth) {
      checks += principals.size();
      continue;
    }
    for (const Who& who : principals) {
      ApiServer& world = worlds.For(who);
      std::optional<std::string> path = FillPath(route.path, world);
      if (!path) break;
      const std::string token = worlds.TokenFor(who);
      ApiServer& same = worlds.For(who);  // (tokens do not dirty the world)
      httplib::Headers headers;
      if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
      if (who.robot_basic) {
        headers.emplace("Authorization", "Basic " + Base64("acme+bot:" + same.robot_token()));
      }
      const Reply reply =
          same.Call(quayd::HttpMethodName(route.method), *path, BodyFor(route, who), headers);
      const Expect expect = Expected(route, who);
      INFO(quayd::HttpMethodName(route.method)
           << " " << *path << " (" << route.nickname << ") as " << who.label << ": expected "
           << std::string(Name(expect)) << ", got " << reply);
      ++checks;
      switch (expect) {
        case Expect::kAllowed:
          CHECK(reply.status != 0);
          CHECK(reply.status != 401);
          CHECK(reply.status != 403);
          CHECK(reply.status != 405);
          CHECK(reply.status < 500);
          if (quayd::IsMutation(route.method)) worlds.Dirty(who);
          break;
        case Expect::kUnauthenticated:
          CHECK(reply.status == 401);
          CHECK(reply.Str("error_type") == "invalid_token");
          break;
        case Expect::kDenied:
          CHECK(reply.status == 403);
          CHECK(reply.Str("error_type") == "insufficient_scope");
          break;
      }
    }
  }
  CHECK(checks == quayd::ApiRoutes().size() * principals.size());
}

// The matrix's createRepo goes to the caller's own namespace; in an
// organization only admins and creator teams may create (reference 3).
TEST_CASE("api permission matrix: repository creation in an org needs admin or a creator team") {
  ServerSpec spec;
  spec.counts_for_coverage = false;
  ApiServer s(spec);
  auto create = [&](const std::string& user, const std::string& name) {
    return s
        .As(s.Token(user), "POST", "/api/v1/repository",
            R"({"namespace":"acme","repository":")" + name + R"(","visibility":"private"})")
        .status;
  };
  CHECK(create("carl", "bycreator") == 201);
  CHECK(create("alice", "byadmin") == 201);
  CHECK(create("mike", "bymember") == 403);
  CHECK(create("eve", "bystranger") == 403);
  CHECK(create("wendy", "bywriter") == 403);
  CHECK(s.As(s.Token("carl", quay::ScopeSet{quay::Scope::kRepoRead}), "POST", "/api/v1/repository",
             R"({"namespace":"acme","repository":"narrow","visibility":"private"})")
            .status == 403);
}
