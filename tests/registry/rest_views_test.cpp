// The Registry calls behind Quay's REST API: the tag history listing
// (pages, filters, index use at 20,000 tags), PutTag, manifest details,
// repository stats and manifest labels. On an injected clock.
#include <doctest/doctest.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "db/connection.h"
#include "db/database.h"
#include "registry_test_support.h"
#include "test_database.h"

using namespace quay;
using namespace std::chrono_literals;
using quay::testing::ClockedRegistry;
using quay::testing::DescriptorJson;
using quay::testing::PushBlob;
using quay::testing::PushImage;
using quay::testing::PushImageBlobs;

namespace {
constexpr std::string_view kOci = media_type::kOciManifest;

TagListPage Rows(Registry& r, std::string_view repo, const TagListQuery& q = {}) {
  auto page = r.ListTagRows(repo, q);
  REQUIRE_MESSAGE(page.ok(), page.status().ToString());
  return *page;
}

std::vector<std::string> Names(const TagListPage& page) {
  std::vector<std::string> names;
  for (const auto& row : page.rows) names.push_back(row.name);
  return names;
}

TagListQuery PageOf(size_t page, size_t limit) {
  TagListQuery q;
  q.page = page;
  q.limit = limit;
  return q;
}

// The layer size PushImageBlobs declares for `seed`.
uint64_t LayerSize(const std::string& seed) { return ("layer bytes of " + seed).size(); }

// An OCI index over `children` (each an image manifest digest pushed to the
// repository, described as linux/amd64, linux/arm64/v8, ...).
std::string IndexOf(Registry& r, std::string_view repo, const std::vector<Digest>& children) {
  static const char* kArch[] = {"amd64", "arm64"};
  std::string m = R"({"schemaVersion":2,"mediaType":")" + std::string(media_type::kOciIndex) +
                  R"(","manifests":[)";
  for (size_t i = 0; i < children.size(); ++i) {
    auto child = r.GetManifest(repo, children[i].str());
    REQUIRE(child.ok());
    std::string d = DescriptorJson(kOci, children[i], child->bytes.size());
    d.pop_back();
    d += R"(,"platform":{"os":"linux","architecture":")" + std::string(kArch[i % 2]) + "\"";
    if (i % 2 == 1) d += R"(,"variant":"v8")";
    d += "}}";
    if (i > 0) m += ",";
    m += d;
  }
  m += "]}";
  return m;
}
}  // namespace

// ---- ListTagRows ----

TEST_CASE("tag rows are the full history, newest first, with end times") {
  ClockedRegistry r;
  const auto t0 = r.clock->Now();
  const Digest m1 = PushImage(*r, "lib/app", "one", "v1");
  r.clock->Advance(1min);
  const Digest m2 = PushImage(*r, "lib/app", "two", "v1");
  r.clock->Advance(1min);
  REQUIRE(r->PutTag("lib/app", "v2", m1).ok());
  r.clock->Advance(1min);
  REQUIRE(r->DeleteTag("lib/app", "v2").ok());

  TagListPage all = Rows(*r, "lib/app");
  CHECK_FALSE(all.has_additional);
  REQUIRE(all.rows.size() == 3);
  CHECK(all.rows[0].name == "v2");
  CHECK(all.rows[0].manifest_digest == m1);
  CHECK(all.rows[0].start == t0 + 2min);
  CHECK(all.rows[0].end == t0 + 3min);
  CHECK(all.rows[0].last_modified == t0 + 2min);
  CHECK(all.rows[1].name == "v1");
  CHECK(all.rows[1].manifest_digest == m2);
  CHECK(all.rows[1].start == t0 + 1min);
  CHECK_FALSE(all.rows[1].end.has_value());
  CHECK(all.rows[1].size == LayerSize("two"));
  CHECK(all.rows[1].manifest_media_type == kOci);
  CHECK_FALSE(all.rows[1].is_manifest_list);
  CHECK(all.rows[2].manifest_digest == m1);
  CHECK(all.rows[2].end == t0 + 1min);
  CHECK(all.rows[2].size == LayerSize("one"));

  TagListQuery active;
  active.only_active = true;
  TagListPage live = Rows(*r, "lib/app", active);
  REQUIRE(live.rows.size() == 1);
  CHECK(live.rows[0].manifest_digest == m2);
  CHECK_FALSE(live.has_additional);

  CHECK(r->ListTagRows("no/such", {}).status().subject() == Subject::kRepository);
  CHECK(r->ListTagRows("Bad", {}).status().subject() == Subject::kName);
}

TEST_CASE("tag row pages cross boundaries, also among rows of one instant") {
  ClockedRegistry r;
  const Digest m = PushImage(*r, "lib/app", "one", "t0");
  // Every tag starts at the same microsecond: only the row id orders them.
  for (int i = 1; i < 7; ++i) REQUIRE(r->PutTag("lib/app", "t" + std::to_string(i), m).ok());
  const std::vector<std::string> newest_first = {"t6", "t5", "t4", "t3", "t2", "t1", "t0"};

  // Page by page: pages 2 and 3 continue by keyset from the previous page.
  TagListPage p1 = Rows(*r, "lib/app", PageOf(1, 3));
  TagListPage p2 = Rows(*r, "lib/app", PageOf(2, 3));
  TagListPage p3 = Rows(*r, "lib/app", PageOf(3, 3));
  CHECK(Names(p1) == std::vector<std::string>{"t6", "t5", "t4"});
  CHECK(p1.has_additional);
  CHECK(Names(p2) == std::vector<std::string>{"t3", "t2", "t1"});
  CHECK(p2.has_additional);
  CHECK(Names(p3) == std::vector<std::string>{"t0"});
  CHECK_FALSE(p3.has_additional);
  CHECK(Rows(*r, "lib/app", PageOf(4, 3)).rows.empty());
  CHECK_FALSE(Rows(*r, "lib/app", PageOf(4, 3)).has_additional);

  // A page asked for first (no cursor) is found by OFFSET: the same rows.
  ClockedRegistry other;
  const Digest n = PushImage(*other, "lib/app", "one", "t0");
  for (int i = 1; i < 7; ++i) REQUIRE(other->PutTag("lib/app", "t" + std::to_string(i), n).ok());
  CHECK(Names(Rows(*other, "lib/app", PageOf(3, 3))) == std::vector<std::string>{"t0"});
  CHECK(Names(Rows(*other, "lib/app", PageOf(2, 3))) == Names(p2));
  CHECK(Rows(*other, "lib/app", PageOf(2, 3)).has_additional);

  // An exact boundary: 6 rows of 7 in pages of 6 and 7.
  CHECK(Rows(*r, "lib/app", PageOf(1, 6)).has_additional);
  CHECK_FALSE(Rows(*r, "lib/app", PageOf(1, 7)).has_additional);
  CHECK(Names(Rows(*r, "lib/app", PageOf(1, 7))) == newest_first);

  // A write between pages: the cursor of page 1 is stale, OFFSET is used.
  Rows(*r, "lib/app", PageOf(1, 3));
  r.clock->Advance(1s);
  REQUIRE(r->PutTag("lib/app", "t7", m).ok());
  CHECK(Names(Rows(*r, "lib/app", PageOf(2, 3))) == std::vector<std::string>{"t4", "t3", "t2"});

  // limit is clamped to 1..100 and page 0 counts as page 1.
  CHECK(Rows(*r, "lib/app", PageOf(0, 0)).rows.size() == 1);
  CHECK(Rows(*r, "lib/app", PageOf(1, 1000)).rows.size() == 8);
  TagListQuery huge = PageOf(SIZE_MAX, 100);
  CHECK(Rows(*r, "lib/app", huge).rows.empty());
}

TEST_CASE("a limit past 100 rows is clamped to 100") {
  ClockedRegistry r;
  const Digest m = PushImage(*r, "lib/app", "one", "t0");
  for (int i = 1; i < 120; ++i) REQUIRE(r->PutTag("lib/app", "t" + std::to_string(i), m).ok());
  TagListPage p = Rows(*r, "lib/app", PageOf(1, 500));
  CHECK(p.rows.size() == 100);
  CHECK(p.has_additional);
  CHECK(Rows(*r, "lib/app", PageOf(2, 500)).rows.size() == 20);
  CHECK(Rows(*r, "lib/app", {}).rows.size() == 50);  // the default
}

TEST_CASE("tag rows filter by specific tag, eq and like names") {
  ClockedRegistry r;
  const Digest m1 = PushImage(*r, "lib/app", "one", "release_1");
  r.clock->Advance(1s);
  const Digest m2 = PushImage(*r, "lib/app", "two", "releasex1");
  r.clock->Advance(1s);
  REQUIRE(r->PutTag("lib/app", "Release-2", m2).ok());
  r.clock->Advance(1s);
  REQUIRE(r->PutTag("lib/app", "release_1", m2).ok());  // moves: two rows of release_1

  TagListQuery specific;
  specific.specific_tag = "release_1";
  TagListPage rows = Rows(*r, "lib/app", specific);
  REQUIRE(rows.rows.size() == 2);
  CHECK(rows.rows[0].manifest_digest == m2);
  CHECK(rows.rows[1].manifest_digest == m1);
  CHECK(rows.rows[1].end == rows.rows[0].start);
  specific.only_active = true;
  REQUIRE(Rows(*r, "lib/app", specific).rows.size() == 1);
  CHECK(Rows(*r, "lib/app", specific).rows[0].manifest_digest == m2);

  TagListQuery eq;
  eq.name_filter = TagNameFilter{TagNameFilter::Kind::kEq, "releasex1"};
  CHECK(Names(Rows(*r, "lib/app", eq)) == std::vector<std::string>{"releasex1"});
  eq.specific_tag = "release_1";  // both, naming different tags: nothing
  CHECK(Rows(*r, "lib/app", eq).rows.empty());

  // like: a substring, case-insensitive; '_' is a character, not a wildcard.
  TagListQuery like;
  like.name_filter = TagNameFilter{TagNameFilter::Kind::kLike, "se_1"};
  CHECK(Names(Rows(*r, "lib/app", like)) == std::vector<std::string>{"release_1", "release_1"});
  like.name_filter->text = "RELEASE";
  CHECK(Rows(*r, "lib/app", like).rows.size() == 4);
  like.only_active = true;
  CHECK(Names(Rows(*r, "lib/app", like)) ==
        std::vector<std::string>{"release_1", "Release-2", "releasex1"});
  like.name_filter->text = "%";
  CHECK(Rows(*r, "lib/app", like).rows.empty());

  TagListQuery unknown;
  unknown.specific_tag = "not a tag!";
  CHECK(Rows(*r, "lib/app", unknown).rows.empty());
}

TEST_CASE("an index's tag rows say manifest list and carry no size") {
  ClockedRegistry r;
  const Digest a = PushImage(*r, "lib/app", "a", "a");
  const Digest b = PushImage(*r, "lib/app", "b", "b");
  r.clock->Advance(1s);
  auto put =
      r->PutManifest("lib/app", "multi", media_type::kOciIndex, IndexOf(*r, "lib/app", {a, b}));
  REQUIRE_MESSAGE(put.ok(), put.status().ToString());
  TagListPage page = Rows(*r, "lib/app", PageOf(1, 1));
  REQUIRE(page.rows.size() == 1);
  CHECK(page.rows[0].name == "multi");
  CHECK(page.rows[0].is_manifest_list);
  CHECK(page.rows[0].manifest_media_type == media_type::kOciIndex);
  CHECK_FALSE(page.rows[0].size.has_value());

  // An artifact without layers has size 0, not none.
  const std::string config = "{}";
  const Digest cd = PushBlob(*r, "lib/app", config);
  const std::string art =
      R"({"schemaVersion":2,"mediaType":")" + std::string(kOci) + R"(","config":)" +
      DescriptorJson("application/vnd.example+json", cd, config.size()) + R"(,"layers":[]})";
  r.clock->Advance(1s);
  REQUIRE(r->PutManifest("lib/app", "art", kOci, art).ok());
  page = Rows(*r, "lib/app", PageOf(1, 1));
  CHECK(page.rows[0].name == "art");
  CHECK(page.rows[0].size == 0u);
}

TEST_CASE("page 1 of 20,000 tag rows walks an index, never the whole table" *
          quay::testing::SqliteOnly()) {
  auto opened = db::Database::Open(quay::testing::TestDatabaseFor(":memory:"), false);
  REQUIRE(opened.ok());
  db::Database& d = **opened;
  db::NewManifest m;
  const std::string content = R"({"schemaVersion":2,"layers":[{"size":7},{"size":5}]})";
  m.digest = Digest::Of(content);
  m.media_type = std::string(kOci);
  m.content = content;
  m.layers_size = 12;  // what Registry::PutManifest sums from the parsed layers
  m.tag = "seed";
  REQUIRE(d.PutManifest("lib/big", m, 1).ok());
  {
    auto lock = d.connections().LockWriter();
    // 20,000 rows in one statement: 10,000 live tags, each with one ended row.
    d.connections().writer().Exec(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)"
        " INSERT INTO tag(repository_id, name, manifest_id, start_at, end_at)"
        " SELECT r.id, 'tag' || n.i, m.id, n.i * 10 - k.ended * 5,"
        "  CASE WHEN k.ended = 1 THEN n.i * 10 END"
        " FROM n, (SELECT 0 AS ended UNION ALL SELECT 1) k, repository r, manifest m"
        " WHERE r.name = 'lib/big'");
  }
  d.connections().InvalidateCaches();

  std::vector<db::TagPageQuery> plans(4);
  plans[1].only_active = true;
  plans[2].name = "tag42";
  plans[3].before = std::make_pair<int64_t, int64_t>(50'000, 1'000'000);
  for (const db::TagPageQuery& q : plans) {
    auto plan = d.ExplainTagPage(q);
    REQUIRE(plan.ok());
    INFO(*plan);
    CHECK(plan->find("SCAN t") == std::string::npos);
    CHECK(plan->find("TEMP B-TREE") == std::string::npos);
    CHECK(plan->find("SEARCH t USING INDEX") != std::string::npos);
  }

  // The plans above are what bound the cost (no wall-clock bound here: it
  // would only measure how busy the machine is).
  db::TagPageQuery first;
  first.limit = 100;
  auto page = d.ListTagPage("lib/big", first);
  REQUIRE(page.ok());
  REQUIRE(page->has_value());
  CHECK((*page)->rows.size() == 100);
  CHECK((*page)->more);
  CHECK((*page)->rows[0].name == "tag10000");
  CHECK((*page)->rows[0].layers_size == 12u);

  // A deep page found by OFFSET (no cursor) still walks only the index.
  db::TagPageQuery deep;
  deep.limit = 100;
  deep.offset = 19'900;
  auto last = d.ListTagPage("lib/big", deep);
  REQUIRE(last.ok());
  CHECK((*last)->rows.size() == 100);
  CHECK((*last)->more);  // the seed tag's row is the 20,001st

  db::TagPageQuery live;
  live.only_active = true;
  live.limit = 3;
  live.before = std::make_pair((*page)->rows[1].start_at, (*page)->rows[1].id);
  auto next = d.ListTagPage("lib/big", live);
  REQUIRE(next.ok());
  REQUIRE((*next)->rows.size() == 3);
  for (const auto& row : (*next)->rows) CHECK_FALSE(row.end_at.has_value());
  CHECK((*next)->rows[0].start_at < (*page)->rows[1].start_at);
}

// ---- PutTag ----

TEST_CASE("PutTag creates or moves a tag and keeps history as a push does") {
  ClockedRegistry r;
  const auto t0 = r.clock->Now();
  const Digest m1 = PushImage(*r, "lib/app", "one", "v1");
  const Digest m2 = PushImage(*r, "lib/app", "two", "v2");

  r.clock->Advance(1min);
  auto created = r->PutTag("lib/app", "stable", m1);
  REQUIRE(created.ok());
  CHECK_FALSE(created->has_value());
  CHECK(r->GetManifest("lib/app", "stable")->digest == m1);

  r.clock->Advance(1min);
  auto moved = r->PutTag("lib/app", "stable", m2);
  REQUIRE(moved.ok());
  CHECK(*moved == m1);
  CHECK(r->GetManifest("lib/app", "stable")->digest == m2);

  auto same = r->PutTag("lib/app", "stable", m2);
  REQUIRE(same.ok());
  CHECK(*same == m2);  // nothing changed

  auto h = r->TagHistory("lib/app", "stable");
  REQUIRE(h.ok());
  REQUIRE(h->size() == 2);
  CHECK((*h)[0].manifest == m2);
  CHECK((*h)[0].start == t0 + 2min);
  CHECK_FALSE((*h)[0].end.has_value());
  CHECK((*h)[1].manifest == m1);
  CHECK((*h)[1].end == t0 + 2min);
  // The moved-away manifest is restorable, as after a push.
  CHECK(r->RestoreTag("lib/app", "stable", m1).ok());
}

TEST_CASE("PutTag needs a manifest of that repository that is not deleted") {
  ClockedRegistry r;
  const Digest m1 = PushImage(*r, "lib/app", "one", "v1");
  const Digest other = PushImage(*r, "lib/other", "two", "v1");
  CHECK(r->PutTag("lib/app", "x", other).status().subject() == Subject::kManifest);
  CHECK(r->PutTag("no/such", "x", m1).status().subject() == Subject::kRepository);
  CHECK(r->PutTag("lib/app", "bad tag!", m1).status().subject() == Subject::kTag);
  CHECK(r->PutTag("lib/app", "x", Digest()).status().subject() == Subject::kDigest);
  REQUIRE(r->DeleteManifest("lib/app", m1).ok());
  CHECK(r->PutTag("lib/app", "v1", m1).status().subject() == Subject::kManifest);
  CHECK(r->ListTags("lib/app", 10, "")->names.empty());
}

TEST_CASE("DeleteTag of a tag that is not live is NotFound(kTag)") {
  ClockedRegistry r;
  PushImage(*r, "lib/app", "one", "v1");
  CHECK(r->DeleteTag("lib/app", "never").subject() == Subject::kTag);
  REQUIRE(r->DeleteTag("lib/app", "v1").ok());
  CHECK(r->DeleteTag("lib/app", "v1").subject() == Subject::kTag);
}

// ---- GetManifestInfo ----

TEST_CASE("manifest info of an image: layers, config, sizes, subject") {
  ClockedRegistry r;
  const auto t0 = r.clock->Now();
  const std::string bytes = PushImageBlobs(*r, "lib/app", "one");
  auto put = r->PutManifest("lib/app", "v1", kOci, bytes);
  REQUIRE(put.ok());
  auto info = r->GetManifestInfo("lib/app", put->digest);
  REQUIRE_MESSAGE(info.ok(), info.status().ToString());
  CHECK(info->digest == put->digest);
  CHECK(info->media_type == kOci);
  CHECK(info->size == bytes.size());
  CHECK(info->bytes == bytes);
  CHECK_FALSE(info->is_manifest_list);
  CHECK(info->created == t0);
  REQUIRE(info->config.has_value());
  CHECK(info->config->media_type == "application/vnd.oci.image.config.v1+json");
  REQUIRE(info->layers.size() == 1);
  CHECK(info->layers[0].size == LayerSize("one"));
  CHECK(info->layers[0].media_type == "application/vnd.oci.image.layer.v1.tar+gzip");
  CHECK(info->layers_size == LayerSize("one"));
  CHECK(info->children.empty());
  CHECK_FALSE(info->subject.has_value());

  const std::string art = quay::testing::ArtifactManifest(*r, "lib/app", "application/x.sig",
                                                          "application/vnd.oci.empty.v1+json",
                                                          put->digest, R"({"k":"v"})");
  auto sig = r->PutManifest("lib/app", Digest::Of(art).str(), kOci, art);
  REQUIRE(sig.ok());
  auto sig_info = r->GetManifestInfo("lib/app", sig->digest);
  REQUIRE(sig_info.ok());
  CHECK(sig_info->subject == put->digest);
  CHECK(sig_info->artifact_type == "application/x.sig");
  CHECK(sig_info->annotations.at("k") == "v");
  CHECK(sig_info->layers_size == 0u);

  CHECK(r->GetManifestInfo("lib/app", Digest::Of("nothing")).status().subject() ==
        Subject::kManifest);
  CHECK(r->GetManifestInfo("no/such", put->digest).status().subject() == Subject::kRepository);
  REQUIRE(r->DeleteManifest("lib/app", put->digest).ok());
  CHECK(r->GetManifestInfo("lib/app", put->digest).status().subject() == Subject::kManifest);
}

TEST_CASE("manifest info of an index lists its children with platforms") {
  ClockedRegistry r;
  const Digest a = PushImage(*r, "lib/app", "a", "a");
  const Digest b = PushImage(*r, "lib/app", "b", "b");
  const std::string index = IndexOf(*r, "lib/app", {a, b});
  auto put = r->PutManifest("lib/app", "multi", media_type::kOciIndex, index);
  REQUIRE(put.ok());
  auto info = r->GetManifestInfo("lib/app", put->digest);
  REQUIRE_MESSAGE(info.ok(), info.status().ToString());
  CHECK(info->is_manifest_list);
  CHECK(info->media_type == media_type::kOciIndex);
  CHECK_FALSE(info->config.has_value());
  CHECK(info->layers.empty());
  CHECK_FALSE(info->layers_size.has_value());
  REQUIRE(info->children.size() == 2);
  CHECK(info->children[0].digest == a);
  CHECK(info->children[0].media_type == kOci);
  REQUIRE(info->children[0].platform.has_value());
  CHECK(info->children[0].platform->os == "linux");
  CHECK(info->children[0].platform->architecture == "amd64");
  CHECK(info->children[0].platform->variant.empty());
  CHECK(info->children[1].digest == b);
  CHECK(info->children[1].platform->architecture == "arm64");
  CHECK(info->children[1].platform->variant == "v8");
}

// ---- RepositoryStats ----

TEST_CASE("repository stats count live tags and give the last tag change") {
  ClockedRegistry r;
  const auto t0 = r.clock->Now();
  const Digest m = PushImage(*r, "lib/app", "one", "v1");
  r.clock->Advance(1min);
  REQUIRE(r->PutTag("lib/app", "v2", m).ok());
  auto stats = r->RepositoryStats("lib/app");
  REQUIRE(stats.ok());
  CHECK(stats->tag_count == 2);
  CHECK(stats->last_modified == t0 + 1min);

  r.clock->Advance(1min);
  REQUIRE(r->DeleteTag("lib/app", "v1").ok());
  stats = r->RepositoryStats("lib/app");
  REQUIRE(stats.ok());
  CHECK(stats->tag_count == 1);
  CHECK(stats->last_modified == t0 + 2min);

  // A repository with blobs only has no tag change yet.
  PushBlob(*r, "lib/empty", "bytes");
  stats = r->RepositoryStats("lib/empty");
  REQUIRE(stats.ok());
  CHECK(stats->tag_count == 0);
  CHECK_FALSE(stats->last_modified.has_value());
  CHECK(r->RepositoryStats("no/such").status().subject() == Subject::kRepository);
}

// ---- manifest labels ----

namespace {
// Pushes an image whose config carries `labels_json` as config.Labels.
Digest PushLabelledImage(Registry& r, std::string_view repo, std::string_view labels_json,
                         std::string_view reference) {
  const std::string config = R"({"architecture":"amd64","os":"linux","config":{"Labels":)" +
                             std::string(labels_json) + "}}";
  const Digest cd = PushBlob(r, repo, config);
  const std::string layer = "layer of " + std::string(labels_json);
  const Digest ld = PushBlob(r, repo, layer);
  const std::string m =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":)" +
      DescriptorJson("application/vnd.oci.image.config.v1+json", cd, config.size()) +
      R"(,"layers":[)" +
      DescriptorJson("application/vnd.oci.image.layer.v1.tar+gzip", ld, layer.size()) + "]}";
  auto put = r.PutManifest(repo, reference, kOci, m);
  REQUIRE_MESSAGE(put.ok(), put.status().ToString());
  return put->digest;
}

std::vector<Label> Labels(Registry& r, std::string_view repo, const Digest& m,
                          std::string_view prefix = {}) {
  auto labels = r.ListLabels(repo, m, prefix);
  REQUIRE_MESSAGE(labels.ok(), labels.status().ToString());
  return *labels;
}
}  // namespace

TEST_CASE("api labels are added, listed, found and deleted") {
  ClockedRegistry r;
  const auto t0 = r.clock->Now();
  const Digest m = PushImage(*r, "lib/app", "one", "v1");
  CHECK(Labels(*r, "lib/app", m).empty());

  auto a = r->AddLabel("lib/app", m, "com.example.team", "infra", "");
  REQUIRE_MESSAGE(a.ok(), a.status().ToString());
  CHECK(a->id.size() == 36);
  CHECK(a->key == "com.example.team");
  CHECK(a->value == "infra");
  CHECK(a->media_type == "text/plain");
  CHECK(a->source == LabelSource::kApi);
  CHECK(LabelSourceName(a->source) == "api");
  CHECK(a->created == t0);
  auto b = r->AddLabel("lib/app", m, "build.info", R"({"n":1})", "application/json");
  REQUIRE(b.ok());
  auto c = r->AddLabel("lib/app", m, "com.example.docs", "# Title", "text/markdown");
  REQUIRE(c.ok());

  std::vector<Label> all = Labels(*r, "lib/app", m);
  REQUIRE(all.size() == 3);
  CHECK(all[0].id == a->id);
  CHECK(all[1].id == b->id);
  CHECK(all[1].media_type == "application/json");
  std::vector<Label> com = Labels(*r, "lib/app", m, "com.example.");
  REQUIRE(com.size() == 2);
  CHECK(com[1].key == "com.example.docs");
  CHECK(Labels(*r, "lib/app", m, "nothing").empty());

  auto found = r->GetLabel("lib/app", m, b->id);
  REQUIRE(found.ok());
  CHECK(found->value == R"({"n":1})");
  CHECK(r->GetLabel("lib/app", m, "not-an-id").status().code() == Code::kNotFound);

  auto deleted = r->DeleteLabel("lib/app", m, a->id);
  REQUIRE(deleted.ok());
  CHECK(deleted->key == "com.example.team");
  CHECK(Labels(*r, "lib/app", m).size() == 2);
  CHECK(r->GetLabel("lib/app", m, a->id).status().code() == Code::kNotFound);
  CHECK(r->DeleteLabel("lib/app", m, a->id).status().code() == Code::kNotFound);

  // A label belongs to its manifest only.
  const Digest other = PushImage(*r, "lib/app", "two", "v2");
  CHECK(r->GetLabel("lib/app", other, b->id).status().code() == Code::kNotFound);
  CHECK(r->DeleteLabel("lib/app", other, b->id).status().code() == Code::kNotFound);

  CHECK(r->ListLabels("lib/app", Digest::Of("none")).status().subject() == Subject::kManifest);
  CHECK(r->ListLabels("no/such", m).status().subject() == Subject::kRepository);
  CHECK(r->AddLabel("lib/app", Digest::Of("none"), "k", "v", "").status().subject() ==
        Subject::kManifest);
}

TEST_CASE("label keys, media types and JSON values are validated as Quay does") {
  ClockedRegistry r;
  const Digest m = PushImage(*r, "lib/app", "one", "v1");
  const auto invalid = [&](std::string_view key, std::string_view value,
                           std::string_view media_type) {
    return r->AddLabel("lib/app", m, key, value, media_type).status().code() ==
           Code::kInvalidArgument;
  };
  CHECK(invalid("", "v", ""));
  CHECK(invalid("Upper", "v", ""));
  CHECK(invalid("under_score", "v", ""));
  CHECK(invalid("a..b", "v", ""));
  CHECK(invalid("a.-b", "v", ""));
  CHECK(invalid(".a", "v", ""));
  CHECK(invalid("a-", "v", ""));
  CHECK(invalid("with/slash", "v", ""));
  CHECK(invalid(std::string(256, 'a'), "v", ""));
  CHECK(invalid("quay.expires-after", "2d", ""));  // reserved prefix
  CHECK(invalid("k", "v", "text/html"));
  CHECK(invalid("k", "{not json", "application/json"));
  CHECK(Labels(*r, "lib/app", m).empty());

  CHECK(r->AddLabel("lib/app", m, std::string(255, 'a'), "v", "").ok());
  CHECK(r->AddLabel("lib/app", m, "a.b-c.9", "", "text/plain").ok());
  CHECK(r->AddLabel("lib/app", m, "n", "42", "application/json").ok());
  CHECK(r->AddLabel("lib/app", m, "s", "plain {not json", "text/plain").ok());
}

TEST_CASE("a pushed image's config labels are manifest labels, immutable, recorded once") {
  ClockedRegistry r;
  const Digest m = PushLabelledImage(
      *r, "lib/app",
      R"({"org.opencontainers.image.title":"app","meta":"{\"a\":[1]}","NotQuay":"x","n":7})", "v1");
  std::vector<Label> labels = Labels(*r, "lib/app", m);
  REQUIRE(labels.size() == 2);  // the upper-case key and the non-string value are left out
  CHECK(labels[0].key == "org.opencontainers.image.title");
  CHECK(labels[0].value == "app");
  CHECK(labels[0].media_type == "text/plain");
  CHECK(labels[0].source == LabelSource::kManifest);
  CHECK(labels[1].key == "meta");
  CHECK(labels[1].media_type == "application/json");

  auto refused = r->DeleteLabel("lib/app", m, labels[0].id);
  CHECK(refused.status().code() == Code::kInvalidArgument);
  CHECK(Labels(*r, "lib/app", m).size() == 2);

  // Pushing the same manifest again (another tag) records nothing more.
  const Digest again = PushLabelledImage(
      *r, "lib/app",
      R"({"org.opencontainers.image.title":"app","meta":"{\"a\":[1]}","NotQuay":"x","n":7})", "v2");
  CHECK(again == m);
  CHECK(Labels(*r, "lib/app", m).size() == 2);
}

TEST_CASE("labels go with their manifest: GC and repository deletion leave none behind") {
  Options options;
  options.tag_recovery_window = std::chrono::hours(1);
  ClockedRegistry r(options);
  const Digest m = PushLabelledImage(*r, "lib/app", R"({"team":"infra"})", "v1");
  REQUIRE(r->AddLabel("lib/app", m, "extra", "1", "").ok());
  REQUIRE(r->DeleteTag("lib/app", "v1").ok());
  r.clock->Advance(3h);  // past the recovery and protection windows
  auto report = r->CollectGarbage({});
  REQUIRE_MESSAGE(report.ok(), report.status().ToString());  // no dangling label row blocks it
  CHECK(report->manifests_deleted == 1);
  CHECK(r->ListLabels("lib/app", m).status().subject() == Subject::kManifest);

  // Pushed again, the manifest starts without the old labels but its own.
  const Digest back = PushLabelledImage(*r, "lib/app", R"({"team":"infra"})", "v1");
  CHECK(back == m);
  std::vector<Label> labels = Labels(*r, "lib/app", m);
  REQUIRE(labels.size() == 1);
  CHECK(labels[0].key == "team");

  REQUIRE(r->AddLabel("lib/app", m, "extra", "1", "").ok());
  REQUIRE(r->DeleteRepository("lib/app").ok());
  CHECK(r->ListLabels("lib/app", m).status().subject() == Subject::kRepository);
}

TEST_CASE("TotalBlobBytes counts each blob once, across repositories") {
  auto r = quay::testing::OpenRegistry();
  auto empty = r->TotalBlobBytes();
  REQUIRE(empty.ok());
  CHECK(*empty == 0);
  PushBlob(*r, "a/one", "12345");
  PushBlob(*r, "b/two", "12345");  // the same digest in another repository
  PushBlob(*r, "b/two", "abc");
  auto total = r->TotalBlobBytes();
  REQUIRE(total.ok());
  CHECK(*total == 8);
}

TEST_CASE("a tag page is one shared object until a tag changes") {
  ClockedRegistry r;
  const Digest m1 = PushImage(*r, "lib/app", "one", "v1");
  TagListQuery live;
  live.only_active = true;
  auto first = r->SharedTagRows("lib/app", live);
  REQUIRE(first.ok());
  CHECK(r->SharedTagRows("lib/app", live)->get() == first->get());
  CHECK(r->SharedTagRows("lib/app", {})->get() != first->get());  // the history: its own page
  REQUIRE(r->PutTag("lib/app", "v2", m1).ok());
  auto second = r->SharedTagRows("lib/app", live);
  CHECK(second->get() != first->get());
  CHECK(Names(**second) == std::vector<std::string>{"v2", "v1"});
  CHECK(Names(**first) == std::vector<std::string>{"v1"});  // a page held stays as it was
}
