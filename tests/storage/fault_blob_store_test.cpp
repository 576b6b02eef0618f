// FaultInjectingBlobStore: an injected failure performs nothing, so a failed
// append or commit leaves no partial state visible, and the work can be
// retried. Checked over both real drivers, since "performs nothing" must hold
// whatever the inner store is.
#include "quay/fault_blob_store.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "quay/storage.h"
#include "storage_test_support.h"

namespace quay {
namespace {

using storage_test::ReadBlob;
using storage_test::ReadUploadBytes;
using storage_test::TempDir;

struct FaultStoreUnderTest {
  std::unique_ptr<TempDir> dir;  // declared first: removed only after the stores are gone
  std::shared_ptr<FaultInjectingBlobStore> store;
};

struct Inner {
  const char* name;
  FaultStoreUnderTest (*make)();
};

const Inner kInners[] = {
    {"over memory",
     [] {
       return FaultStoreUnderTest{nullptr,
                                  std::make_shared<FaultInjectingBlobStore>(NewMemoryBlobStore())};
     }},
    {"over filesystem",
     [] {
       auto dir = std::make_unique<TempDir>();
       auto inner = OpenFilesystemBlobStore(dir->path() + "/data");
       REQUIRE(inner.ok());
       auto store = std::make_shared<FaultInjectingBlobStore>(std::move(inner).value());
       return FaultStoreUnderTest{std::move(dir), std::move(store)};
     }},
};

template <typename Body>
void ForEachInner(Body&& body) {
  for (const Inner& inner : kInners) {
    SUBCASE(inner.name) {
      FaultStoreUnderTest under_test = inner.make();
      body(*under_test.store);
    }
  }
}

// Appends, then flushes what the inner writer may hold in memory, so that the
// area can be read in between.
Status Append(UploadWriter& writer, std::string_view bytes) {
  if (Status s = writer.Append(bytes.data(), bytes.size()); !s.ok()) return s;
  return writer.Flush();
}

TEST_CASE("the third append fails and the upload holds only the first two") {
  ForEachInner([](FaultInjectingBlobStore& store) {
    auto writer = store.CreateUpload("u1");
    REQUIRE(writer.ok());
    store.FailNthAppend(3);

    CHECK(Append(**writer, "one ").ok());
    CHECK(Append(**writer, "two ").ok());
    const Status failed = Append(**writer, "three ");
    CHECK(failed.code() == Code::kUnavailable);
    CHECK(failed.message() == "injected fault");
    CHECK(store.faults_injected() == 1);
    CHECK((*writer)->size() == 8);
    CHECK(ReadUploadBytes(store, "u1") == "one two ");

    // One-shot: the retried append goes through.
    CHECK(Append(**writer, "three").ok());
    CHECK(ReadUploadBytes(store, "u1") == "one two three");
    CHECK(store.faults_injected() == 1);
  });
}

TEST_CASE("a failed commit leaves no blob and an upload that still commits") {
  ForEachInner([](FaultInjectingBlobStore& store) {
    const std::string bytes = "committed on the second try";
    const Digest digest = Digest::Of(bytes);
    auto writer = store.CreateUpload("u1");
    REQUIRE(writer.ok());
    REQUIRE(Append(**writer, bytes).ok());
    store.FailNthCommit(1);

    CHECK((*writer)->Commit(digest).code() == Code::kUnavailable);
    CHECK(store.faults_injected() == 1);
    CHECK(store.OpenBlob(digest).status().code() == Code::kNotFound);
    CHECK(store.BlobSize(digest).status().code() == Code::kNotFound);
    auto blobs = store.ListBlobs();
    REQUIRE(blobs.ok());
    CHECK(blobs->empty());
    auto uploads = store.ListUploads();
    REQUIRE(uploads.ok());
    CHECK(*uploads == std::vector<std::string>{"u1"});
    CHECK(ReadUploadBytes(store, "u1") == bytes);

    SUBCASE("retried on the same writer") { REQUIRE((*writer)->Commit(digest).ok()); }
    SUBCASE("retried after the session is reopened") {
      writer->reset();
      auto reopened = store.OpenUpload("u1", bytes.size());
      REQUIRE(reopened.ok());
      REQUIRE((*reopened)->Commit(digest).ok());
    }
    CHECK(ReadBlob(store, digest) == bytes);
    uploads = store.ListUploads();
    REQUIRE(uploads.ok());
    CHECK(uploads->empty());
  });
}

TEST_CASE("the countdown counts calls across writers and 0 disarms it") {
  ForEachInner([](FaultInjectingBlobStore& store) {
    auto a = store.CreateUpload("a");
    auto b = store.CreateUpload("b");
    REQUIRE(a.ok());
    REQUIRE(b.ok());

    store.FailNthAppend(2);
    CHECK(Append(**a, "x").ok());
    CHECK(Append(**b, "y").code() == Code::kUnavailable);
    CHECK(ReadUploadBytes(store, "b").empty());

    store.FailNthAppend(1);
    store.FailNthAppend(0);
    store.FailNthCommit(1);
    store.FailNthCommit(0);
    CHECK(Append(**a, "x").ok());
    CHECK((*a)->Commit(Digest::Of("xx")).ok());
    CHECK(store.faults_injected() == 1);

    store.FailNthCommit(2);
    CHECK(Append(**b, "y").ok());
    auto c = store.CreateUpload("c");
    REQUIRE(c.ok());
    CHECK((*c)->Commit(Digest::Of("")).ok());
    CHECK((*b)->Commit(Digest::Of("y")).code() == Code::kUnavailable);
    CHECK(store.faults_injected() == 2);
    CHECK((*b)->Commit(Digest::Of("y")).ok());
    CHECK(ReadBlob(store, Digest::Of("y")) == "y");
  });
}

}  // namespace
}  // namespace quay
