// next_page pagination of /api/v1 listings across page boundaries: every row
// exactly once, in order; a cursor is bound to its caller and its listing
// (another user's or another namespace's is 400), and a tampered one is 400.
#include <doctest/doctest.h>

#include <set>

#include "api_fixture.h"

using namespace quayd::apitest;

namespace {

struct Page {
  std::vector<std::string> names;
  std::string next;
};

Page ReposPage(ApiServer& s, const std::string& token, const std::string& query) {
  const Reply r = s.As(token, "GET", "/api/v1/repository?" + query);
  INFO(r);
  REQUIRE(r.status == 200);
  Page p;
  for (const auto& row : r.json["repositories"].GetArray()) {
    p.names.push_back(std::string(row["namespace"].GetString()) + "/" + row["name"].GetString());
  }
  p.next = r.Str("next_page");
  return p;
}

std::string Encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("api pagination: listRepos over 100+ repositories follows next_page without gaps") {
  ApiServer s;
  const quay::Actor alice = ApiServer::ActorFor("alice");
  std::set<std::string> expected = {"acme/app"};
  for (int i = 0; i < 230; ++i) {
    char name[32];
    snprintf(name, sizeof name, "acme/r%03d", i);
    REQUIRE(s.id().CreateRepository(alice, name, quay::Visibility::kPrivate, "").ok());
    expected.insert(name);
  }
  // Neighbours that sort next to acme/... must not leak into its listing.
  REQUIRE(s.id().CreateOrganization(alice, "acmf", "", "alice").ok());
  REQUIRE(s.id().CreateRepository(alice, "acmf/zzz", quay::Visibility::kPrivate, "").ok());
  REQUIRE(s.id().CreateRepository(alice, "alice/aaa", quay::Visibility::kPrivate, "").ok());

  const std::string token = s.Token("alice");
  std::vector<std::string> seen;
  std::string next;
  int pages = 0;
  do {
    Page p =
        ReposPage(s, token, "namespace=acme" + (next.empty() ? "" : "&next_page=" + Encode(next)));
    ++pages;
    CHECK(p.names.size() <= 100);
    if (!p.next.empty()) CHECK(p.names.size() == 100);
    seen.insert(seen.end(), p.names.begin(), p.names.end());
    next = p.next;
    REQUIRE(pages < 10);
  } while (!next.empty());
  CHECK(pages == 3);
  CHECK(seen.size() == expected.size());
  CHECK(std::set<std::string>(seen.begin(), seen.end()) == expected);
  CHECK(std::is_sorted(seen.begin(), seen.end()));

  // A reader sees only what is granted: one row, no next_page.
  const Page rita = ReposPage(s, s.Token("rita"), "namespace=acme");
  CHECK(rita.names == std::vector<std::string>{"acme/app"});
  CHECK(rita.next.empty());
}

TEST_CASE("api pagination: a listRepos cursor is bound to its caller and namespace") {
  ApiServer s;
  const quay::Actor alice = ApiServer::ActorFor("alice");
  for (int i = 0; i < 120; ++i) {
    REQUIRE(s.id()
                .CreateRepository(alice, "acme/p" + std::to_string(1000 + i),
                                  quay::Visibility::kPublic, "")
                .ok());
  }
  for (int i = 0; i < 120; ++i) {
    REQUIRE(s.id()
                .CreateRepository(alice, "alice/q" + std::to_string(1000 + i),
                                  quay::Visibility::kPublic, "")
                .ok());
  }
  const std::string token = s.Token("alice");
  const Page first = ReposPage(s, token, "namespace=acme");
  REQUIRE(!first.next.empty());
  const std::string cursor = "&next_page=" + Encode(first.next);
  // The owner continues.
  CHECK(s.As(token, "GET", "/api/v1/repository?namespace=acme" + cursor).status == 200);
  // Another user (who sees these public repositories too) is refused.
  CHECK(s.As(s.Token("bob"), "GET", "/api/v1/repository?namespace=acme" + cursor).status == 400);
  CHECK(s.As("", "GET", "/api/v1/repository?namespace=acme" + cursor).status == 400);
  // Another namespace, or another filter, is refused.
  CHECK(s.As(token, "GET", "/api/v1/repository?namespace=alice" + cursor).status == 400);
  CHECK(s.As(token, "GET", "/api/v1/repository?namespace=acme&public=true" + cursor).status == 400);
  // Tampered: one character changed, truncated, garbage.
  std::string tampered = first.next;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  const Reply t =
      s.As(token, "GET", "/api/v1/repository?namespace=acme&next_page=" + Encode(tampered));
  CHECK(t.status == 400);
  CHECK(t.Str("error_type") == "invalid_request");
  CHECK(s.As(token, "GET",
             "/api/v1/repository?namespace=acme&next_page=" +
                 Encode(first.next.substr(0, first.next.size() - 3)))
            .status == 400);
  CHECK(s.As(token, "GET", "/api/v1/repository?namespace=acme&next_page=garbage").status == 400);
}

TEST_CASE("api pagination: repository logs page through 20-row pages") {
  ApiServer s;
  const quay::Actor alice = ApiServer::ActorFor("alice");
  constexpr int kRows = 47;
  for (int i = 0; i < kRows; ++i) {
    REQUIRE(s.id().SetDescription(alice, "acme/app", "d" + std::to_string(i)).ok());
  }
  quay::AuditQuery all;
  all.repository = "acme/app";
  all.limit = 1000;
  auto stored = s.id().audit().Query(all);
  REQUIRE(stored.ok());
  const size_t total = stored->events.size();
  REQUIRE(total >= kRows);

  const std::string token = s.Token("alice");
  std::set<std::string> descriptions;
  size_t rows = 0;
  int pages = 0;
  std::string next;
  std::string first_cursor;
  do {
    const Reply r = s.As(token, "GET",
                         "/api/v1/repository/acme/app/logs" +
                             (next.empty() ? std::string() : "?next_page=" + Encode(next)));
    INFO(r);
    REQUIRE(r.status == 200);
    ++pages;
    const auto& logs = r.json["logs"];
    CHECK(logs.Size() <= 20);
    for (const auto& row : logs.GetArray()) {
      ++rows;
      if (std::string(row["kind"].GetString()) == "set_repo_description") {
        CHECK(descriptions.insert(row["metadata"]["description"].GetString()).second);
      }
    }
    next = r.Str("next_page");
    if (pages == 1) first_cursor = next;
    if (!next.empty()) CHECK(logs.Size() == 20);
    REQUIRE(pages < 20);
  } while (!next.empty());
  CHECK(rows == total);
  CHECK(descriptions.size() == kRows);
  // (A last full page may announce an empty one.)
  CHECK(pages >= static_cast<int>((total + 19) / 20));
  CHECK(pages <= static_cast<int>((total + 19) / 20) + 1);

  // The cursor belongs to this repository's listing and this caller.
  REQUIRE(!first_cursor.empty());
  REQUIRE(s.id().CreateRepository(alice, "acme/other", quay::Visibility::kPrivate, "").ok());
  CHECK(s.As(token, "GET", "/api/v1/repository/acme/other/logs?next_page=" + Encode(first_cursor))
            .status == 400);
  CHECK(s.As(token, "GET", "/api/v1/organization/acme/logs?next_page=" + Encode(first_cursor))
            .status == 400);
  CHECK(s.As(s.Token("adam"), "GET",
             "/api/v1/repository/acme/app/logs?next_page=" + Encode(first_cursor))
            .status == 400);
}

TEST_CASE("api pagination: superuser users list pages through next_page") {
  ApiServer s;
  for (int i = 0; i < 65; ++i) s.AddUser("user" + std::to_string(100 + i));
  const std::string sue = s.Token("sue");
  std::set<std::string> names;
  std::string next;
  int pages = 0;
  do {
    const Reply r = s.As(
        sue, "GET",
        "/api/v1/superuser/users/" + (next.empty() ? std::string() : "?next_page=" + Encode(next)));
    INFO(r);
    REQUIRE(r.status == 200);
    ++pages;
    for (const auto& u : r.json["users"].GetArray())
      CHECK(names.insert(u["username"].GetString()).second);
    next = r.Str("next_page");
    REQUIRE(pages < 10);
  } while (!next.empty());
  CHECK(names.size() == 75);
  CHECK(pages == 2);
}

TEST_CASE("api pagination: anonymous listRepos pages through public repositories only") {
  ApiServer s;
  const quay::Actor alice = ApiServer::ActorFor("alice");
  std::set<std::string> expected;
  for (int i = 0; i < 200; ++i) {
    char name[32];
    snprintf(name, sizeof name, "acme/m%03d", i);
    const bool pub = i % 4 != 0;  // 150 public, 50 private, interleaved
    REQUIRE(s.id()
                .CreateRepository(alice, name,
                                  pub ? quay::Visibility::kPublic : quay::Visibility::kPrivate, "")
                .ok());
    if (pub) expected.insert(name);
  }
  std::vector<std::string> seen;
  std::string next;
  int pages = 0;
  do {
    Page p =
        ReposPage(s, "", "namespace=acme" + (next.empty() ? "" : "&next_page=" + Encode(next)));
    ++pages;
    seen.insert(seen.end(), p.names.begin(), p.names.end());
    next = p.next;
    REQUIRE(pages < 10);
  } while (!next.empty());
  CHECK(pages == 2);
  CHECK(seen.size() == expected.size());
  CHECK(std::set<std::string>(seen.begin(), seen.end()) == expected);
}
