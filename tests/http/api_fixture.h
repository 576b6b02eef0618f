// Shared fixture of the /api/v1 tests (http-api): a quayd with token auth and
// every API feature on, a Quay-shaped world in it (org `acme` owned by
// alice, repo `acme/app` with reader/writer/admin grants, teams `ci`
// (member) and `builders` (creator), robot `acme+bot`, a prototype,
// superusers), OAuth bearer tokens for its users, a small JSON client, and
// the route-coverage ledger: every ApiServer that counts for coverage reads
// the route nicknames of its access log when it stops.
#pragma once

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "host/route/route_table.h"
#include "http_test_support.h"
#include "quay/access.h"
#include "quay/audit.h"

namespace quayd::apitest {

inline constexpr char kPassword[] = "S3cret-Pa55word!";

// Every API feature flag on (the table's rows are all routable).
quayd::ApiOptions AllFeatures();

// ---- route coverage ----

// Nicknames of the routes that answered a request of a counting server.
std::set<std::string> CoveredRoutes();
// Reads "route=<nickname>" of the access lines in `logs` into the ledger.
void RecordCoverage(const quayd::testing::LogCapture& logs);

// ---- responses ----

struct Reply {
  int status = 0;  // 0: no answer
  std::string body;
  httplib::Headers headers;
  rapidjson::Document json;  // parsed body (null when not JSON)

  std::string Header(const std::string& name) const;
  bool Has(const char* member) const { return json.IsObject() && json.HasMember(member); }
  std::string Str(const char* member) const;  // "" when absent or not a string
};

std::ostream& operator<<(std::ostream& os, const Reply& r);

// ---- the server and its world ----

struct ServerSpec {
  bool superusers_full_access = false;  // FEATURE_SUPERUSERS_FULL_ACCESS
  quayd::ApiOptions api = AllFeatures();
  bool counts_for_coverage = true;
  std::shared_ptr<quay::Clock> clock;
  bool world = true;  // build the acme world
};

class ApiServer {
 public:
  explicit ApiServer(ServerSpec spec = {});
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  quayd::testing::TestServer& server() { return *server_; }
  quay::IdentityService& id() { return server_->identity(); }
  quay::Registry& registry() { return server_->registry(); }
  int port() const { return server_->port(); }

  // The acting user for setup calls.
  static quay::Actor ActorFor(std::string_view user);
  // A user with kPassword.
  void AddUser(const std::string& name);
  // An OAuth access token of `user` with `scopes` (IssueOAuthToken).
  std::string Token(const std::string& user, quay::ScopeSet scopes = quay::ScopeSet::All());
  // The world's robot token (acme+bot).
  const std::string& robot_token() const { return robot_token_; }
  const std::string& prototype_id() const { return prototype_id_; }

  // One request. `headers` are sent as given; a non-empty body is JSON.
  Reply Call(std::string_view method, const std::string& path, const std::string& body = "",
             const httplib::Headers& headers = {});
  // With "Authorization: Bearer <token>" (no header for an empty token).
  Reply As(const std::string& token, std::string_view method, const std::string& path,
           const std::string& body = "");

  // Pushes a one-layer image to repo:tag through the library (no /v2 auth
  // needed); returns the manifest digest.
  std::string PushTag(const std::string& repo, const std::string& tag, const std::string& seed);

  // Audit rows of `kind` (newest first) matching the optional repository.
  std::vector<quay::AuditEvent> AuditRows(const std::string& kind,
                                          const std::string& repository = "");

 private:
  void BuildWorld();

  bool counts_;
  std::unique_ptr<quayd::testing::TestServer> server_;
  std::unique_ptr<httplib::Client> client_;
  std::string robot_token_;
  std::string prototype_id_;
};

// Fills a route's path template from the world: {repository+} acme/app,
// {orgname} acme, {teamname} ci, {username} / {membername} bob,
// {robot_shortname} bot, {tag} latest, {error_type} not_found, {name} acme,
// {prototypeid} the world's prototype, {token_uuid} a made-up uuid.
// nullopt (and a FAIL naming it) for a parameter the world has no value for.
std::optional<std::string> FillPath(std::string_view path, const ApiServer& world);

}  // namespace quayd::apitest
