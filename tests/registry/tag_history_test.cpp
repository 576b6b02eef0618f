// Tag history and restore (Quay's time machine), on an injected clock.
#include <doctest/doctest.h>

#include <chrono>

#include "registry_test_support.h"

using namespace quay;
using namespace std::chrono_literals;
using quay::testing::ClockedRegistry;
using quay::testing::PushImage;
using quay::testing::PushImageBlobs;

namespace {
constexpr std::string_view kOci = media_type::kOciManifest;

std::vector<TagEvent> History(Registry& r, std::string_view repo, std::string_view tag) {
  auto h = r.TagHistory(repo, tag);
  REQUIRE_MESSAGE(h.ok(), h.status().ToString());
  return *h;
}

std::vector<TagEvent> Recent(Registry& r, std::string_view repo, size_t limit) {
  auto h = r.RecentTagChanges(repo, limit);
  REQUIRE_MESSAGE(h.ok(), h.status().ToString());
  return *h;
}

Digest Tagged(Registry& r, std::string_view repo, std::string_view tag) {
  auto m = r.GetManifest(repo, tag);
  REQUIRE_MESSAGE(m.ok(), m.status().ToString());
  return m->digest;
}
}  // namespace

TEST_CASE("tag history lists every row of a tag, newest first, with its times") {
  ClockedRegistry r;
  const auto t0 = r.clock->Now();
  const Digest m1 = PushImage(*r, "lib/app", "one", "v1");
  r.clock->Advance(1min);
  const Digest m2 = PushImage(*r, "lib/app", "two", "v1");
  r.clock->Advance(1min);
  REQUIRE(r->DeleteTag("lib/app", "v1").ok());

  auto h = History(*r, "lib/app", "v1");
  REQUIRE(h.size() == 2);
  CHECK(h[0].tag == "v1");
  CHECK(h[0].manifest == m2);
  CHECK(h[0].start == t0 + 1min);
  CHECK(h[0].end == t0 + 2min);
  CHECK(h[1].manifest == m1);
  CHECK(h[1].start == t0);
  CHECK(h[1].end == t0 + 1min);

  CHECK(History(*r, "lib/app", "never").empty());
  CHECK(r->TagHistory("no/such", "v1").status().subject() == Subject::kRepository);
  CHECK(r->TagHistory("lib/app", "bad tag!").status().subject() == Subject::kTag);
}

TEST_CASE("re-pushing a tag onto the manifest it already names adds no history") {
  ClockedRegistry r;
  const std::string m = PushImageBlobs(*r, "lib/app", "one");
  REQUIRE(r->PutManifest("lib/app", "v1", kOci, m).ok());
  r.clock->Advance(1min);
  REQUIRE(r->PutManifest("lib/app", "v1", kOci, m).ok());
  auto h = History(*r, "lib/app", "v1");
  REQUIRE(h.size() == 1);
  CHECK_FALSE(h[0].end.has_value());
}

TEST_CASE("recent tag changes cover every tag, newest change first, limited") {
  ClockedRegistry r;
  const auto t0 = r.clock->Now();
  PushImage(*r, "lib/app", "a", "a");  // a starts at t0
  r.clock->Advance(1min);
  PushImage(*r, "lib/app", "b", "b");  // b starts at t1
  r.clock->Advance(1min);
  REQUIRE(r->DeleteTag("lib/app", "a").ok());  // a ends at t2
  r.clock->Advance(1min);
  PushImage(*r, "lib/app", "c", "c");    // c starts at t3
  PushImage(*r, "other/app", "z", "z");  // another repository: not listed

  auto all = Recent(*r, "lib/app", 10);
  REQUIRE(all.size() == 3);
  CHECK(all[0].tag == "c");
  CHECK(all[0].start == t0 + 3min);
  CHECK(all[1].tag == "a");  // its end (t2) is later than b's start (t1)
  CHECK(all[1].end == t0 + 2min);
  CHECK(all[2].tag == "b");

  auto two = Recent(*r, "lib/app", 2);
  REQUIRE(two.size() == 2);
  CHECK(two[0].tag == "c");
  CHECK(two[1].tag == "a");
  CHECK(Recent(*r, "lib/app", 0).empty());
  CHECK(r->RecentTagChanges("no/such", 10).status().subject() == Subject::kRepository);
}

TEST_CASE("a deleted tag is restorable until the recovery window passes") {
  ClockedRegistry r;
  const Digest m = PushImage(*r, "lib/app", "one", "v1");
  REQUIRE(r->DeleteTag("lib/app", "v1").ok());
  r.clock->Advance(24h * 13);
  REQUIRE(r->RestoreTag("lib/app", "v1", m).ok());
  CHECK(Tagged(*r, "lib/app", "v1") == m);
  CHECK(History(*r, "lib/app", "v1").size() == 2);

  REQUIRE(r->DeleteTag("lib/app", "v1").ok());
  r.clock->Advance(24h * 15);
  auto late = r->RestoreTag("lib/app", "v1", m);
  CHECK(late.code() == Code::kNotFound);
  CHECK(late.subject() == Subject::kTag);
  CHECK(r->GetManifest("lib/app", "v1").status().subject() == Subject::kManifest);
}

TEST_CASE("the recovery window includes its last instant") {
  Options options;
  options.tag_recovery_window = std::chrono::hours(1);
  ClockedRegistry r(options);
  const Digest m = PushImage(*r, "lib/app", "one", "v1");
  REQUIRE(r->DeleteTag("lib/app", "v1").ok());
  r.clock->Advance(1h);
  CHECK(r->RestoreTag("lib/app", "v1", m).ok());
  REQUIRE(r->DeleteTag("lib/app", "v1").ok());
  r.clock->Advance(1h + 1us);
  CHECK(r->RestoreTag("lib/app", "v1", m).subject() == Subject::kTag);
}

TEST_CASE("a moved tag's old manifest stays pullable by digest and can be restored") {
  ClockedRegistry r;
  const Digest m1 = PushImage(*r, "lib/app", "one", "latest");
  r.clock->Advance(1h);
  const Digest m2 = PushImage(*r, "lib/app", "two", "latest");
  r.clock->Advance(24h);
  CHECK(Tagged(*r, "lib/app", "latest") == m2);
  CHECK(r->GetManifest("lib/app", m1.str()).ok());

  REQUIRE(r->RestoreTag("lib/app", "latest", m1).ok());
  CHECK(Tagged(*r, "lib/app", "latest") == m1);
  auto h = History(*r, "lib/app", "latest");
  REQUIRE(h.size() == 3);
  CHECK(h[0].manifest == m1);
  CHECK_FALSE(h[0].end.has_value());
  CHECK(h[1].manifest == m2);
  CHECK(h[1].end == h[0].start);

  // Restoring what the tag already names changes nothing.
  REQUIRE(r->RestoreTag("lib/app", "latest", m1).ok());
  CHECK(History(*r, "lib/app", "latest").size() == 3);
  // And m2 can be restored in turn (its row ended inside the window).
  REQUIRE(r->RestoreTag("lib/app", "latest", m2).ok());
  CHECK(Tagged(*r, "lib/app", "latest") == m2);
}

TEST_CASE("restoring after a manifest delete brings back the tag and the manifest") {
  ClockedRegistry r;
  const Digest m = PushImage(*r, "lib/app", "one", "v1");
  REQUIRE(r->PutManifest("lib/app", "stable", kOci, PushImageBlobs(*r, "lib/app", "one")).ok());
  r.clock->Advance(1min);
  REQUIRE(r->DeleteManifest("lib/app", m).ok());
  CHECK(r->GetManifest("lib/app", m.str()).status().subject() == Subject::kManifest);
  auto h = History(*r, "lib/app", "v1");
  REQUIRE(h.size() == 1);
  CHECK(h[0].end == r.clock->Now());

  r.clock->Advance(24h);
  REQUIRE(r->RestoreTag("lib/app", "v1", m).ok());
  CHECK(Tagged(*r, "lib/app", "v1") == m);
  CHECK(r->GetManifest("lib/app", m.str()).ok());
  // Only the restored tag comes back.
  CHECK(r->GetManifest("lib/app", "stable").status().subject() == Subject::kExpiredTag);
  CHECK(r->ListTags("lib/app", 10, "")->names == std::vector<std::string>{"v1"});
}

TEST_CASE("restore needs a history row of that tag pointing at that manifest") {
  ClockedRegistry r;
  const Digest m1 = PushImage(*r, "lib/app", "one", "v1");
  const Digest m2 = PushImage(*r, "lib/app", "two", "v2");
  // v1 never pointed at m2.
  CHECK(r->RestoreTag("lib/app", "v1", m2).subject() == Subject::kTag);
  CHECK(r->RestoreTag("lib/app", "v9", m1).subject() == Subject::kTag);
  CHECK(r->RestoreTag("no/such", "v1", m1).subject() == Subject::kTag);
  CHECK(r->RestoreTag("lib/app", "v1", m1).ok());  // live already: nothing to do
  CHECK(r->RestoreTag("lib/app", "bad tag!", m1).code() == Code::kInvalidArgument);
  CHECK(r->RestoreTag("Bad", "v1", m1).subject() == Subject::kName);
  CHECK(Tagged(*r, "lib/app", "v1") == m1);
  CHECK(Tagged(*r, "lib/app", "v2") == m2);
}

TEST_CASE("tag history survives a restart") {
  quay::testing::TempDir dir;
  Options options;
  options.data_dir = dir.path();
  options.durable = false;
  auto clock = std::make_shared<ManualClock>();
  options.clock = clock;
  Digest m;
  {
    auto r = quay::testing::OpenRegistry(options);
    m = PushImage(*r, "lib/app", "one", "v1");
    REQUIRE(r->DeleteManifest("lib/app", m).ok());
  }
  clock->Advance(1h);
  auto r = quay::testing::OpenRegistry(options);
  CHECK(r->GetManifest("lib/app", m.str()).status().subject() == Subject::kManifest);
  REQUIRE(r->RestoreTag("lib/app", "v1", m).ok());
  CHECK(Tagged(*r, "lib/app", "v1") == m);
}
