// Storage faults at every step of a push leave nothing partial: no blob
// visible, no row without bytes, and the push can be redone.
#include <doctest/doctest.h>

#include "registry_test_support.h"

using namespace quay;
using quay::testing::OpenRegistry;
using quay::testing::TempDir;

namespace {

struct Faulty {
  TempDir dir;
  std::shared_ptr<FaultInjectingBlobStore> store;
  std::unique_ptr<Registry> registry;

  Faulty() {
    auto inner = OpenFilesystemBlobStore(dir.path(), true);
    REQUIRE(inner.ok());
    store = std::make_shared<FaultInjectingBlobStore>(*inner);
    Options o;
    o.data_dir = dir.path();
    o.blob_store = store;
    registry = OpenRegistry(o);
  }
};

}  // namespace

TEST_CASE("a failed commit leaves no blob and the session can be retried") {
  Faulty f;
  const std::string data(100'000, 'q');
  const Digest d = Digest::Of(data);
  std::string id;
  {
    auto up = f.registry->StartUpload("fault/repo");
    REQUIRE(up.ok());
    id = (*up)->id();
    REQUIRE((*up)->Write(data.data(), data.size()).ok());
    REQUIRE((*up)->Save().ok());
    f.store->FailNthCommit(1);
    CHECK((*up)->Commit(d).status().code() == Code::kUnavailable);
  }
  CHECK(f.store->faults_injected() == 1);
  CHECK(f.registry->StatBlob("fault/repo", d).status().IsNotFound());
  CHECK(f.store->BlobSize(d).status().IsNotFound());
  auto up = f.registry->ResumeUpload("fault/repo", id);
  REQUIRE(up.ok());
  CHECK((*up)->offset() == data.size());
  REQUIRE((*up)->Commit(d).ok());
  CHECK(f.registry->StatBlob("fault/repo", d).ok());
}

TEST_CASE("a failed write keeps the session at its acknowledged offset") {
  for (int nth = 1; nth <= 3; ++nth) {
    CAPTURE(nth);
    Faulty f;
    const std::string chunk(4096, 'c');
    std::string id;
    {
      auto up = f.registry->StartUpload("fault/repo");
      REQUIRE(up.ok());
      id = (*up)->id();
      REQUIRE((*up)->Write(chunk.data(), chunk.size()).ok());
      REQUIRE((*up)->Save().ok());
      f.store->FailNthAppend(nth);
      Status s;
      for (int i = 0; i < 3 && s.ok(); ++i) s = (*up)->Write(chunk.data(), chunk.size());
      CHECK(s.code() == Code::kUnavailable);
      // The request fails: no Save, nothing acknowledged past the first chunk.
    }
    auto up = f.registry->ResumeUpload("fault/repo", id);
    REQUIRE(up.ok());
    CHECK((*up)->offset() == chunk.size());
    REQUIRE((*up)->Write(chunk.data(), chunk.size()).ok());
    auto info = (*up)->Commit(Digest::Of(chunk + chunk));
    REQUIRE_MESSAGE(info.ok(), info.status().ToString());
    auto blobs = f.store->ListBlobs();
    REQUIRE(blobs.ok());
    CHECK(blobs->size() == 1);
  }
}

TEST_CASE("reopening removes upload areas a crash left without a session row") {
  TempDir dir;
  Options o;
  o.data_dir = dir.path();
  {
    auto r = OpenRegistry(o);
    auto store = OpenFilesystemBlobStore(dir.path(), true);
    REQUIRE(store.ok());
    auto w = (*store)->CreateUpload("0badc0de-0000-4000-8000-000000000000");
    REQUIRE(w.ok());
    REQUIRE((*w)->Append("orphan", 6).ok());
  }
  auto r = OpenRegistry(o);
  auto store = OpenFilesystemBlobStore(dir.path(), true);
  REQUIRE(store.ok());
  auto uploads = (*store)->ListUploads();
  REQUIRE(uploads.ok());
  CHECK(uploads->empty());
}

// A chunk is acknowledged (Save) only after its bytes are synced: a failed
// sync leaves the session at the previous acknowledged offset, and the upload
// resumes from there to the right digest.
TEST_CASE("a failed sync does not acknowledge the chunk") {
  Faulty f;
  const std::string first(50'000, 'a'), second(70'000, 'b');
  std::string id;
  {
    auto up = f.registry->StartUpload("fault/sync");
    REQUIRE(up.ok());
    id = (*up)->id();
    REQUIRE((*up)->Write(first.data(), first.size()).ok());
    REQUIRE((*up)->Save().ok());
    REQUIRE((*up)->Write(second.data(), second.size()).ok());
    f.store->FailNthSync(1);
    CHECK((*up)->Save().code() == Code::kUnavailable);
  }
  CHECK(f.store->faults_injected() == 1);
  auto state = f.registry->GetUpload("fault/sync", id);
  REQUIRE(state.ok());
  CHECK(state->offset == first.size());
  auto up = f.registry->ResumeUpload("fault/sync", id);
  REQUIRE(up.ok());
  CHECK((*up)->offset() == first.size());
  REQUIRE((*up)->Write(second.data(), second.size()).ok());
  REQUIRE((*up)->Save().ok());
  auto info = (*up)->Commit(Digest::Of(first + second));
  REQUIRE_MESSAGE(info.ok(), info.status().ToString());
  CHECK(info->size == first.size() + second.size());
}

TEST_CASE("a failed write cuts the upload area back to the acknowledged offset at once") {
  // On a full disk the unacknowledged bytes hold the space the retry needs
  // (issue 11): they go when the write fails, not at the next resume.
  Faulty f;
  const std::string chunk(4096, 'c');
  auto up = f.registry->StartUpload("fault/repo");
  REQUIRE(up.ok());
  const std::string id = (*up)->id();
  REQUIRE((*up)->Write(chunk.data(), chunk.size()).ok());
  REQUIRE((*up)->Save().ok());
  REQUIRE((*up)->Write(chunk.data(), chunk.size()).ok());  // in the area, not acknowledged
  f.store->FailNthAppend(1);
  CHECK((*up)->Write(chunk.data(), chunk.size()).code() == Code::kUnavailable);
  auto area = f.store->ReadUpload(id);
  REQUIRE(area.ok());
  CHECK((*area)->size() == chunk.size());
  CHECK((*up)->offset() == chunk.size());
  up->reset();
  auto resumed = f.registry->ResumeUpload("fault/repo", id);
  REQUIRE(resumed.ok());
  CHECK((*resumed)->offset() == chunk.size());
  REQUIRE((*resumed)->Write(chunk.data(), chunk.size()).ok());
  REQUIRE((*resumed)->Commit(Digest::Of(chunk + chunk)).ok());
}
