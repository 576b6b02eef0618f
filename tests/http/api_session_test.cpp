// Session logins on /api/v1 (reference/quay-api.md 1.2): POST /signin sets a
// signed HttpOnly SameSite cookie and hands out the CSRF token; writes
// authenticated by the cookie need X-CSRF-Token; an altered cookie counts
// for nothing; signout clears the cookie; a wrong password sets none; fresh
// login windows apply to session logins only.
#include <doctest/doctest.h>

#include "api_fixture.h"

using namespace quayd::apitest;

namespace {

// "quay_session=VALUE" from a Set-Cookie header.
std::string CookiePair(const std::string& set_cookie) {
  return set_cookie.substr(0, set_cookie.find(';'));
}

struct Login {
  std::string cookie;  // "quay_session=..."
  std::string csrf;
};

Login SignIn(ApiServer& s, const std::string& user) {
  const Reply r = s.Call("POST", "/api/v1/signin",
                         R"({"username":")" + user + R"(","password":")" + kPassword + "\"}");
  INFO(r);
  REQUIRE(r.status == 200);
  const std::string set_cookie = r.Header("Set-Cookie");
  REQUIRE(set_cookie.starts_with("quay_session="));
  return {CookiePair(set_cookie), r.Header("X-Next-CSRF-Token")};
}

httplib::Headers WithCookie(const Login& l, bool csrf = false) {
  httplib::Headers h{{"Cookie", l.cookie}};
  if (csrf) h.emplace("X-CSRF-Token", l.csrf);
  return h;
}

}  // namespace

TEST_CASE("api sessions: signin sets an HttpOnly SameSite cookie and the CSRF token") {
  ApiServer s;
  const Reply r = s.Call("POST", "/api/v1/signin",
                         R"({"username":"bob","password":")" + std::string(kPassword) + "\"}");
  REQUIRE(r.status == 200);
  CHECK(r.json["success"].IsTrue());
  const std::string set_cookie = r.Header("Set-Cookie");
  INFO(set_cookie);
  CHECK(set_cookie.starts_with("quay_session="));
  CHECK(set_cookie.find("HttpOnly") != std::string::npos);
  CHECK(set_cookie.find("SameSite=") != std::string::npos);
  CHECK(set_cookie.find("Path=/") != std::string::npos);
  CHECK(!r.Header("X-Next-CSRF-Token").empty());
  // No secret in the cookie text.
  CHECK(set_cookie.find(kPassword) == std::string::npos);

  const Login login{CookiePair(set_cookie), r.Header("X-Next-CSRF-Token")};
  const Reply me = s.Call("GET", "/api/v1/user/", "", WithCookie(login));
  CHECK(me.Str("username") == "bob");
  // GET /csrf_token answers the session's token.
  const Reply csrf = s.Call("GET", "/csrf_token", "", WithCookie(login));
  REQUIRE(csrf.status == 200);
  CHECK(csrf.Str("csrf_token") == login.csrf);
}

TEST_CASE("api sessions: cookie-authenticated writes need the CSRF token") {
  ApiServer s;
  const Login login = SignIn(s, "bob");
  const Reply without = s.Call("PUT", "/api/v1/user/robots/viacookie", "{}", WithCookie(login));
  INFO(without);
  CHECK(without.status == 403);
  CHECK(without.Str("error_type") == "insufficient_scope");
  httplib::Headers wrong = WithCookie(login);
  wrong.emplace("X-CSRF-Token", login.csrf + "x");
  CHECK(s.Call("PUT", "/api/v1/user/robots/viacookie", "{}", wrong).status == 403);
  CHECK(!s.id().GetRobot("bob+viacookie").ok());

  const Reply with = s.Call("PUT", "/api/v1/user/robots/viacookie", "{}", WithCookie(login, true));
  INFO(with);
  CHECK(with.status == 201);
  CHECK(s.id().GetRobot("bob+viacookie").ok());
  // The form field works too, and reads need no token.
  CHECK(s.Call("DELETE", "/api/v1/user/robots/viacookie?_csrf_token=" + login.csrf, "",
               WithCookie(login))
            .status == 204);
  CHECK(s.Call("GET", "/api/v1/user/robots", "", WithCookie(login)).status == 200);
  // A bearer token needs no CSRF token.
  CHECK(s.As(s.Token("bob"), "PUT", "/api/v1/user/robots/viatoken", "{}").status == 201);
}

TEST_CASE("api sessions: a forged or altered cookie is anonymous") {
  ApiServer s;
  const Login login = SignIn(s, "bob");
  std::string altered = login.cookie;
  const size_t i = altered.size() - 5;
  altered[i] = altered[i] == 'A' ? 'B' : 'A';
  for (const std::string& cookie : {altered, std::string("quay_session=bob"),
                                    login.cookie.substr(0, login.cookie.size() - 8)}) {
    INFO(cookie);
    const Reply me = s.Call("GET", "/api/v1/user/", "", {{"Cookie", cookie}});
    CHECK(me.status == 200);
    CHECK(me.json["anonymous"].IsTrue());
    CHECK(s.Call("GET", "/api/v1/user/robots", "", {{"Cookie", cookie}}).status == 401);
  }
  // A cookie signed by another server's key is anonymous there.
  ApiServer other;
  CHECK(other.Call("GET", "/api/v1/user/robots", "", WithCookie(login)).status == 401);
}

TEST_CASE("api sessions: signout clears the cookie; a wrong password is 403 without one") {
  ApiServer s;
  const Login login = SignIn(s, "bob");
  const Reply out = s.Call("POST", "/api/v1/signout", "", WithCookie(login, true));
  INFO(out);
  CHECK(out.status == 200);
  const std::string cleared = out.Header("Set-Cookie");
  CHECK(cleared.starts_with("quay_session=;"));
  CHECK(cleared.find("Max-Age=0") != std::string::npos);

  const Reply wrong =
      s.Call("POST", "/api/v1/signin", R"({"username":"bob","password":"not-the-password"})");
  CHECK(wrong.status == 403);
  CHECK(wrong.Header("Set-Cookie").empty());
  CHECK(wrong.Header("X-Next-CSRF-Token").empty());
  const Reply nobody =
      s.Call("POST", "/api/v1/signin", R"({"username":"nobody","password":"not-the-password"})");
  CHECK(nobody.status == 403);
  CHECK(nobody.Header("Set-Cookie").empty());
  CHECK(s.Call("POST", "/api/v1/signin", R"({"username":"bob"})").status == 400);
}

TEST_CASE("api sessions: an anonymous /csrf_token session, and createNewUser signs in") {
  ApiServer s;
  const Reply csrf = s.Call("GET", "/csrf_token");
  REQUIRE(csrf.status == 200);
  CHECK(!csrf.Str("csrf_token").empty());
  CHECK(csrf.Header("Set-Cookie").starts_with("quay_session="));

  const Reply created = s.Call("POST", "/api/v1/user/",
                               R"({"username":"newbie","password":")" + std::string(kPassword) +
                                   R"(","email":"newbie@example.com"})");
  INFO(created);
  REQUIRE(created.status == 200);
  const Login login{CookiePair(created.Header("Set-Cookie")), created.Header("X-Next-CSRF-Token")};
  CHECK(s.Call("GET", "/api/v1/user/", "", WithCookie(login)).Str("username") == "newbie");
  // The name is taken now.
  CHECK(s.Call("POST", "/api/v1/user/",
               R"({"username":"newbie","password":")" + std::string(kPassword) + "\"}")
            .status == 400);
}

TEST_CASE("api sessions: fresh_login routes need a recent session login, not for tokens") {
  auto clock = std::make_shared<quay::ManualClock>();
  ServerSpec spec;
  spec.clock = clock;
  ApiServer s(spec);
  const Login login = SignIn(s, "bob");
  CHECK(s.Call("POST", "/api/v1/user/apptoken", R"({"title":"fresh"})", WithCookie(login, true))
            .status == 200);
  clock->Advance(std::chrono::minutes(11));
  const Reply stale =
      s.Call("POST", "/api/v1/user/apptoken", R"({"title":"stale"})", WithCookie(login, true));
  INFO(stale);
  CHECK(stale.status == 401);
  CHECK(stale.Str("error_type") == "fresh_login_required");
  // Routes without fresh_login still work with the old session, and tokens are exempt.
  CHECK(s.Call("GET", "/api/v1/user/robots", "", WithCookie(login)).status == 200);
  CHECK(s.As(s.Token("bob"), "POST", "/api/v1/user/apptoken", R"({"title":"token"})").status ==
        200);
}

TEST_CASE("api sessions: with PREFERRED_URL_SCHEME https the cookie is Secure") {
  ServerSpec spec;
  spec.api.url_scheme = "https";
  ApiServer s(spec);
  const Reply r = s.Call("POST", "/api/v1/signin",
                         R"({"username":"bob","password":")" + std::string(kPassword) + "\"}");
  REQUIRE(r.status == 200);
  CHECK(r.Header("Set-Cookie").find("; Secure") != std::string::npos);
  ApiServer plain;
  const Reply p = plain.Call("POST", "/api/v1/signin",
                             R"({"username":"bob","password":")" + std::string(kPassword) + "\"}");
  CHECK(p.Header("Set-Cookie").find("Secure") == std::string::npos);
}

TEST_CASE("api sessions: a session is bound to its account, not to the name") {
  ApiServer s;
  const Login login = SignIn(s, "bob");
  REQUIRE(s.Call("GET", "/api/v1/user/", "", WithCookie(login)).Str("username") == "bob");
  // Disabled: the cookie counts for nothing; enabled again: it works again.
  REQUIRE(s.id().SetUserEnabled(ApiServer::ActorFor("sue"), "bob", false).ok());
  CHECK(s.Call("GET", "/api/v1/user/", "", WithCookie(login)).json["anonymous"].IsTrue());
  REQUIRE(s.id().SetUserEnabled(ApiServer::ActorFor("sue"), "bob", true).ok());
  CHECK(s.Call("GET", "/api/v1/user/", "", WithCookie(login)).Str("username") == "bob");

  // Deleted and re-created under the same name: the old cookie is anonymous
  // (reads and writes), a new signin works.
  REQUIRE(s.id().DeleteUser(ApiServer::ActorFor("sue"), "bob").ok());
  REQUIRE(s.id().CreateUser(ApiServer::ActorFor("sue"), "bob", "bob2@example.com", kPassword).ok());
  const Reply me = s.Call("GET", "/api/v1/user/", "", WithCookie(login));
  INFO(me);
  CHECK(me.json["anonymous"].IsTrue());
  CHECK(s.Call("GET", "/api/v1/user/robots", "", WithCookie(login)).status == 401);
  CHECK(s.Call("PUT", "/api/v1/user/robots/inherited", "{}", WithCookie(login, true)).status ==
        401);
  CHECK(!s.id().GetRobot("bob+inherited").ok());
  const Login fresh = SignIn(s, "bob");
  CHECK(s.Call("GET", "/api/v1/user/", "", WithCookie(fresh)).Str("username") == "bob");
}
