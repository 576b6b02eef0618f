// Quay's search (endpoints/api/search.py): repositories by name or
// description (GET /api/v1/find/repositories) and everything at once for
// the header's search box (GET /api/v1/find/all). What the caller may see is
// the library's listing rule (Permissions::ListRepositories); nothing here
// decides visibility.
#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "host/api/handlers.h"
#include "host/api/json.h"
#include "host/api/views.h"

namespace quayd {
namespace {

using quay::Status;

// Quay's scores: an entity 1, a team 2, a repository 4.
constexpr double kEntityScore = 1;
constexpr double kRepositoryScore = 4;
// SEARCH_RESULTS_PER_PAGE and SEARCH_MAX_RESULT_PAGE_COUNT (Quay's defaults).
constexpr size_t kPerPage = 10;
constexpr int64_t kMaxPage = 10;

// "ns/text" searches `text` in namespace `ns` (Quay splits on the first '/').
quay::RepositoryFilter SearchFilter(const std::string& query) {
  quay::RepositoryFilter filter;
  const size_t slash = query.find('/');
  if (slash == std::string::npos) {
    filter.search = query;
  } else {
    filter.namespace_name = query.substr(0, slash);
    filter.search = query.substr(slash + 1);
  }
  return filter;
}

// Quay's search_entity_view (the fields inside its object).
void WriteEntityView(Json& j, std::string_view kind, std::string_view title, std::string_view name,
                     double score, const std::string& href) {
  j.Key("title").Str(title).Field("kind", kind);
  if (kind == "robot") {
    j.NullField("avatar");
  } else {
    WriteAvatar(j, name, kind == "organization" ? "org" : "user");
  }
  j.Field("name", name);
  j.Key("score");
  j.Double(score);
  j.Field("href", href);
}

// Quay's repo_result_view; `usage` adds last_modified and stars.
void WriteRepository(Json& j, const quay::RepositoryListing& r, double score, bool usage) {
  j.Object().Field("kind", "repository").Field("title", "repo");
  j.Key("namespace").Object();
  WriteEntityView(j, r.namespace_is_org ? "organization" : "user",
                  r.namespace_is_org ? "org" : "user", r.namespace_name, kEntityScore,
                  (r.namespace_is_org ? "/organization/" : "/user/") + r.namespace_name);
  j.End();
  j.Field("name", r.name).Field("description", r.description).Field("is_public", r.is_public);
  j.Key("score");
  j.Double(score);
  j.Field("href", "/repository/" + r.namespace_name + "/" + r.name);
  if (usage) {
    if (r.last_modified)
      j.Field("last_modified", Seconds(*r.last_modified));
    else
      j.NullField("last_modified");
    j.Field("stars", static_cast<int64_t>(r.star_count));
  }
  j.End();
}

// How close `name` is to `query`, in (0, 1] (Quay multiplies each score by
// liquidmetal's; this keeps its order for the common cases: an exact name
// first, then prefixes, then other matches).
double Closeness(std::string_view name, std::string_view query) {
  if (name == query) return 1.0;
  if (name.starts_with(query)) return 0.9;
  if (name.find(query) != std::string_view::npos) return 0.8;
  return 0.5;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

// Pages of ten in Quay's shape ({results, has_additional, page, page_size,
// start_index}). `page` (1..10) reads page x 10 rows in one listing query,
// at most 100 as Quay's SEARCH_MAX_RESULT_PAGE_COUNT bounds it; next_page,
// an addition of quayd, continues by keyset from any page without that cap.
Status HandleConductRepoSearch(ApiExchange& ex) {
  const std::string query = ex.Query("query");
  const bool usage = ex.QueryFlag("includeUsage");
  const std::string binding = "find-repositories\n" + ex.principal.name + "\n" + query + "\n";
  auto cursor = PageCursor(ex, binding);
  if (!cursor.ok()) return cursor.status();
  int64_t page = 1;
  std::string after;
  size_t skip = 0;
  size_t limit = kPerPage;
  if (!cursor->empty()) {
    // "<page>\n<last full name>"
    const size_t nl = cursor->find('\n');
    if (nl == std::string::npos) {
      return Status::InvalidArgument(quay::Subject::kNone, "Invalid page token");
    }
    page = std::stoll(cursor->substr(0, nl));
    after = cursor->substr(nl + 1);
  } else {
    if (std::string p = ex.Query("page"); !p.empty()) {
      char* end = nullptr;
      const long long v = std::strtoll(p.c_str(), &end, 10);
      if (end == p.c_str() || *end != '\0') {
        return Status::InvalidArgument(quay::Subject::kNone, "page must be an integer");
      }
      page = v;
    }
    page = std::clamp<int64_t>(page, 1, kMaxPage);
    skip = static_cast<size_t>(page - 1) * kPerPage;
    limit = skip + kPerPage;
  }
  auto listing = ex.svc.identity.ListRepositories(ex.principal, SearchFilter(query), limit, after);
  if (!listing.ok()) return listing.status();
  const std::vector<quay::RepositoryListing>& rows = listing->repositories;
  Json j;
  j.Object().Key("results").Array();
  for (size_t i = skip; i < rows.size(); ++i) WriteRepository(j, rows[i], kRepositoryScore, usage);
  j.EndArray();
  j.Field("has_additional", listing->more).Field("page", page);
  j.Field("page_size", kPerPage).Field("start_index", static_cast<int64_t>((page - 1) * kPerPage));
  if (listing->more) {
    j.Field("next_page",
            NextPage(ex, binding, std::to_string(page + 1) + "\n" + listing->next_cursor));
  }
  j.End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

// Repositories (five), the caller's robots, users and organizations (five),
// each scored as Quay (a repository 4, an entity 1, times the closeness of
// its name to the query), best first. Teams are not searched yet.
Status HandleConductSearch(ApiExchange& ex) {
  const std::string query = ex.Query("query");
  struct Scored {
    double score;
    std::string json;
  };
  std::vector<Scored> results;
  if (!query.empty()) {
    auto repos = ex.svc.identity.ListRepositories(ex.principal, SearchFilter(query), 5, "");
    if (!repos.ok()) return repos.status();
    for (const quay::RepositoryListing& r : repos->repositories) {
      const double score = kRepositoryScore * Closeness(r.name, SearchFilter(query).search);
      Json j;
      WriteRepository(j, r, score, false);
      results.push_back({score, j.str()});
    }
    const std::string prefix = Lower(query);
    if (prefix.find('/') == std::string::npos) {
      quay::EntityQuery entities;
      entities.prefix = prefix;
      entities.namespace_name = std::string(ex.UserName());  // its robots
      entities.include_orgs = true;
      entities.include_teams = false;
      entities.limit = 5;
      auto matches = ex.svc.identity.SearchEntities(entities);
      if (!matches.ok()) return matches.status();
      size_t namespaces = 0;
      for (const quay::EntityMatch& m : *matches) {
        Json j;
        j.Object();
        if (m.kind == quay::EntityMatch::Kind::kRobot) {
          const std::string short_name = m.name.substr(m.name.find('+') + 1);
          const double score = kEntityScore * Closeness(short_name, prefix);
          WriteEntityView(j, "robot", "robot", m.name, score,
                          std::string("/user/")
                              .append(ex.UserName())
                              .append("?tab=robots&showRobot=")
                              .append(m.name));
          j.Field("short_name", short_name).End();
          results.push_back({score, j.str()});
          continue;
        }
        if (m.kind != quay::EntityMatch::Kind::kUser &&
            m.kind != quay::EntityMatch::Kind::kOrganization) {
          continue;
        }
        if (++namespaces > 5) continue;
        const bool org = m.kind == quay::EntityMatch::Kind::kOrganization;
        const double score = kEntityScore * Closeness(m.name, prefix);
        WriteEntityView(j, org ? "organization" : "user", org ? "org" : "user", m.name, score,
                        (org ? "/organization/" : "/user/") + m.name);
        j.End();
        results.push_back({score, j.str()});
      }
    }
  }
  std::stable_sort(results.begin(), results.end(),
                   [](const Scored& a, const Scored& b) { return a.score > b.score; });
  Json j;
  j.Object().Key("results").Array();
  for (const Scored& r : results) j.Raw(r.json);
  j.EndArray().End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

}  // namespace quayd
