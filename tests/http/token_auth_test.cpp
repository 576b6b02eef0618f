// Docker token authentication end to end over HTTP: the 401 challenge, the
// /v2/auth token endpoint (passwords, app tokens, robots, OAuth, anonymous),
// downscoping, push-to-create, bearer verification on every /v2 route, the
// failed-login back-off, token expiry and key rotation, audit rows, and the
// promise that no secret reaches a log line.
#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "auth/jwt.h"
#include "host/auth/auth_parsing.h"
#include "http_test_support.h"
#include "quay/audit.h"

using namespace quayd::testing;

namespace {

constexpr char kPassword[] = "S3cret-Pa55word!";

quay::Actor TestActor() {
  quay::Actor actor;
  actor.request_id = "test-setup";
  return actor;
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

httplib::Headers BasicAuth(std::string_view user, std::string_view password) {
  return {{"Authorization", "Basic " + Base64(std::string(user) + ":" + std::string(password))}};
}

httplib::Headers Bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

// GET /v2/auth with the given scopes; the response.
httplib::Result TokenRequest(httplib::Client& client, const std::vector<std::string>& scopes,
                             const httplib::Headers& headers = {}) {
  std::string path = "/v2/auth?service=test";
  for (const std::string& scope : scopes) path += "&scope=" + scope;
  return client.Get(path, headers);
}

std::string TokenOf(const httplib::Result& res) {
  REQUIRE(res);
  REQUIRE_MESSAGE(res->status == 200, res->body);
  rapidjson::Document doc;
  doc.Parse(res->body.c_str());
  REQUIRE(doc.IsObject());
  REQUIRE(doc.HasMember("token"));
  CHECK(doc["access_token"].GetString() == std::string(doc["token"].GetString()));
  CHECK(doc["expires_in"].GetInt64() > 0);
  CHECK(std::string(doc["issued_at"].GetString()).back() == 'Z');
  return doc["token"].GetString();
}

std::string GetToken(httplib::Client& client, const std::vector<std::string>& scopes,
                     const httplib::Headers& headers = {}) {
  return TokenOf(TokenRequest(client, scopes, headers));
}

// The claims part of a token, as JSON.
rapidjson::Document ClaimsOf(const std::string& token) {
  size_t a = token.find('.');
  size_t b = token.find('.', a + 1);
  auto json = quay::auth::Base64UrlDecode(token.substr(a + 1, b - a - 1));
  REQUIRE(json.ok());
  rapidjson::Document doc;
  doc.Parse(json->c_str());
  REQUIRE(doc.IsObject());
  return doc;
}

// The "kid" of a token's header.
std::string KidOf(const std::string& token) {
  auto json = quay::auth::Base64UrlDecode(token.substr(0, token.find('.')));
  REQUIRE(json.ok());
  rapidjson::Document doc;
  doc.Parse(json->c_str());
  REQUIRE(doc.IsObject());
  REQUIRE(doc.HasMember("kid"));
  return doc["kid"].GetString();
}

// The actions the token grants on `name` ("pull,push"), "-" when absent.
std::string ActionsIn(const std::string& token, std::string_view name) {
  rapidjson::Document claims = ClaimsOf(token);
  for (const auto& entry : claims["access"].GetArray()) {
    if (entry["name"].GetString() != name) continue;
    std::string out;
    for (const auto& action : entry["actions"].GetArray()) {
      if (!out.empty()) out += ',';
      out += action.GetString();
    }
    return out;
  }
  return "-";
}

struct AuthServer {
  explicit AuthServer(ServerOptions options = {}) : server(WithAuth(std::move(options))) {}
  static ServerOptions WithAuth(ServerOptions options) {
    options.token_auth = true;
    return options;
  }
  void AddUser(const std::string& name, const std::string& password = kPassword) {
    REQUIRE(server.identity().CreateUser(TestActor(), name, name + "@example.com", password).ok());
  }
  TestServer server;
};

int PushImage(httplib::Client& client, std::string_view repo, const std::string& token,
              std::string_view tag = "latest") {
  auto headers = Bearer(token);
  std::string config = "{\"architecture\":\"amd64\",\"os\":\"linux\"}";
  std::string layer = "layer of " + std::string(repo);
  for (const std::string* blob : {&config, &layer}) {
    auto res = client.Post("/v2/" + std::string(repo) + "/blobs/uploads/?digest=" + DigestOf(*blob),
                           headers, *blob, "application/octet-stream");
    if (!res) return 0;
    if (res->status != 201) return res->status;
  }
  std::string manifest =
      ImageManifest({DigestOf(config), config.size()}, {{DigestOf(layer), layer.size()}});
  auto res = client.Put("/v2/" + std::string(repo) + "/manifests/" + std::string(tag), headers,
                        manifest, std::string(kOciManifest));
  return res ? res->status : 0;
}

// User alice with an image pushed to alice/app:latest; her push+pull token.
std::string AliceWithImage(AuthServer& s, httplib::Client& client) {
  s.AddUser("alice");
  std::string token =
      GetToken(client, {"repository:alice/app:push,pull"}, BasicAuth("alice", kPassword));
  REQUIRE(PushImage(client, "alice/app", token) == 201);
  return token;
}

}  // namespace

TEST_CASE("token auth: /v2/ challenges anonymous clients and admits any valid token") {
  AuthServer s;
  s.AddUser("alice");
  auto client = s.server.Client();

  auto anonymous = client->Get("/v2/");
  REQUIRE(anonymous);
  CHECK(anonymous->status == 401);
  CHECK(ErrorCode(anonymous->body) == "UNAUTHORIZED");
  const std::string host = "127.0.0.1:" + std::to_string(s.server.port());
  CHECK(anonymous->get_header_value("WWW-Authenticate") ==
        "Bearer realm=\"http://" + host + "/v2/auth\",service=\"" + host + "\"");

  // docker/podman login: credentials and no scope give a token with no access.
  std::string token = GetToken(*client, {}, BasicAuth("alice", kPassword));
  rapidjson::Document claims = ClaimsOf(token);
  CHECK(std::string(claims["sub"].GetString()) == "alice");
  CHECK(std::string(claims["aud"].GetString()) == host);
  CHECK(std::string(claims["iss"].GetString()) == "quay");
  CHECK(claims["access"].GetArray().Size() == 0);
  CHECK(claims["exp"].GetInt64() - claims["iat"].GetInt64() == 3600);

  auto signed_in = client->Get("/v2/", Bearer(token));
  REQUIRE(signed_in);
  CHECK(signed_in->status == 200);
  auto head = client->Head("/v2/", Bearer(token));
  REQUIRE(head);
  CHECK(head->status == 200);
}

TEST_CASE("token auth: push creates a private repository; its owner pulls; others do not") {
  AuthServer s;
  s.AddUser("alice");
  s.AddUser("bob");
  auto client = s.server.Client();

  // Without a token, a push is challenged with the scope it needs.
  auto denied = client->Post("/v2/alice/app/blobs/uploads/", "", "application/octet-stream");
  REQUIRE(denied);
  CHECK(denied->status == 401);
  CHECK(denied->get_header_value("WWW-Authenticate")
            .find("scope=\"repository:alice/app:pull,push\"") != std::string::npos);

  std::string token =
      GetToken(*client, {"repository:alice/app:pull,push"}, BasicAuth("alice", kPassword));
  CHECK(ActionsIn(token, "alice/app") == "pull,push");
  // Push-to-create happened at token time, private by default.
  auto repo = s.server.identity().GetRepository("alice/app");
  REQUIRE(repo.ok());
  CHECK(repo->visibility == quay::Visibility::kPrivate);

  CHECK(PushImage(*client, "alice/app", token) == 201);
  auto pulled = client->Get("/v2/alice/app/manifests/latest", Bearer(token));
  REQUIRE(pulled);
  CHECK(pulled->status == 200);

  // Anonymous: challenged with the pull scope, and an anonymous token grants
  // nothing on a private repository.
  auto anonymous = client->Get("/v2/alice/app/manifests/latest");
  REQUIRE(anonymous);
  CHECK(anonymous->status == 401);
  CHECK(
      anonymous->get_header_value("WWW-Authenticate").find("scope=\"repository:alice/app:pull\"") !=
      std::string::npos);
  std::string anon_token = GetToken(*client, {"repository:alice/app:pull"});
  CHECK(ActionsIn(anon_token, "alice/app").empty());
  CHECK(std::string(ClaimsOf(anon_token)["sub"].GetString()) == "(anonymous)");
  auto with_anon = client->Get("/v2/alice/app/manifests/latest", Bearer(anon_token));
  REQUIRE(with_anon);
  CHECK(with_anon->status == 401);

  // A private repository and a missing one look the same to outsiders.
  std::string missing_token = GetToken(*client, {"repository:alice/nothing:pull"});
  CHECK(ActionsIn(missing_token, "alice/nothing").empty());

  // Bob may not push to alice's namespace: push is silently dropped.
  std::string bob =
      GetToken(*client, {"repository:alice/app:pull,push"}, BasicAuth("bob", kPassword));
  CHECK(ActionsIn(bob, "alice/app").empty());
  CHECK(PushImage(*client, "alice/app", bob) == 401);
  // ...and cannot create repositories there either.
  std::string bob_new =
      GetToken(*client, {"repository:alice/bobs:pull,push"}, BasicAuth("bob", kPassword));
  CHECK(ActionsIn(bob_new, "alice/bobs").empty());
  CHECK_FALSE(s.server.identity().GetRepository("alice/bobs").ok());

  // Public: anonymous pull works with and without a token; push still not.
  REQUIRE(
      s.server.identity().SetVisibility(TestActor(), "alice/app", quay::Visibility::kPublic).ok());
  auto public_pull = client->Get("/v2/alice/app/manifests/latest");
  REQUIRE(public_pull);
  CHECK(public_pull->status == 200);
  std::string public_token = GetToken(*client, {"repository:alice/app:pull,push"});
  CHECK(ActionsIn(public_token, "alice/app") == "pull");
  bob = GetToken(*client, {"repository:alice/app:pull,push"}, BasicAuth("bob", kPassword));
  CHECK(ActionsIn(bob, "alice/app") == "pull");
  CHECK(PushImage(*client, "alice/app", bob) == 401);
}

TEST_CASE("token auth: CREATE_NAMESPACE_ON_PUSH creates the pusher's organization") {
  for (bool enabled : {false, true}) {
    CAPTURE(enabled);
    ServerOptions options;
    options.identity.create_namespace_on_push = enabled;
    AuthServer s(options);
    s.AddUser("alice");
    auto& identity = s.server.identity();
    auto robot = identity.CreateRobot(TestActor(), "alice", "ci", "");
    REQUIRE(robot.ok());
    auto client = s.server.Client();

    // A robot never creates a namespace: its push is dropped either way.
    std::string robot_token = GetToken(*client, {"repository:robotorg/app:pull,push"},
                                       BasicAuth("alice+ci", robot->token));
    CHECK(ActionsIn(robot_token, "robotorg/app").empty());
    CHECK_FALSE(identity.GetOrganization("robotorg").ok());
    // Nor does an anonymous client.
    CHECK(
        ActionsIn(GetToken(*client, {"repository:anonorg/app:pull,push"}), "anonorg/app").empty());
    CHECK_FALSE(identity.GetOrganization("anonorg").ok());

    std::string token =
        GetToken(*client, {"repository:neworg/app:pull,push"}, BasicAuth("alice", kPassword));
    if (!enabled) {
      CHECK(ActionsIn(token, "neworg/app").empty());
      CHECK(PushImage(*client, "neworg/app", token) == 401);
      CHECK_FALSE(identity.GetOrganization("neworg").ok());
      continue;
    }
    CHECK(ActionsIn(token, "neworg/app") == "pull,push");
    CHECK(PushImage(*client, "neworg/app", token) == 201);
    REQUIRE(identity.GetOrganization("neworg").ok());
    CHECK(*identity.ListTeamMembers("neworg", "owners") == std::vector<std::string>{"alice"});
    auto repo = identity.GetRepository("neworg/app");
    REQUIRE(repo.ok());
    CHECK(repo->visibility == quay::Visibility::kPrivate);
    auto pulled = client->Get("/v2/neworg/app/manifests/latest", Bearer(token));
    REQUIRE(pulled);
    CHECK(pulled->status == 200);
    quay::AuditQuery q;
    q.namespace_name = "neworg";
    q.kinds = {"org_create"};
    auto rows = identity.audit().Query(q);
    REQUIRE(rows.ok());
    REQUIRE(rows->events.size() == 1);
    CHECK(rows->events[0].performer == "alice");
  }
}

TEST_CASE("token auth: a token covers only its own scopes") {
  AuthServer s;
  s.AddUser("alice");
  auto client = s.server.Client();
  std::string both =
      GetToken(*client, {"repository:alice/one:pull,push", "repository:alice/two:pull,push"},
               BasicAuth("alice", kPassword));
  CHECK(PushImage(*client, "alice/one", both) == 201);
  CHECK(PushImage(*client, "alice/two", both) == 201);

  // Space-separated scopes in one parameter work too.
  std::string spaced = GetToken(*client, {"repository:alice/one:pull%20repository:alice/two:pull"},
                                BasicAuth("alice", kPassword));
  CHECK(ActionsIn(spaced, "alice/one") == "pull");
  CHECK(ActionsIn(spaced, "alice/two") == "pull");

  std::string one = GetToken(*client, {"repository:alice/one:pull"}, BasicAuth("alice", kPassword));
  auto other = client->Get("/v2/alice/two/manifests/latest", Bearer(one));
  REQUIRE(other);
  CHECK(other->status == 401);
  CHECK(other->get_header_value("WWW-Authenticate").find("repository:alice/two:pull") !=
        std::string::npos);
  // Pull-only token: push challenged (the client asks again with push).
  CHECK(PushImage(*client, "alice/one", one) == 401);

  // Delete: "*" for a non-admin is downscoped to what the user has.
  std::string star = GetToken(*client, {"repository:alice/one:*"}, BasicAuth("alice", kPassword));
  CHECK(!ActionsIn(star, "alice/one").empty());
  auto del = client->Delete("/v2/alice/one/manifests/latest", Bearer(star));
  REQUIRE(del);
  CHECK(del->status == 202);
}

TEST_CASE("token auth: robots, app tokens and OAuth tokens log in") {
  AuthServer s;
  s.AddUser("alice");
  auto& identity = s.server.identity();
  auto client = s.server.Client();
  std::string owner =
      GetToken(*client, {"repository:alice/app:push,pull"}, BasicAuth("alice", kPassword));
  REQUIRE(PushImage(*client, "alice/app", owner) == 201);

  SUBCASE("robot with write permission") {
    auto robot = identity.CreateRobot(TestActor(), "alice", "ci", "");
    REQUIRE(robot.ok());
    std::string none =
        GetToken(*client, {"repository:alice/app:pull,push"}, BasicAuth("alice+ci", robot->token));
    CHECK(ActionsIn(none, "alice/app").empty());  // robots start with nothing
    REQUIRE(identity
                .SetPermission(TestActor(), "alice/app", quay::Grantee::Robot("alice+ci"),
                               quay::RepositoryRole::kWrite)
                .ok());
    std::string token =
        GetToken(*client, {"repository:alice/app:pull,push"}, BasicAuth("alice+ci", robot->token));
    CHECK(ActionsIn(token, "alice/app") == "pull,push");
    CHECK(std::string(ClaimsOf(token)["sub"].GetString()) == "alice+ci");
    CHECK(PushImage(*client, "alice/app", token, "from-robot") == 201);
    auto wrong =
        TokenRequest(*client, {"repository:alice/app:pull"}, BasicAuth("alice+ci", "nope"));
    REQUIRE(wrong);
    CHECK(wrong->status == 401);
  }
  SUBCASE("read-only robot: push dropped, pull works") {
    auto robot = identity.CreateRobot(TestActor(), "alice", "reader", "");
    REQUIRE(robot.ok());
    REQUIRE(identity
                .SetPermission(TestActor(), "alice/app", quay::Grantee::Robot("alice+reader"),
                               quay::RepositoryRole::kRead)
                .ok());
    std::string token = GetToken(*client, {"repository:alice/app:pull,push"},
                                 BasicAuth("alice+reader", robot->token));
    CHECK(ActionsIn(token, "alice/app") == "pull");
    CHECK(PushImage(*client, "alice/app", token, "nope") == 401);
    auto pull = client->Get("/v2/alice/app/manifests/latest", Bearer(token));
    REQUIRE(pull);
    CHECK(pull->status == 200);
  }
  SUBCASE("app-specific token, as the user's password and as $app") {
    auto app = identity.CreateAppToken(TestActor(), "alice", "laptop");
    REQUIRE(app.ok());
    for (const char* user : {"alice", "$app"}) {
      CAPTURE(user);
      std::string token =
          GetToken(*client, {"repository:alice/app:pull,push"}, BasicAuth(user, app->secret));
      CHECK(ActionsIn(token, "alice/app") == "pull,push");
      CHECK(std::string(ClaimsOf(token)["sub"].GetString()) == "alice");
      CHECK(PushImage(*client, "alice/app", token, "from-app-token") == 201);
    }
  }
  SUBCASE("OAuth token: its scopes clamp the user's rights") {
    auto oauth = identity.IssueOAuthToken(TestActor(), "alice", "ci-app", {quay::Scope::kRepoRead});
    REQUIRE(oauth.ok());
    std::string token = GetToken(*client, {"repository:alice/app:pull,push"},
                                 BasicAuth("$oauthtoken", oauth->secret));
    CHECK(ActionsIn(token, "alice/app") == "pull");
    CHECK(PushImage(*client, "alice/app", token, "nope") == 401);
    auto pull = client->Get("/v2/alice/app/manifests/latest", Bearer(token));
    REQUIRE(pull);
    CHECK(pull->status == 200);
  }
}

TEST_CASE("token auth: bad credentials and bad input answer 400/401, never 500") {
  AuthServer s;
  s.AddUser("alice");
  auto client = s.server.Client();

  auto expect = [&](const httplib::Result& res, int status, const char* code) {
    REQUIRE(res);
    CHECK(res->status == status);
    CHECK(ErrorCode(res->body) == code);
  };
  expect(TokenRequest(*client, {"repository:alice/app:pull"}, BasicAuth("alice", "wrong")), 401,
         "UNAUTHORIZED");
  expect(TokenRequest(*client, {"repository:alice/app:pull"}, BasicAuth("nobody", "wrong")), 401,
         "UNAUTHORIZED");
  expect(TokenRequest(*client, {}), 401, "UNAUTHORIZED");  // no credentials, no scope
  for (const char* header :
       {"Basic", "Basic !!!", "Basic " /* empty */, "Basic bm9jb2xvbg==", "Bearer", "Bearer a b"}) {
    CAPTURE(header);
    expect(TokenRequest(*client, {"repository:alice/app:pull"}, {{"Authorization", header}}), 401,
           "UNAUTHORIZED");
  }
  for (const char* scope :
       {"repository:alice/app", "repository:alice/app:", "repository:alice/app:steal",
        "repository:Alice/App:pull", "repository::pull", "user:alice:pull", "registry:catalog:pull",
        "repository:alice/app:pull,,push", "repository:../etc:pull"}) {
    CAPTURE(scope);
    expect(TokenRequest(*client, {scope}, BasicAuth("alice", kPassword)), 400, "INVALID_REQUEST");
  }
  // The catalog scope is understood.
  std::string catalog = GetToken(*client, {"registry:catalog:*"}, BasicAuth("alice", kPassword));
  CHECK(ActionsIn(catalog, "catalog") == "*");
  // A scope naming the service host in front of the repository.
  const std::string host = "127.0.0.1:" + std::to_string(s.server.port());
  std::string prefixed = GetToken(*client, {"repository:" + host + "/alice/app:pull,push"},
                                  BasicAuth("alice", kPassword));
  CHECK(ActionsIn(prefixed, host + "/alice/app") == "pull,push");
  CHECK(PushImage(*client, "alice/app", prefixed) == 201);

  // Bearer problems on /v2 routes.
  std::string good =
      GetToken(*client, {"repository:alice/app:pull"}, BasicAuth("alice", kPassword));
  std::string tampered = good;
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  for (const std::string& header :
       {std::string("Bearer"), std::string("Bearer not-a-jwt"), std::string("Bearer a.b.c"),
        std::string("Bearer ") + tampered, std::string("Bearer ") + good + "x",
        std::string("Basic ") + Base64("alice:") + "x"}) {
    CAPTURE(header);
    auto res = client->Get("/v2/alice/app/manifests/latest", {{"Authorization", header}});
    REQUIRE(res);
    CHECK(res->status == 401);
    CHECK(ErrorCode(res->body) == "UNAUTHORIZED");
    CHECK(res->get_header_value("WWW-Authenticate").rfind("Bearer realm=", 0) == 0);
  }
  // Control characters make the header field itself malformed: the HTTP
  // layer refuses the request before authentication looks at it.
  auto control =
      client->Get("/v2/alice/app/manifests/latest", {{"Authorization", "Bearer \x01\x02"}});
  REQUIRE(control);
  CHECK(control->status == 400);
  // Basic credentials are not accepted on /v2 routes (Quay): challenged.
  auto basic = client->Get("/v2/alice/app/manifests/latest", BasicAuth("alice", kPassword));
  REQUIRE(basic);
  CHECK(basic->status == 401);

  // A token issued for another service name is refused.
  httplib::Headers other_host = BasicAuth("alice", kPassword);
  other_host.emplace("Host", "registry.other.example");
  std::string foreign = GetToken(*client, {"repository:alice/app:pull"}, other_host);
  CHECK(std::string(ClaimsOf(foreign)["aud"].GetString()) == "registry.other.example");
  auto res = client->Get("/v2/alice/app/manifests/latest", Bearer(foreign));
  REQUIRE(res);
  CHECK(res->status == 401);
  CHECK(StillServes(s.server.port()));
}

TEST_CASE("token auth: failed logins back off per user and address (429, Retry-After)") {
  auto clock = std::make_shared<quay::ManualClock>();
  ServerOptions options;
  options.clock = clock;
  options.auth.login_throttle.max_failures = 3;
  options.auth.login_throttle.initial_delay = std::chrono::seconds(10);
  AuthServer s(options);
  s.AddUser("alice");
  s.AddUser("bob");
  auto client = s.server.Client();
  auto attempt = [&](const char* user, const char* password) {
    auto res = TokenRequest(*client, {"repository:alice/app:pull"}, BasicAuth(user, password));
    REQUIRE(res);
    return res;
  };
  for (int i = 0; i < 3; ++i) CHECK(attempt("alice", "wrong")->status == 401);
  auto blocked = attempt("alice", kPassword);  // even the right password waits
  CHECK(blocked->status == 429);
  CHECK(blocked->get_header_value("Retry-After") == "10");
  CHECK(ErrorCode(blocked->body) == "TOOMANYREQUESTS");
  // Another user from the same address is not affected.
  CHECK(attempt("bob", kPassword)->status == 200);

  clock->Advance(std::chrono::seconds(4));
  CHECK(attempt("alice", kPassword)->get_header_value("Retry-After") == "6");
  clock->Advance(std::chrono::seconds(6));
  // One more failure doubles the delay.
  CHECK(attempt("alice", "wrong")->status == 401);
  CHECK(attempt("alice", kPassword)->get_header_value("Retry-After") == "20");
  clock->Advance(std::chrono::seconds(20));
  CHECK(attempt("alice", kPassword)->status == 200);  // success forgets the failures
  CHECK(attempt("alice", "wrong")->status == 401);
  auto after = attempt("alice", kPassword);
  CHECK(after->status == 200);
  CHECK(after->get_header_value("Retry-After") == "");
}

// Issue 11: made-up names (robot-shaped "org+name" ones fail without a
// password hash, so they are the cheapest to send) must not fill the back-off
// table so that a real user's failures stop counting. With an account table
// of 64 keys, 1,000 made-up names before the victim's first wrong password
// and 200 more between the next ones: the 6th attempt (even with the right
// password) is 429 with Retry-After, and /api/v1/signin, sharing the one
// throttle, refuses it too.
TEST_CASE("token auth: a flood of made-up names cannot save a victim from the back-off") {
  auto clock = std::make_shared<quay::ManualClock>();
  ServerOptions options;
  options.clock = clock;
  options.auth.login_throttle.max_failures = 5;
  options.auth.login_throttle.initial_delay = std::chrono::seconds(10);
  options.auth.login_throttle.max_entries = 64;
  AuthServer s(options);
  s.AddUser("alice");
  auto client = s.server.Client();
  auto attempt = [&](const std::string& user, const char* password) {
    auto res = TokenRequest(*client, {"repository:alice/app:pull"}, BasicAuth(user, password));
    REQUIRE(res);
    return res;
  };
  int next = 0;
  auto flood = [&](int n) {
    for (int i = 0; i < n; ++i, ++next) {
      const std::string name =
          next % 4 == 0 ? "ghost" + std::to_string(next)
                        : "org" + std::to_string(next % 13) + "+bot" + std::to_string(next);
      REQUIRE(attempt(name, "guess")->status == 401);
    }
  };
  flood(1000);
  for (int i = 1; i <= 5; ++i) {
    REQUIRE(attempt("alice", "wrong")->status == 401);
    clock->Advance(std::chrono::seconds(1));
    if (i < 5) flood(200);
  }
  auto sixth = attempt("alice", kPassword);
  CHECK(sixth->status == 429);
  CHECK(sixth->get_header_value("Retry-After") == "9");
  CHECK(ErrorCode(sixth->body) == "TOOMANYREQUESTS");
  auto signin = client->Post("/api/v1/signin",
                             R"({"username":"alice","password":")" + std::string(kPassword) + "\"}",
                             "application/json");
  REQUIRE(signin);
  CHECK(signin->status == 429);
  CHECK(signin->get_header_value("Retry-After") == "9");
  const quay::LoginThrottleSize size = s.server.auth().throttle().size();
  CHECK(size.accounts == 1);
  CHECK(size.unknown <= options.auth.login_throttle.max_unknown_entries);
}

TEST_CASE("token auth: expired tokens and rotated keys") {
  auto clock = std::make_shared<quay::ManualClock>();
  ServerOptions options;
  options.clock = clock;
  options.auth.keys.token_lifetime = std::chrono::seconds(600);
  options.auth.keys.rotation = std::chrono::hours(24);
  AuthServer s(options);
  s.AddUser("alice");
  auto client = s.server.Client();
  std::string token =
      GetToken(*client, {"repository:alice/app:pull,push"}, BasicAuth("alice", kPassword));
  CHECK(ClaimsOf(token)["exp"].GetInt64() - ClaimsOf(token)["iat"].GetInt64() == 600);
  REQUIRE(PushImage(*client, "alice/app", token) == 201);
  const std::string old_kid = s.server.auth().keys().signer()->kid();

  // Past the rotation period: a new key signs, the old one still verifies.
  clock->Advance(std::chrono::hours(24));
  std::string fresh =
      GetToken(*client, {"repository:alice/app:pull"}, BasicAuth("alice", kPassword));
  REQUIRE(s.server.auth().keys().Maintain().ok());
  CHECK(s.server.auth().keys().signer()->kid() != old_kid);
  auto old_key_token = client->Get("/v2/alice/app/manifests/latest", Bearer(fresh));
  REQUIRE(old_key_token);
  CHECK(old_key_token->status == 200);
  std::string rotated =
      GetToken(*client, {"repository:alice/app:pull"}, BasicAuth("alice", kPassword));
  auto res = client->Get("/v2/alice/app/manifests/latest", Bearer(rotated));
  REQUIRE(res);
  CHECK(res->status == 200);

  // Leeway is 30 s past exp; then 401 and the client must log in again.
  clock->Advance(std::chrono::seconds(600 + 29));
  res = client->Get("/v2/alice/app/manifests/latest", Bearer(rotated));
  REQUIRE(res);
  CHECK(res->status == 200);
  clock->Advance(std::chrono::seconds(1));
  res = client->Get("/v2/alice/app/manifests/latest", Bearer(rotated));
  REQUIRE(res);
  CHECK(res->status == 401);

  // Once the retired key's verification window is over it is deleted.
  clock->Advance(std::chrono::hours(1));
  REQUIRE(s.server.auth().keys().Maintain().ok());
  CHECK(s.server.auth().keys().Lookup(old_kid) == nullptr);
}

TEST_CASE("token auth: a revoked permission stops a token that still claims it") {
  AuthServer s;
  s.AddUser("alice");
  s.AddUser("bob");
  auto& identity = s.server.identity();
  auto client = s.server.Client();
  std::string owner =
      GetToken(*client, {"repository:alice/app:push,pull"}, BasicAuth("alice", kPassword));
  REQUIRE(PushImage(*client, "alice/app", owner) == 201);
  REQUIRE(identity
              .SetPermission(TestActor(), "alice/app", quay::Grantee::User("bob"),
                             quay::RepositoryRole::kRead)
              .ok());
  std::string bob = GetToken(*client, {"repository:alice/app:pull"}, BasicAuth("bob", kPassword));
  auto res = client->Get("/v2/alice/app/manifests/latest", Bearer(bob));
  REQUIRE(res);
  CHECK(res->status == 200);
  REQUIRE(identity.RemovePermission(TestActor(), "alice/app", quay::Grantee::User("bob")).ok());
  res = client->Get("/v2/alice/app/manifests/latest", Bearer(bob));
  REQUIRE(res);
  CHECK((res->status == 401 || res->status == 403));
}

TEST_CASE("token auth: two instances on one database verify each other's tokens") {
  TempDir dir;
  ServerOptions options;
  options.data_dir = dir.path();
  options.auth.server_hostname = "registry.example";
  AuthServer a(options);
  a.AddUser("alice");
  AuthServer b(options);
  auto ca = a.server.Client();
  auto cb = b.server.Client();
  std::string token =
      GetToken(*ca, {"repository:alice/app:pull,push"}, BasicAuth("alice", kPassword));
  CHECK(std::string(ClaimsOf(token)["aud"].GetString()) == "registry.example");
  CHECK(PushImage(*cb, "alice/app", token) == 201);
  // B signs with the key A stored (its private half decrypted with the
  // folder's database secret), and A verifies what B issued.
  std::string from_b = GetToken(*cb, {"repository:alice/app:pull"}, BasicAuth("alice", kPassword));
  CHECK(KidOf(from_b) == KidOf(token));
  auto pulled = ca->Get("/v2/alice/app/manifests/latest", Bearer(from_b));
  REQUIRE(pulled);
  CHECK(pulled->status == 200);
  CHECK(std::filesystem::exists(dir.path() + "/database_secret_key"));
  auto challenge = cb->Get("/v2/");
  REQUIRE(challenge);
  CHECK(challenge->get_header_value("WWW-Authenticate") ==
        "Bearer realm=\"http://registry.example/v2/auth\",service=\"registry.example\"");
}

TEST_CASE("token auth: anonymous access can be switched off") {
  ServerOptions options;
  options.identity.anonymous_access = false;
  AuthServer s(options);
  s.AddUser("alice");
  auto client = s.server.Client();
  std::string owner =
      GetToken(*client, {"repository:alice/app:push,pull"}, BasicAuth("alice", kPassword));
  REQUIRE(PushImage(*client, "alice/app", owner) == 201);
  REQUIRE(
      s.server.identity().SetVisibility(TestActor(), "alice/app", quay::Visibility::kPublic).ok());
  auto res = TokenRequest(*client, {"repository:alice/app:pull"});
  REQUIRE(res);
  CHECK(res->status == 401);
  auto pull = client->Get("/v2/alice/app/manifests/latest");
  REQUIRE(pull);
  CHECK(pull->status == 401);
}

TEST_CASE("token auth: the catalog lists what the caller may pull") {
  AuthServer s;
  s.AddUser("alice");
  s.AddUser("bob");
  auto client = s.server.Client();
  std::string alice =
      GetToken(*client, {"repository:alice/private:push,pull", "repository:alice/shared:push,pull"},
               BasicAuth("alice", kPassword));
  REQUIRE(PushImage(*client, "alice/private", alice) == 201);
  REQUIRE(PushImage(*client, "alice/shared", alice) == 201);
  REQUIRE(s.server.identity()
              .SetVisibility(TestActor(), "alice/shared", quay::Visibility::kPublic)
              .ok());

  auto list = [&](const std::string& token) {
    auto res = client->Get("/v2/_catalog", Bearer(token));
    REQUIRE(res);
    REQUIRE(res->status == 200);
    return res->body;
  };
  CHECK(list(alice) == "{\"repositories\":[\"alice/private\",\"alice/shared\"]}");
  std::string bob = GetToken(*client, {}, BasicAuth("bob", kPassword));
  CHECK(list(bob) == "{\"repositories\":[\"alice/shared\"]}");
}

TEST_CASE("token auth: pulls and pushes are audited with actor, address and request id") {
  for (bool pull_audit : {true, false}) {
    CAPTURE(pull_audit);
    ServerOptions options;
    options.auth.pull_audit = pull_audit;
    AuthServer s(options);
    auto client = s.server.Client();
    const std::string token = AliceWithImage(s, *client);
    httplib::Headers headers = Bearer(token);
    headers.emplace("X-Request-Id", "pull-audit-1");
    auto pull = client->Get("/v2/alice/app/manifests/latest", headers);
    REQUIRE(pull);
    REQUIRE(pull->status == 200);
    auto head = client->Head("/v2/alice/app/manifests/latest", Bearer(token));
    REQUIRE(head);
    REQUIRE(s.server.auth().FlushAudit().ok());

    quay::AuditQuery query;
    query.repository = "alice/app";
    query.kinds = {"push_repo", "pull_repo"};
    auto page = s.server.identity().audit().Query(query);
    REQUIRE(page.ok());
    size_t pulls = 0, pushes = 0;
    for (const quay::AuditEvent& e : page->events) {
      CHECK(e.performer == "alice");
      CHECK(e.ip == "127.0.0.1");
      CHECK(e.namespace_name == "alice");
      CHECK(e.metadata.find("\"tag\":\"latest\"") != std::string::npos);
      CHECK(e.metadata.find("\"repo\":\"app\"") != std::string::npos);
      CHECK(e.metadata.find("\"namespace\":\"alice\"") != std::string::npos);
      CHECK(e.metadata.find("\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"") !=
            std::string::npos);
      if (e.kind == "pull_repo") {
        ++pulls;
        CHECK(e.request_id == "pull-audit-1");
      } else {
        ++pushes;
      }
    }
    CHECK(pushes == 1);
    CHECK(pulls == (pull_audit ? 1u : 0u));  // GET only; HEAD is not a pull

    // The login: login_success for alice (failures are opt-in).
    TokenRequest(*client, {"repository:alice/app:pull"}, BasicAuth("alice", "wrong"));
    REQUIRE(s.server.auth().FlushAudit().ok());
    quay::AuditQuery logins;
    logins.kinds = {"login_success", "login_failure"};
    auto login_page = s.server.identity().audit().Query(logins);
    REQUIRE(login_page.ok());
    REQUIRE(login_page->events.size() == 1);
    CHECK(login_page->events[0].kind == "login_success");
    CHECK(login_page->events[0].performer == "alice");
    CHECK(login_page->events[0].namespace_name == "alice");
    CHECK(login_page->events[0].metadata.find("\"type\":\"v2auth\"") != std::string::npos);
  }
}

TEST_CASE("token auth: no password, token or Authorization header reaches a log line") {
  AuthServer s;
  s.AddUser("alice");
  auto client = s.server.Client();
  auto app = s.server.identity().CreateAppToken(TestActor(), "alice", "laptop");
  REQUIRE(app.ok());
  auto robot = s.server.identity().CreateRobot(TestActor(), "alice", "ci", "");
  REQUIRE(robot.ok());

  std::string token =
      GetToken(*client, {"repository:alice/app:push,pull"}, BasicAuth("alice", kPassword));
  REQUIRE(PushImage(*client, "alice/app", token) == 201);
  std::string app_token =
      GetToken(*client, {"repository:alice/app:pull"}, BasicAuth("$app", app->secret));
  std::string robot_token =
      GetToken(*client, {"repository:alice/app:pull"}, BasicAuth("alice+ci", robot->token));
  // Failures log too; they must not log what was tried.
  for (int i = 0; i < 6; ++i) {
    TokenRequest(*client, {"repository:alice/app:pull"},
                 BasicAuth("alice", "Wr0ng-Guess-" + std::to_string(i)));
  }
  client->Get("/v2/alice/app/manifests/latest", Bearer(token + "tampered"));
  client->Get("/v2/alice/app/manifests/latest?token=query-secret-123", Bearer(token));
  REQUIRE(s.server.auth().FlushAudit().ok());
  s.server.logs().WaitFind({"msg=request", "status=200", "route=manifest.get"});

  const std::string logs = s.server.logs().all();
  REQUIRE_FALSE(logs.empty());
  CHECK(logs.find(kPassword) == std::string::npos);
  CHECK(logs.find("Wr0ng-Guess") == std::string::npos);
  CHECK(logs.find(app->secret) == std::string::npos);
  CHECK(logs.find(robot->token) == std::string::npos);
  CHECK(logs.find("query-secret-123") == std::string::npos);
  for (const std::string& t : {token, app_token, robot_token}) {
    CHECK(logs.find(t) == std::string::npos);
    CHECK(logs.find(t.substr(t.rfind('.') + 1)) == std::string::npos);  // the signature alone
  }
  CHECK(logs.find(Base64(std::string("alice:") + kPassword)) == std::string::npos);
  CHECK(logs.find("Authorization") == std::string::npos);
  CHECK(logs.find("Basic ") == std::string::npos);
  CHECK(logs.find("Bearer ") == std::string::npos);
  // The login failures were logged, without the guesses.
  CHECK_FALSE(s.server.logs().Find({"msg=\"login failed\""}).empty());
}

// Behind a trusted reverse proxy the audit rows and the login back-off use
// the client address from X-Forwarded-For; from anyone else the header is
// ignored (it would let a client pick its own address).
TEST_CASE("token auth: X-Forwarded-For from a trusted proxy names the client") {
  for (bool trusted : {true, false}) {
    CAPTURE(trusted);
    ServerOptions options;
    if (trusted) options.limits.trusted_proxies = {"127.0.0.1"};
    options.auth.login_throttle.max_failures = 2;
    AuthServer s(options);
    auto client = s.server.Client();
    const std::string token = AliceWithImage(s, *client);
    httplib::Headers headers = Bearer(token);
    headers.emplace("X-Forwarded-For", "198.51.100.7, 203.0.113.5");
    auto pull = client->Get("/v2/alice/app/manifests/latest", headers);
    REQUIRE(pull);
    REQUIRE(pull->status == 200);
    REQUIRE(s.server.auth().FlushAudit().ok());
    quay::AuditQuery query;
    query.kinds = {"pull_repo"};
    auto page = s.server.identity().audit().Query(query);
    REQUIRE(page.ok());
    REQUIRE(page->events.size() == 1);
    CHECK(page->events[0].ip == (trusted ? "203.0.113.5" : "127.0.0.1"));

    // Failures from one forwarded address do not block another one, when
    // the proxy is trusted; untrusted, both are the peer and share a count.
    auto login = [&](const char* address, const char* password) {
      httplib::Headers h = BasicAuth("alice", password);
      h.emplace("X-Forwarded-For", address);
      auto res = TokenRequest(*client, {"repository:alice/app:pull"}, h);
      REQUIRE(res);
      return res->status;
    };
    CHECK(login("203.0.113.5", "wrong") == 401);
    CHECK(login("203.0.113.5", "wrong") == 401);
    CHECK(login("203.0.113.5", kPassword) == 429);
    CHECK(login("203.0.113.6", kPassword) == (trusted ? 200 : 429));
  }
}

// Issue 11: a registry token names its account by the account's uuid
// (context.entity_reference), and every request asks the library whether
// that account - and the app-specific token it came from - is still current.
TEST_CASE("token auth: a deleted user's token does not serve the user re-created under its name") {
  AuthServer s;
  auto& identity = s.server.identity();
  auto client = s.server.Client();
  const std::string old_token = AliceWithImage(s, *client);
  CHECK(std::string(ClaimsOf(old_token)["context"]["entity_reference"].GetString()).size() == 32);
  auto res = client->Get("/v2/alice/app/manifests/latest", Bearer(old_token));
  REQUIRE(res);
  REQUIRE(res->status == 200);  // verified and cached

  // The user goes and a new alice takes the name and the repository.
  REQUIRE(identity.DeleteUser(TestActor(), "alice").ok());
  REQUIRE(s.server.registry().DeleteRepository("alice/app").ok());
  s.AddUser("alice", "An0ther-Pa55word!");
  std::string new_token = GetToken(*client, {"repository:alice/app:push,pull"},
                                   BasicAuth("alice", "An0ther-Pa55word!"));
  REQUIRE(PushImage(*client, "alice/app", new_token) == 201);

  res = client->Get("/v2/alice/app/manifests/latest", Bearer(old_token));
  REQUIRE(res);
  CHECK(res->status == 401);
  CHECK(ErrorCode(res->body) == "UNAUTHORIZED");
  res = client->Get("/v2/", Bearer(old_token));
  REQUIRE(res);
  CHECK(res->status == 401);
  res = client->Get("/v2/alice/app/manifests/latest", Bearer(new_token));
  REQUIRE(res);
  CHECK(res->status == 200);
}

TEST_CASE("token auth: a deleted robot's token does not serve the robot re-created as ns+ci") {
  AuthServer s;
  auto& identity = s.server.identity();
  auto client = s.server.Client();
  AliceWithImage(s, *client);
  auto robot = identity.CreateRobot(TestActor(), "alice", "ci", "");
  REQUIRE(robot.ok());
  REQUIRE(identity
              .SetPermission(TestActor(), "alice/app", quay::Grantee::Robot("alice+ci"),
                             quay::RepositoryRole::kRead)
              .ok());
  const std::string old_token =
      GetToken(*client, {"repository:alice/app:pull"}, BasicAuth("alice+ci", robot->token));
  auto res = client->Get("/v2/alice/app/manifests/latest", Bearer(old_token));
  REQUIRE(res);
  REQUIRE(res->status == 200);

  REQUIRE(identity.DeleteRobot(TestActor(), "alice+ci").ok());
  auto again = identity.CreateRobot(TestActor(), "alice", "ci", "");
  REQUIRE(again.ok());
  REQUIRE(identity
              .SetPermission(TestActor(), "alice/app", quay::Grantee::Robot("alice+ci"),
                             quay::RepositoryRole::kRead)
              .ok());
  res = client->Get("/v2/alice/app/manifests/latest", Bearer(old_token));
  REQUIRE(res);
  CHECK(res->status == 401);
  std::string new_token =
      GetToken(*client, {"repository:alice/app:pull"}, BasicAuth("alice+ci", again->token));
  res = client->Get("/v2/alice/app/manifests/latest", Bearer(new_token));
  REQUIRE(res);
  CHECK(res->status == 200);
}

TEST_CASE("token auth: revoking an app-specific token stops its registry tokens at once") {
  AuthServer s;
  auto& identity = s.server.identity();
  auto client = s.server.Client();
  AliceWithImage(s, *client);
  auto app = identity.CreateAppToken(TestActor(), "alice", "laptop");
  REQUIRE(app.ok());
  const std::string token =
      GetToken(*client, {"repository:alice/app:pull"}, BasicAuth("$app", app->secret));
  CHECK(std::string(ClaimsOf(token)["context"]["token_id"].GetString()) == app->token.id);
  auto res = client->Get("/v2/alice/app/manifests/latest", Bearer(token));
  REQUIRE(res);
  REQUIRE(res->status == 200);

  REQUIRE(identity.RevokeAppToken(TestActor(), "alice", app->token.id).ok());
  res = client->Get("/v2/alice/app/manifests/latest", Bearer(token));
  REQUIRE(res);
  CHECK(res->status == 401);
  // alice's own password token is untouched.
  std::string own = GetToken(*client, {"repository:alice/app:pull"}, BasicAuth("alice", kPassword));
  res = client->Get("/v2/alice/app/manifests/latest", Bearer(own));
  REQUIRE(res);
  CHECK(res->status == 200);
}

TEST_CASE("token auth: a token without entity_reference (issued before v9) is refused") {
  AuthServer s;
  auto client = s.server.Client();
  AliceWithImage(s, *client);
  const std::string host = "127.0.0.1:" + std::to_string(s.server.port());
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  quay::auth::JwtClaims claims;
  claims.issuer = "quay";
  claims.subject = "alice";
  claims.audience = host;
  claims.issued_at = now;
  claims.not_before = now;
  claims.expires_at = now + 600;
  claims.context = {{"kind", "user"}};
  claims.access.push_back({"repository", "alice/app", {"pull"}});
  auto legacy = s.server.auth().keys().signer()->Sign(claims);
  REQUIRE(legacy.ok());
  auto res = client->Get("/v2/alice/app/manifests/latest", Bearer(*legacy));
  REQUIRE(res);
  CHECK(res->status == 401);
  // The same claims with her entity_reference are served: only the
  // missing claim was refused.
  claims.context["entity_reference"] = std::string(
      ClaimsOf(GetToken(*client, {}, BasicAuth("alice", kPassword)))["context"]["entity_reference"]
          .GetString());
  auto current = s.server.auth().keys().signer()->Sign(claims);
  REQUIRE(current.ok());
  res = client->Get("/v2/alice/app/manifests/latest", Bearer(*current));
  REQUIRE(res);
  CHECK(res->status == 200);
}
