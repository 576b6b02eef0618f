#include "api_fixture.h"

#include <mutex>
#include <ostream>
#include <stdexcept>

#include "quay/digest.h"
#include "quay/identity.h"

namespace quayd::apitest {
namespace {

std::mutex g_coverage_mu;
std::set<std::string>& Ledger() {
  static std::set<std::string> ledger;
  return ledger;
}

void Require(const quay::Status& s, std::string_view what) {
  if (!s.ok()) throw std::runtime_error(std::string(what) + ": " + s.ToString());
}
template <typename T>
T Require(quay::Result<T> r, std::string_view what) {
  if (!r.ok()) throw std::runtime_error(std::string(what) + ": " + r.status().ToString());
  return std::move(r).value();
}

}  // namespace

quayd::ApiOptions AllFeatures() {
  quayd::ApiOptions o;
  o.features.fill(true);
  return o;
}

std::set<std::string> CoveredRoutes() {
  std::lock_guard<std::mutex> lock(g_coverage_mu);
  return Ledger();
}

void RecordCoverage(const quayd::testing::LogCapture& logs) {
  std::lock_guard<std::mutex> lock(g_coverage_mu);
  for (const std::string& line : logs.lines()) {
    if (line.find("msg=request") == std::string::npos) continue;  // access lines only
    const size_t at = line.find(" route=");
    if (at == std::string::npos) continue;
    size_t start = at + 7;
    if (start < line.size() && line[start] == '"') ++start;
    size_t end = line.find_first_of(" \"\n", start);
    if (end == std::string::npos) end = line.size();
    std::string route = line.substr(start, end - start);
    if (!route.empty() && route != "-") Ledger().insert(route);
  }
}

std::string Reply::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

std::string Reply::Str(const char* member) const {
  if (!Has(member) || !json[member].IsString()) return "";
  return json[member].GetString();
}

std::ostream& operator<<(std::ostream& os, const Reply& r) {
  return os << r.status << " " << r.body.substr(0, 400);
}

quay::Actor ApiServer::ActorFor(std::string_view user) {
  quay::Actor a;
  if (!user.empty()) a.principal = quay::Principal::User(std::string(user));
  a.request_id = "api-test-setup";
  return a;
}

ApiServer::ApiServer(ServerSpec spec) : counts_(spec.counts_for_coverage) {
  quayd::testing::ServerOptions o;
  o.token_auth = true;
  o.threads = 8;
  o.api = spec.api;
  o.clock = spec.clock;
  o.identity.super_users = {"sue"};
  o.identity.global_readonly_super_users = {"rosa"};
  o.identity.superusers_full_access = spec.superusers_full_access;
  server_ = std::make_unique<quayd::testing::TestServer>(o);
  client_ = server_->Client();
  if (spec.world) BuildWorld();
}

ApiServer::~ApiServer() {
  client_.reset();
  server_->Shutdown();
  if (counts_) RecordCoverage(server_->logs());
}

void ApiServer::AddUser(const std::string& name) {
  Require(id().CreateUser(ActorFor(""), name, name + "@example.com", kPassword),
          "CreateUser " + name);
}

std::string ApiServer::Token(const std::string& user, quay::ScopeSet scopes) {
  return Require(id().IssueOAuthToken(ActorFor(user), user, "test", scopes), "IssueOAuthToken")
      .secret;
}

void ApiServer::BuildWorld() {
  for (const char* u :
       {"alice", "bob", "eve", "rita", "wendy", "adam", "mike", "carl", "sue", "rosa"}) {
    AddUser(u);
  }
  const quay::Actor alice = ActorFor("alice");
  Require(id().CreateOrganization(alice, "acme", "acme@example.com", "alice"), "org acme");
  Require(id().CreateTeam(alice, "acme", "ci", quay::TeamRole::kMember, "CI"), "team ci");
  Require(id().CreateTeam(alice, "acme", "builders", quay::TeamRole::kCreator, ""), "builders");
  Require(id().AddTeamMember(alice, "acme", "ci", "mike"), "mike in ci");
  Require(id().AddTeamMember(alice, "acme", "builders", "carl"), "carl in builders");
  Require(id().CreateRepository(alice, "acme/app", quay::Visibility::kPrivate, "the app"),
          "repo acme/app");
  using quay::Grantee;
  Require(id().SetPermission(alice, "acme/app", Grantee::User("rita"), quay::RepositoryRole::kRead),
          "rita read");
  Require(
      id().SetPermission(alice, "acme/app", Grantee::User("wendy"), quay::RepositoryRole::kWrite),
      "wendy write");
  Require(
      id().SetPermission(alice, "acme/app", Grantee::User("adam"), quay::RepositoryRole::kAdmin),
      "adam admin");
  robot_token_ = Require(id().CreateRobot(alice, "acme", "bot", "the robot"), "robot").token;
  Require(id().SetPermission(alice, "acme/app", Grantee::Robot("acme+bot"),
                             quay::RepositoryRole::kRead),
          "bot read");
  prototype_id_ = Require(id().CreatePrototype(alice, "acme", std::nullopt, Grantee::User("bob"),
                                               quay::RepositoryRole::kRead),
                          "prototype")
                      .id;
}

Reply ApiServer::Call(std::string_view method, const std::string& path, const std::string& body,
                      const httplib::Headers& headers) {
  httplib::Result res = [&]() -> httplib::Result {
    const char* type = "application/json";
    if (method == "GET") return client_->Get(path, headers);
    if (method == "HEAD") return client_->Head(path, headers);
    if (method == "POST") return client_->Post(path, headers, body, type);
    if (method == "PUT") return client_->Put(path, headers, body, type);
    if (method == "PATCH") return client_->Patch(path, headers, body, type);
    if (method == "DELETE") return client_->Delete(path, headers, body, type);
    throw std::runtime_error("unknown method " + std::string(method));
  }();
  Reply r;
  if (!res) return r;
  r.status = res->status;
  r.body = res->body;
  r.headers = res->headers;
  r.json.Parse(r.body.c_str());
  if (r.json.HasParseError()) r.json.SetNull();
  return r;
}

Reply ApiServer::As(const std::string& token, std::string_view method, const std::string& path,
                    const std::string& body) {
  httplib::Headers headers;
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  return Call(method, path, body, headers);
}

std::string ApiServer::PushTag(const std::string& repo, const std::string& tag,
                               const std::string& seed) {
  auto push = [&](const std::string& data) {
    auto upload = Require(registry().StartUpload(repo), "StartUpload");
    Require(upload->Write(data.data(), data.size()), "Write");
    Require(upload->Commit(quay::Digest::Of(data)), "Commit");
  };
  const std::string config =
      "{\"architecture\":\"amd64\",\"os\":\"linux\",\"seed\":\"" + seed + "\"}";
  const std::string layer = "layer bytes for " + seed;
  push(config);
  push(layer);
  const std::string manifest =
      quayd::testing::ImageManifest({quayd::testing::DigestOf(config), config.size()},
                                    {{quayd::testing::DigestOf(layer), layer.size()}});
  Require(registry().PutManifest(repo, tag, quayd::testing::kOciManifest, manifest), "PutManifest");
  return quayd::testing::DigestOf(manifest);
}

std::vector<quay::AuditEvent> ApiServer::AuditRows(const std::string& kind,
                                                   const std::string& repository) {
  quay::AuditQuery q;
  q.kinds = {kind};
  q.repository = repository;
  q.limit = 100;
  return Require(id().audit().Query(q), "audit Query").events;
}

std::optional<std::string> FillPath(std::string_view path, const ApiServer& world) {
  const std::map<std::string, std::string, std::less<>> values = {
      {"repository+", "acme/app"},
      {"orgname", "acme"},
      {"teamname", "ci"},
      {"username", "bob"},
      {"membername", "bob"},
      {"robot_shortname", "bot"},
      {"tag", "latest"},
      {"error_type", "not_found"},
      {"name", "acme"},
      {"prototypeid", world.prototype_id()},
      {"token_uuid", "00000000-0000-4000-8000-000000000000"},
      {"manifestref", "sha256:0000000000000000000000000000000000000000000000000000000000000000"},
      {"labelid", "00000000-0000-4000-8000-000000000001"},
      {"client_id", "nosuchclient00000000"},
      {"access_token_uuid", "nosuchclient00000000"},
      {"uuid", "00000000-0000-4000-8000-000000000002"},
      {"prefix", "al"},
      {"namespace", "acme"},
      {"assigned_authorization_uuid", "00000000-0000-4000-8000-000000000003"},
      {"policy_uuid", "00000000-0000-4000-8000-000000000004"},
      {"quota_id", "1"},
      {"limit_id", "1"},
  };
  std::string out;
  size_t i = 0;
  while (i < path.size()) {
    const size_t open = path.find('{', i);
    if (open == std::string_view::npos) {
      out.append(path.substr(i));
      break;
    }
    out.append(path.substr(i, open - i));
    const size_t close = path.find('}', open);
    const std::string_view name = path.substr(open + 1, close - open - 1);
    auto it = values.find(name);
    if (it == values.end()) {
      FAIL_CHECK("the api test world has no value for path parameter {" << std::string(name)
                                                                        << "} of " << path);
      return std::nullopt;
    }
    out += it->second;
    i = close + 1;
  }
  return out;
}

}  // namespace quayd::apitest
