// Tag policies (quay/tag_policy.h) on an injected clock: expiration (API
// and the quay.expires-after label), immutability (flag, label, policies)
// and auto-prune.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "registry_test_support.h"

using namespace quay;
using namespace std::chrono_literals;
using quay::testing::ClockedRegistry;
using quay::testing::DescriptorJson;
using quay::testing::PushBlob;
using quay::testing::PushImage;

namespace {
constexpr std::string_view kOci = media_type::kOciManifest;

const Actor kActor{};

Options PolicyOptions() {
  Options o;
  o.tag_policies.immutable_tags = true;
  o.tag_policies.auto_prune = true;
  return o;
}

// An image whose config carries config.Labels = `labels_json`, as a
// manifest text (not pushed).
std::string LabelledImage(Registry& r, std::string_view repo, std::string_view labels_json) {
  const std::string config = R"({"architecture":"amd64","os":"linux","config":{"Labels":)" +
                             std::string(labels_json) + "}}";
  const Digest cd = PushBlob(r, repo, config);
  const std::string layer = "layer of " + std::string(labels_json);
  const Digest ld = PushBlob(r, repo, layer);
  return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":)" +
         DescriptorJson("application/vnd.oci.image.config.v1+json", cd, config.size()) +
         R"(,"layers":[)" +
         DescriptorJson("application/vnd.oci.image.layer.v1.tar+gzip", ld, layer.size()) + "]}";
}

std::vector<std::string> LiveTags(Registry& r, std::string_view repo) {
  auto page = r.ListTags(repo, 100, "");
  REQUIRE_MESSAGE(page.ok(), page.status().ToString());
  return page->names;
}
}  // namespace

TEST_CASE("Quay's duration strings parse as util/timedeltastring does") {
  CHECK(ParseQuayDuration("2h") == std::chrono::seconds(7200));
  CHECK(ParseQuayDuration("1d") == std::chrono::seconds(86400));
  CHECK(ParseQuayDuration("3w") == std::chrono::seconds(3 * 7 * 86400));
  CHECK(ParseQuayDuration("90s") == std::chrono::seconds(90));
  CHECK(ParseQuayDuration("5m") == std::chrono::seconds(300));
  CHECK(ParseQuayDuration("1y") == std::chrono::seconds(365 * 86400));
  for (const char* bad : {"", "h", "2", "2x", "-1d", "0d", "1.5h", "99999999999999999999d"}) {
    CHECK_MESSAGE(!ParseQuayDuration(bad), bad);
  }
}

TEST_CASE("an expired tag leaves the tag list and /v2 resolution, then is restorable, then GC") {
  Options o;
  o.tag_recovery_window = 24h;
  o.gc_protection_window = 0s;
  ClockedRegistry r(o);
  const Digest m = PushImage(*r, "lib/app", "one", "v1");
  PushImage(*r, "lib/app", "two", "stays");
  const auto t0 = r.clock->Now();

  // Served (and cached) before the expiration.
  REQUIRE(r->GetManifest("lib/app", "v1").ok());
  auto previous = r->SetTagExpiration("lib/app", "v1", t0 + 2h, kActor);
  REQUIRE_MESSAGE(previous.ok(), previous.status().ToString());
  CHECK(!previous->has_value());
  REQUIRE(r->GetManifest("lib/app", "v1").ok());
  auto state = r->GetTagState("lib/app", "v1");
  REQUIRE(state.ok());
  CHECK(state->expiration == t0 + 2h);
  // The REST listing shows a live row with its expiration.
  TagListQuery q;
  q.only_active = true;
  auto rows = r->ListTagRows("lib/app", q);
  REQUIRE(rows.ok());
  const auto v1 = std::find_if(rows->rows.begin(), rows->rows.end(),
                               [](const TagListRow& row) { return row.name == "v1"; });
  REQUIRE(v1 != rows->rows.end());
  CHECK(!v1->end);
  CHECK(v1->expiration == t0 + 2h);

  r.clock->Advance(2h);
  CHECK(r->GetManifest("lib/app", "v1").status().subject() == Subject::kExpiredTag);
  CHECK(LiveTags(*r, "lib/app") == std::vector<std::string>{"stays"});
  CHECK(r->GetTagState("lib/app", "v1").status().subject() == Subject::kTag);
  // Ended at the expiration itself: its history row says when.
  auto history = r->TagHistory("lib/app", "v1");
  REQUIRE(history.ok());
  REQUIRE(history->size() == 1);
  CHECK((*history)[0].end == t0 + 2h);
  // Pullable by digest and restorable inside the recovery window.
  CHECK(r->GetManifest("lib/app", m.str()).ok());
  REQUIRE(r->RestoreTag("lib/app", "v1", m).ok());
  CHECK(r->GetManifest("lib/app", "v1")->digest == m);
  // The restored row carries no expiration.
  CHECK(!r->GetTagState("lib/app", "v1")->expiration);

  // Expire it again; past the window, GC takes the manifest.
  REQUIRE(r->SetTagExpiration("lib/app", "v1", r.clock->Now() + 1min, kActor).ok());
  r.clock->Advance(1min + 24h + 1s);
  auto gc = r->CollectGarbage({});
  REQUIRE_MESSAGE(gc.ok(), gc.status().ToString());
  CHECK(gc->manifests_deleted == 1);
  CHECK(r->GetManifest("lib/app", m.str()).status().subject() == Subject::kManifest);
  CHECK(r->RestoreTag("lib/app", "v1", m).IsNotFound());
}

TEST_CASE("tag expiration: errors, clearing, and an expired tag pushed again") {
  ClockedRegistry r;
  PushImage(*r, "lib/app", "one", "v1");
  const auto now = r.clock->Now();
  CHECK(r->SetTagExpiration("lib/app", "v1", now, kActor).status().code() ==
        Code::kInvalidArgument);
  CHECK(r->SetTagExpiration("lib/app", "nope", now + 1h, kActor).status().subject() ==
        Subject::kTag);
  CHECK(r->SetTagExpiration("no/such", "v1", now + 1h, kActor).status().subject() ==
        Subject::kRepository);
  REQUIRE(r->SetTagExpiration("lib/app", "v1", now + 1h, kActor).ok());
  auto cleared = r->SetTagExpiration("lib/app", "v1", std::nullopt, kActor);
  REQUIRE(cleared.ok());
  CHECK(*cleared == now + 1h);
  r.clock->Advance(2h);
  CHECK(r->GetManifest("lib/app", "v1").ok());

  REQUIRE(r->SetTagExpiration("lib/app", "v1", r.clock->Now() + 1s, kActor).ok());
  r.clock->Advance(1s);
  const Digest m2 = PushImage(*r, "lib/app", "two", "v1");
  CHECK(r->GetManifest("lib/app", "v1")->digest == m2);
  CHECK(!r->GetTagState("lib/app", "v1")->expiration);
}

TEST_CASE("the quay.expires-after label sets the pushed tag's expiration") {
  ClockedRegistry r;
  const auto t0 = r.clock->Now();
  const std::string m = LabelledImage(*r, "lib/app", R"({"quay.expires-after":"2h"})");
  REQUIRE(r->PutManifest("lib/app", "nightly", kOci, m).ok());
  CHECK(r->GetTagState("lib/app", "nightly")->expiration == t0 + 2h);
  // A value Quay cannot read is ignored.
  const std::string bad = LabelledImage(*r, "lib/app", R"({"quay.expires-after":"soon"})");
  REQUIRE(r->PutManifest("lib/app", "other", kOci, bad).ok());
  CHECK(!r->GetTagState("lib/app", "other")->expiration);

  r.clock->Advance(2h);
  CHECK(r->GetManifest("lib/app", "nightly").status().IsNotFound());
  CHECK(r->GetManifest("lib/app", "other").ok());
}

TEST_CASE("an immutable tag cannot be moved, deleted or expired") {
  ClockedRegistry r(PolicyOptions());
  const Digest m1 = PushImage(*r, "lib/app", "one", "v1");
  auto before = r->SetTagImmutable("lib/app", "v1", true, kActor);
  REQUIRE_MESSAGE(before.ok(), before.status().ToString());
  CHECK(!*before);
  CHECK(r->GetTagState("lib/app", "v1")->immutable);

  const std::string other = quay::testing::PushImageBlobs(*r, "lib/app", "two");
  auto put = r->PutManifest("lib/app", "v1", kOci, other);
  CHECK(put.status().code() == Code::kConflict);
  CHECK(put.status().subject() == Subject::kTag);
  CHECK(put.status().message() == "Cannot overwrite immutable tag 'v1'");
  // Nothing of the refused push is visible: the tag and the manifest count.
  CHECK(r->GetManifest("lib/app", "v1")->digest == m1);
  CHECK(r->GetManifest("lib/app", Digest::Of(other).str()).status().IsNotFound());
  // Pushing the same manifest again changes nothing and is fine.
  auto same = r->GetManifest("lib/app", "v1");
  CHECK(r->PutManifest("lib/app", "v1", kOci, same->bytes).ok());

  CHECK(r->DeleteTag("lib/app", "v1").code() == Code::kConflict);
  CHECK(r->DeleteManifest("lib/app", m1).code() == Code::kConflict);
  CHECK(r->SetTagExpiration("lib/app", "v1", r.clock->Now() + 1h, kActor).status().code() ==
        Code::kConflict);
  const Digest m2 = PushImage(*r, "lib/app", "three", "scratch");
  CHECK(r->PutTag("lib/app", "v1", m2).status().code() == Code::kConflict);
  CHECK(r->RestoreTag("lib/app", "v1", m2).code() != Code::kOk);

  // Mutable again: everything works.
  REQUIRE(r->SetTagImmutable("lib/app", "v1", false, kActor).ok());
  REQUIRE(r->PutTag("lib/app", "v1", m2).ok());
  REQUIRE(r->DeleteTag("lib/app", "v1").ok());
}

TEST_CASE("making a tag immutable clears its expiration; immutability needs the feature") {
  ClockedRegistry r(PolicyOptions());
  PushImage(*r, "lib/app", "one", "v1");
  REQUIRE(r->SetTagExpiration("lib/app", "v1", r.clock->Now() + 1h, kActor).ok());
  REQUIRE(r->SetTagImmutable("lib/app", "v1", true, kActor).ok());
  CHECK(!r->GetTagState("lib/app", "v1")->expiration);
  r.clock->Advance(2h);
  CHECK(r->GetManifest("lib/app", "v1").ok());

  ClockedRegistry off;
  PushImage(*off, "lib/app", "one", "v1");
  CHECK(off->SetTagImmutable("lib/app", "v1", true, kActor).status().code() == Code::kUnsupported);
  CHECK(off->ListImmutabilityPolicies({"lib", "lib/app"}).status().code() == Code::kUnsupported);
  CHECK(off->RunAutoPrune().status().code() == Code::kUnsupported);
  // Without the feature the quay.immutable label does nothing.
  const std::string m = LabelledImage(*off, "lib/app", R"({"quay.immutable":"true"})");
  REQUIRE(off->PutManifest("lib/app", "labelled", kOci, m).ok());
  CHECK(!off->GetTagState("lib/app", "labelled")->immutable);
}

TEST_CASE("the quay.immutable label makes the pushed tag immutable") {
  ClockedRegistry r(PolicyOptions());
  const std::string m = LabelledImage(*r, "lib/app", R"({"quay.immutable":" True "})");
  REQUIRE(r->PutManifest("lib/app", "release", kOci, m).ok());
  CHECK(r->GetTagState("lib/app", "release")->immutable);
  CHECK(r->DeleteTag("lib/app", "release").code() == Code::kConflict);
}

TEST_CASE("an immutability policy marks matching tags, existing and new") {
  ClockedRegistry r(PolicyOptions());
  PushImage(*r, "lib/app", "one", "v1.0");
  PushImage(*r, "lib/app", "two", "latest");
  const PolicyScope scope{"lib", "lib/app"};

  CHECK(r->CreateImmutabilityPolicy(scope, {"", "", true}, kActor).status().code() ==
        Code::kInvalidArgument);
  CHECK(r->CreateImmutabilityPolicy(scope, {"", "v[", true}, kActor).status().code() ==
        Code::kInvalidArgument);
  CHECK(r->CreateImmutabilityPolicy(scope, {"", std::string(257, 'a'), true}, kActor)
            .status()
            .code() == Code::kInvalidArgument);

  auto created = r->CreateImmutabilityPolicy(scope, {"", "v[0-9.]+", true}, kActor);
  REQUIRE_MESSAGE(created.ok(), created.status().ToString());
  CHECK(created->uuid.size() == 36);
  CHECK(r->GetTagState("lib/app", "v1.0")->immutable);
  CHECK(!r->GetTagState("lib/app", "latest")->immutable);
  // The whole name must match.
  PushImage(*r, "lib/app", "three", "v2.0-rc");
  CHECK(!r->GetTagState("lib/app", "v2.0-rc")->immutable);
  PushImage(*r, "lib/app", "four", "v2.0");
  CHECK(r->GetTagState("lib/app", "v2.0")->immutable);
  CHECK(r->CreateImmutabilityPolicy(scope, {"", "v[0-9.]+", true}, kActor).status().code() ==
        Code::kInvalidArgument);  // duplicate

  auto list = r->ListImmutabilityPolicies(scope);
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].tag_pattern == "v[0-9.]+");

  // Inverted: every tag but "latest" becomes immutable.
  ImmutabilityPolicy inverted = (*list)[0];
  inverted.tag_pattern = "latest";
  inverted.tag_pattern_matches = false;
  REQUIRE(r->UpdateImmutabilityPolicy(scope, inverted, kActor).ok());
  CHECK(r->GetTagState("lib/app", "v2.0-rc")->immutable);
  CHECK(!r->GetTagState("lib/app", "latest")->immutable);
  PushImage(*r, "lib/app", "five", "latest");  // still movable

  REQUIRE(r->DeleteImmutabilityPolicy(scope, inverted.uuid, kActor).ok());
  CHECK(r->DeleteImmutabilityPolicy(scope, inverted.uuid, kActor).IsNotFound());
  CHECK(r->GetImmutabilityPolicy(scope, inverted.uuid).status().IsNotFound());
  // Tags the policy marked stay immutable (Quay).
  CHECK(r->GetTagState("lib/app", "v2.0-rc")->immutable);
  // A namespace without an account is no scope.
  CHECK(r->ListImmutabilityPolicies({"lib", ""}).status().IsNotFound());
}

TEST_CASE("auto-prune by number of tags keeps the newest N matching tags") {
  ClockedRegistry r(PolicyOptions());
  for (const char* tag : {"a1", "a2", "a3", "a4", "keep"}) {
    PushImage(*r, "lib/app", tag, tag);
    r.clock->Advance(1min);
  }
  REQUIRE(r->SetTagImmutable("lib/app", "a1", true, kActor).ok());
  const PolicyScope scope{"lib", "lib/app"};
  AutoPrunePolicy bad;
  bad.value = "0";
  CHECK(r->CreateAutoPrunePolicy(scope, bad, kActor).status().code() == Code::kInvalidArgument);
  bad.method = AutoPruneMethod::kCreationDate;
  bad.value = "yesterday";
  CHECK(r->CreateAutoPrunePolicy(scope, bad, kActor).status().code() == Code::kInvalidArgument);

  AutoPrunePolicy p;
  p.method = AutoPruneMethod::kNumberOfTags;
  p.value = "2";
  p.tag_pattern = "a.*";
  auto created = r->CreateAutoPrunePolicy(scope, p, kActor);
  REQUIRE_MESSAGE(created.ok(), created.status().ToString());
  auto report = r->RunAutoPrune();
  REQUIRE_MESSAGE(report.ok(), report.status().ToString());
  CHECK(report->policies == 1);
  CHECK(report->tags_pruned == 1);  // a2 (a1 is immutable; a3, a4 are the newest two)
  CHECK(LiveTags(*r, "lib/app") == std::vector<std::string>{"a1", "a3", "a4", "keep"});
  // Pruned tags are restorable like deleted ones.
  auto history = r->TagHistory("lib/app", "a2");
  REQUIRE(history.ok());
  REQUIRE(history->size() == 1);
  REQUIRE(r->RestoreTag("lib/app", "a2", (*history)[0].manifest).ok());
  // The restored row is the newest now: a second pass keeps it and a4, ends a3.
  CHECK(r->RunAutoPrune()->tags_pruned == 1);
  CHECK(r->ListAutoPrunePolicies(scope)->size() == 1);
  REQUIRE(r->DeleteAutoPrunePolicy(scope, created->uuid, kActor).ok());
  CHECK(r->RunAutoPrune()->policies == 0);
}

TEST_CASE("auto-prune by creation date ends tags older than the duration") {
  ClockedRegistry r(PolicyOptions());
  PushImage(*r, "lib/app", "old", "old");
  r.clock->Advance(2h);
  PushImage(*r, "lib/app", "new", "new");
  AutoPrunePolicy p;
  p.method = AutoPruneMethod::kCreationDate;
  p.value = "1h";
  REQUIRE(r->CreateAutoPrunePolicy({"lib", "lib/app"}, p, kActor).ok());
  CHECK(r->RunAutoPrune()->tags_pruned == 1);
  CHECK(LiveTags(*r, "lib/app") == std::vector<std::string>{"new"});
  r.clock->Advance(1h + 1s);
  CHECK(r->RunAutoPrune()->tags_pruned == 1);
  CHECK(LiveTags(*r, "lib/app").empty());
}

TEST_CASE("the auto-prune thread runs when Options ask for it") {
  Options o = PolicyOptions();
  o.tag_policies.auto_prune_interval = 1s;
  ClockedRegistry r(o);
  for (const char* tag : {"t1", "t2", "t3"}) {
    PushImage(*r, "lib/app", tag, tag);
    r.clock->Advance(1min);
  }
  AutoPrunePolicy p;
  p.value = "1";
  REQUIRE(r->CreateAutoPrunePolicy({"lib", "lib/app"}, p, kActor).ok());
  for (int i = 0; i < 100 && LiveTags(*r, "lib/app").size() > 1; ++i) {
    std::this_thread::sleep_for(50ms);
  }
  CHECK(LiveTags(*r, "lib/app") == std::vector<std::string>{"t3"});
}
