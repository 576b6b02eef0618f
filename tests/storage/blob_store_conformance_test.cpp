// The BlobStore contract, written once and run unchanged against every driver
// in kDrivers (each in its own doctest subcase, named after the driver). A new
// driver joins the suite with one line in that table.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "quay/fault_blob_store.h"
#include "quay/storage.h"
#include "s3_test_support.h"
#include "storage_test_support.h"

namespace quay {
namespace {

using storage_test::PseudoRandomBytes;
using storage_test::PutBlob;
using storage_test::ReadAll;
using storage_test::ReadBlob;
using storage_test::ReadUploadBytes;
using storage_test::TempDir;

struct DriverUnderTest {
  std::unique_ptr<TempDir> dir;  // declared first: removed only after the store is gone
  std::shared_ptr<BlobStore> store;
};

DriverUnderTest Filesystem(bool durable) {
  auto dir = std::make_unique<TempDir>();
  auto store = OpenFilesystemBlobStore(dir->path() + "/data", durable);
  REQUIRE(store.ok());
  return {std::move(dir), std::move(store).value()};
}

// A store under a fresh prefix of the gateway's bucket; no store (the case
// does not run for this driver) without a gateway in the environment.
DriverUnderTest S3() {
  auto options = storage_test::S3OptionsFromEnvironment();
  if (!options) return {};
  options->prefix = storage_test::FreshS3Prefix("conformance");
  auto store = OpenS3BlobStore(*options);
  CAPTURE(store.status().ToString());
  REQUIRE(store.ok());
  return {nullptr, std::move(store).value()};
}

struct Driver {
  const char* name;
  DriverUnderTest (*make)();
};

const Driver kDrivers[] = {
    {"memory",
     [] {
       return DriverUnderTest{nullptr, NewMemoryBlobStore()};
     }},
    {"filesystem", [] { return Filesystem(/*durable=*/true); }},
    {"filesystem, not durable", [] { return Filesystem(/*durable=*/false); }},
    {"fault-injecting over memory, unarmed",
     [] {
       return DriverUnderTest{nullptr,
                              std::make_shared<FaultInjectingBlobStore>(NewMemoryBlobStore())};
     }},
    {"s3 (radosgw)", S3},
};

// Runs `body(store)` once per driver, each in a fresh store and its own
// subcase, so a failing REQUIRE for one driver does not hide the others.
template <typename Body>
void ForEachDriver(Body&& body) {
  for (const Driver& driver : kDrivers) {
    SUBCASE(driver.name) {
      DriverUnderTest under_test = driver.make();
      if (under_test.store) body(*under_test.store);
    }
  }
}

// Appends and flushes: a writer may hold appended bytes in memory until
// Flush, Sync, Commit or its destruction (the filesystem driver's O_DIRECT
// staging), and these cases read the area in between.
void Append(UploadWriter& writer, std::string_view bytes) {
  REQUIRE(writer.Append(bytes.data(), bytes.size()).ok());
  REQUIRE(writer.Flush().ok());
}

void CheckError(const Status& status, Code code, Subject subject) {
  CAPTURE(status.ToString());
  CHECK(status.code() == code);
  CHECK(status.subject() == subject);
}

TEST_CASE("an upload grows by appends and reports its size") {
  ForEachDriver([](BlobStore& store) {
    auto writer = store.CreateUpload("u1");
    REQUIRE(writer.ok());
    CHECK((*writer)->size() == 0);
    Append(**writer, "hello");
    Append(**writer, "");
    Append(**writer, ", world");
    CHECK((*writer)->size() == 12);
    CHECK(ReadUploadBytes(store, "u1") == "hello, world");

    auto reader = store.ReadUpload("u1");
    REQUIRE(reader.ok());
    CHECK((*reader)->size() == 12);
  });
}

// Sync (what a PATCH's acknowledgement waits for) keeps the bytes and the
// writer usable, also across reopening.
TEST_CASE("syncing an upload keeps its bytes and its writer") {
  ForEachDriver([](BlobStore& store) {
    auto writer = store.CreateUpload("s1");
    REQUIRE(writer.ok());
    Append(**writer, "first|");
    REQUIRE((*writer)->Sync().ok());
    Append(**writer, "second");
    REQUIRE((*writer)->Sync().ok());
    CHECK((*writer)->size() == 12);
    writer->reset();
    auto again = store.OpenUpload("s1", 12);
    REQUIRE(again.ok());
    REQUIRE((*again)->Sync().ok());
    CHECK(ReadUploadBytes(store, "s1") == "first|second");
    REQUIRE((*again)->Commit(Digest::Of("first|second")).ok());
  });
}

TEST_CASE("appended bytes reach the area by Sync, or when the writer goes, without Flush") {
  ForEachDriver([](BlobStore& store) {
    auto writer = store.CreateUpload("f1");
    REQUIRE(writer.ok());
    REQUIRE((*writer)->Append("synced", 6).ok());
    REQUIRE((*writer)->Sync().ok());
    CHECK(ReadUploadBytes(store, "f1") == "synced");
    REQUIRE((*writer)->Append("|dropped writer", 15).ok());
    writer->reset();
    CHECK(ReadUploadBytes(store, "f1") == "synced|dropped writer");
  });
}

TEST_CASE("an upload reader reads the bytes present when it was opened") {
  ForEachDriver([](BlobStore& store) {
    auto writer = store.CreateUpload("u1");
    REQUIRE(writer.ok());
    Append(**writer, "first");
    auto reader = store.ReadUpload("u1");
    REQUIRE(reader.ok());
    Append(**writer, "second");
    CHECK((*reader)->size() == 5);
    CHECK(ReadAll(**reader) == "first");
  });
}

TEST_CASE("reopening an upload keeps only its first `keep` bytes") {
  ForEachDriver([](BlobStore& store) {
    {
      auto writer = store.CreateUpload("u1");
      REQUIRE(writer.ok());
      Append(**writer, "abcdef");
    }
    SUBCASE("a shorter keep discards the unacknowledged tail") {
      auto writer = store.OpenUpload("u1", 3);
      REQUIRE(writer.ok());
      CHECK((*writer)->size() == 3);
      Append(**writer, "XY");
      CHECK((*writer)->size() == 5);
      CHECK(ReadUploadBytes(store, "u1") == "abcXY");
    }
    SUBCASE("keep equal to the size keeps everything") {
      auto writer = store.OpenUpload("u1", 6);
      REQUIRE(writer.ok());
      Append(**writer, "g");
      CHECK(ReadUploadBytes(store, "u1") == "abcdefg");
    }
    SUBCASE("keep 0 empties the upload") {
      auto writer = store.OpenUpload("u1", 0);
      REQUIRE(writer.ok());
      CHECK((*writer)->size() == 0);
      CHECK(ReadUploadBytes(store, "u1").empty());
    }
  });
}

TEST_CASE("reopening with keep past the end is RangeInvalid and changes nothing") {
  ForEachDriver([](BlobStore& store) {
    {
      auto writer = store.CreateUpload("u1");
      REQUIRE(writer.ok());
      Append(**writer, "abc");
    }
    auto writer = store.OpenUpload("u1", 4);
    REQUIRE_FALSE(writer.ok());
    CheckError(writer.status(), Code::kRangeInvalid, Subject::kUpload);
    CHECK(ReadUploadBytes(store, "u1") == "abc");
  });
}

TEST_CASE("publish makes the blob readable and keeps the upload until DeleteUpload") {
  // The registry records the blob between the two, so a crash there leaves
  // a session that still has its bytes (issue 11).
  ForEachDriver([](BlobStore& store) {
    const Digest digest = Digest::Of("published");
    auto writer = store.CreateUpload("u1");
    REQUIRE(writer.ok());
    Append(**writer, "published");
    auto created = (*writer)->Publish(digest);
    REQUIRE(created.ok());
    CHECK(*created);
    CHECK(ReadBlob(store, digest) == "published");
    CHECK(ReadUploadBytes(store, "u1") == "published");
    REQUIRE(store.DeleteUpload("u1").ok());
    CHECK(ReadBlob(store, digest) == "published");

    // The same bytes again: the blob existed, nothing is created.
    auto again = store.CreateUpload("u2");
    REQUIRE(again.ok());
    Append(**again, "published");
    created = (*again)->Publish(digest);
    REQUIRE(created.ok());
    CHECK_FALSE(*created);
    CHECK(ReadUploadBytes(store, "u2") == "published");
  });
}

TEST_CASE("a reopened upload that was published never changes the blob") {
  // A crash after Publish, before the row: the session resumes, truncates
  // and appends, and the blob keeps its bytes.
  ForEachDriver([](BlobStore& store) {
    const Digest digest = Digest::Of("0123456789");
    {
      auto writer = store.CreateUpload("u1");
      REQUIRE(writer.ok());
      Append(**writer, "0123456789");
      REQUIRE((*writer)->Publish(digest).ok());
    }
    auto resumed = store.OpenUpload("u1", 4);
    REQUIRE(resumed.ok());
    Append(**resumed, "xyz");
    CHECK(ReadUploadBytes(store, "u1") == "0123xyz");
    CHECK(ReadBlob(store, digest) == "0123456789");
    auto uploads = store.ListUploads();
    REQUIRE(uploads.ok());
    CHECK(*uploads == std::vector<std::string>{"u1"});
  });
}

TEST_CASE("commit makes the exact bytes readable as a blob and removes the upload") {
  ForEachDriver([](BlobStore& store) {
    const std::string bytes = "0123456789";
    const Digest digest = Digest::Of(bytes);
    auto writer = store.CreateUpload("u1");
    REQUIRE(writer.ok());
    Append(**writer, "01234");
    Append(**writer, "56789");
    REQUIRE((*writer)->Commit(digest).ok());

    auto size = store.BlobSize(digest);
    REQUIRE(size.ok());
    CHECK(*size == 10);

    auto reader = store.OpenBlob(digest);
    REQUIRE(reader.ok());
    CHECK((*reader)->size() == 10);
    char buf[16];
    auto n = (*reader)->ReadAt(0, buf, 4);
    REQUIRE(n.ok());
    CHECK(std::string(buf, *n) == "0123");
    n = (*reader)->ReadAt(7, buf, sizeof buf);
    REQUIRE(n.ok());
    CHECK(std::string(buf, *n) == "789");
    n = (*reader)->ReadAt(10, buf, sizeof buf);
    REQUIRE(n.ok());
    CHECK(*n == 0);
    n = (*reader)->ReadAt(1000, buf, sizeof buf);
    REQUIRE(n.ok());
    CHECK(*n == 0);
    CHECK(ReadAll(**reader) == bytes);

    CHECK(store.ReadUpload("u1").status().code() == Code::kNotFound);
    CHECK(store.OpenUpload("u1", 0).status().code() == Code::kNotFound);
    auto uploads = store.ListUploads();
    REQUIRE(uploads.ok());
    CHECK(uploads->empty());

    // The writer is spent: it can neither write nor commit again.
    CHECK_FALSE((*writer)->Append("x", 1).ok());
    CHECK_FALSE((*writer)->Commit(digest).ok());
  });
}

TEST_CASE("an empty upload commits as an empty blob") {
  ForEachDriver([](BlobStore& store) {
    const Digest digest = PutBlob(store, "u1", "");
    auto size = store.BlobSize(digest);
    REQUIRE(size.ok());
    CHECK(*size == 0);
    CHECK(ReadBlob(store, digest).empty());
  });
}

TEST_CASE("committing a digest that already exists keeps the stored blob") {
  ForEachDriver([](BlobStore& store) {
    const Digest digest = PutBlob(store, "u1", "original bytes");
    auto early_reader = store.OpenBlob(digest);
    REQUIRE(early_reader.ok());

    // Different bytes under the same digest show which copy survives (the
    // store trusts the caller's digest, so it cannot tell them apart).
    auto writer = store.CreateUpload("u2");
    REQUIRE(writer.ok());
    Append(**writer, "impostor");
    REQUIRE((*writer)->Commit(digest).ok());

    CHECK(ReadBlob(store, digest) == "original bytes");
    CHECK(ReadAll(**early_reader) == "original bytes");
    CHECK(store.ReadUpload("u2").status().code() == Code::kNotFound);
    auto blobs = store.ListBlobs();
    REQUIRE(blobs.ok());
    CHECK(*blobs == std::vector<Digest>{digest});
  });
}

TEST_CASE("missing blobs and uploads are NotFound with their subject") {
  ForEachDriver([](BlobStore& store) {
    const Digest absent = Digest::Of("never stored");
    CheckError(store.OpenBlob(absent).status(), Code::kNotFound, Subject::kBlob);
    CheckError(store.BlobSize(absent).status(), Code::kNotFound, Subject::kBlob);
    CheckError(store.OpenUpload("nope", 0).status(), Code::kNotFound, Subject::kUpload);
    CheckError(store.ReadUpload("nope").status(), Code::kNotFound, Subject::kUpload);
  });
}

TEST_CASE("an empty (placeholder) digest is InvalidArgument, never a path or a key") {
  ForEachDriver([](BlobStore& store) {
    const Digest none;
    CheckError(store.OpenBlob(none).status(), Code::kInvalidArgument, Subject::kDigest);
    CheckError(store.BlobSize(none).status(), Code::kInvalidArgument, Subject::kDigest);
    CheckError(store.DeleteBlob(none), Code::kInvalidArgument, Subject::kDigest);
    auto writer = store.CreateUpload("u1");
    REQUIRE(writer.ok());
    Append(**writer, "bytes");
    CheckError((*writer)->Commit(none), Code::kInvalidArgument, Subject::kDigest);
    CHECK(ReadUploadBytes(store, "u1") == "bytes");
    auto blobs = store.ListBlobs();
    REQUIRE(blobs.ok());
    CHECK(blobs->empty());
  });
}

TEST_CASE("deleting blobs and uploads is idempotent") {
  ForEachDriver([](BlobStore& store) {
    const Digest digest = PutBlob(store, "u1", "bytes to delete");
    CHECK(store.DeleteBlob(digest).ok());
    CHECK(store.BlobSize(digest).status().code() == Code::kNotFound);
    CHECK(store.OpenBlob(digest).status().code() == Code::kNotFound);
    CHECK(store.DeleteBlob(digest).ok());
    CHECK(store.DeleteBlob(Digest::Of("never stored")).ok());

    REQUIRE(store.CreateUpload("u2").ok());
    CHECK(store.DeleteUpload("u2").ok());
    CHECK(store.ReadUpload("u2").status().code() == Code::kNotFound);
    CHECK(store.DeleteUpload("u2").ok());
    CHECK(store.DeleteUpload("never-created").ok());

    // A deleted upload id is free again.
    CHECK(store.CreateUpload("u2").ok());
  });
}

TEST_CASE("ListBlobs and ListUploads list exactly what exists, sorted") {
  ForEachDriver([](BlobStore& store) {
    auto blobs = store.ListBlobs();
    REQUIRE(blobs.ok());
    CHECK(blobs->empty());
    auto uploads = store.ListUploads();
    REQUIRE(uploads.ok());
    CHECK(uploads->empty());

    std::vector<Digest> expected_blobs = {PutBlob(store, "b1", "one"), PutBlob(store, "b2", "two"),
                                          PutBlob(store, "b3", "three")};
    std::sort(expected_blobs.begin(), expected_blobs.end());
    REQUIRE(store.CreateUpload("zeta").ok());
    REQUIRE(store.CreateUpload("alpha-1").ok());

    blobs = store.ListBlobs();
    REQUIRE(blobs.ok());
    CHECK(*blobs == expected_blobs);
    uploads = store.ListUploads();
    REQUIRE(uploads.ok());
    CHECK(*uploads == std::vector<std::string>{"alpha-1", "zeta"});

    REQUIRE(store.DeleteBlob(expected_blobs[1]).ok());
    expected_blobs.erase(expected_blobs.begin() + 1);
    blobs = store.ListBlobs();
    REQUIRE(blobs.ok());
    CHECK(*blobs == expected_blobs);
  });
}

TEST_CASE("a reader stays valid after its blob is deleted") {
  ForEachDriver([](BlobStore& store) {
    const std::string bytes = PseudoRandomBytes(100000, 7);
    const Digest digest = PutBlob(store, "u1", bytes);
    auto reader = store.OpenBlob(digest);
    REQUIRE(reader.ok());
    REQUIRE(store.DeleteBlob(digest).ok());
    CHECK(store.OpenBlob(digest).status().code() == Code::kNotFound);
    CHECK((*reader)->size() == bytes.size());
    CHECK(ReadAll(**reader) == bytes);
  });
}

TEST_CASE("creating an upload twice under one id is Conflict") {
  ForEachDriver([](BlobStore& store) {
    auto first = store.CreateUpload("u1");
    REQUIRE(first.ok());
    Append(**first, "kept");
    auto second = store.CreateUpload("u1");
    REQUIRE_FALSE(second.ok());
    CheckError(second.status(), Code::kConflict, Subject::kUpload);
    CHECK(ReadUploadBytes(store, "u1") == "kept");
  });
}

TEST_CASE("malformed upload ids are rejected by every upload operation") {
  ForEachDriver([](BlobStore& store) {
    const std::string bad_ids[] = {"",
                                   "../x",
                                   "a/b",
                                   "/abs",
                                   ".",
                                   "..",
                                   "a b",
                                   "a_b",
                                   "a.b",
                                   "a\\b",
                                   std::string("a\0b", 3),
                                   "caf\xc3\xa9",
                                   std::string(65, 'a')};
    for (const std::string& id : bad_ids) {
      CAPTURE(id);
      CheckError(store.CreateUpload(id).status(), Code::kInvalidArgument, Subject::kUpload);
      CheckError(store.OpenUpload(id, 0).status(), Code::kInvalidArgument, Subject::kUpload);
      CheckError(store.ReadUpload(id).status(), Code::kInvalidArgument, Subject::kUpload);
      CheckError(store.DeleteUpload(id), Code::kInvalidArgument, Subject::kUpload);
    }
    auto uploads = store.ListUploads();
    REQUIRE(uploads.ok());
    CHECK(uploads->empty());

    // The longest and most varied id that is still valid.
    const std::string longest = "AZaz09-" + std::string(57, 'x');
    REQUIRE(longest.size() == 64);
    CHECK(store.CreateUpload(longest).ok());
    CHECK(store.ReadUpload(longest).ok());
  });
}

TEST_CASE("a writer whose upload was deleted and re-created cannot commit it") {
  ForEachDriver([](BlobStore& store) {
    auto stale = store.CreateUpload("u1");
    REQUIRE(stale.ok());
    Append(**stale, "stale bytes");
    REQUIRE(store.DeleteUpload("u1").ok());

    auto fresh = store.CreateUpload("u1");
    REQUIRE(fresh.ok());
    Append(**fresh, "fresh bytes");

    const Digest stale_digest = Digest::Of("stale bytes");
    CheckError((*stale)->Commit(stale_digest), Code::kNotFound, Subject::kUpload);
    CHECK(store.OpenBlob(stale_digest).status().code() == Code::kNotFound);
    CHECK(ReadUploadBytes(store, "u1") == "fresh bytes");

    const Digest fresh_digest = Digest::Of("fresh bytes");
    REQUIRE((*fresh)->Commit(fresh_digest).ok());
    CHECK(ReadBlob(store, fresh_digest) == "fresh bytes");
  });
}

TEST_CASE("concurrent uploads from several threads commit different blobs") {
  ForEachDriver([](BlobStore& store) {
    constexpr int kThreads = 8;
    constexpr size_t kPieces = 32;
    constexpr size_t kPieceSize = 1000;
    std::vector<std::string> contents;
    std::vector<Digest> digests;
    for (int i = 0; i < kThreads; ++i) {
      contents.push_back(PseudoRandomBytes(kPieces * kPieceSize, 100 + i));
      digests.push_back(Digest::Of(contents.back()));
    }

    // doctest assertions throw; results are gathered and checked on this thread.
    std::vector<Status> results(kThreads);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        auto writer = store.CreateUpload("thread-" + std::to_string(i));
        if (!writer.ok()) {
          results[i] = writer.status();
          return;
        }
        for (size_t p = 0; p < kPieces; ++p) {
          Status s = (*writer)->Append(contents[i].data() + p * kPieceSize, kPieceSize);
          if (!s.ok()) {
            results[i] = s;
            return;
          }
        }
        results[i] = (*writer)->Commit(digests[i]);
      });
    }
    for (auto& t : threads) t.join();

    for (int i = 0; i < kThreads; ++i) {
      CAPTURE(i);
      CAPTURE(results[i].ToString());
      CHECK(results[i].ok());
      CHECK(ReadBlob(store, digests[i]) == contents[i]);
    }
    std::sort(digests.begin(), digests.end());
    auto blobs = store.ListBlobs();
    REQUIRE(blobs.ok());
    CHECK(*blobs == digests);
    auto uploads = store.ListUploads();
    REQUIRE(uploads.ok());
    CHECK(uploads->empty());
  });
}

TEST_CASE("an 8 MiB blob round-trips through 64 KiB appends") {
  ForEachDriver([](BlobStore& store) {
    constexpr size_t kSize = 8u << 20;
    constexpr size_t kChunk = 64u << 10;
    const std::string bytes = PseudoRandomBytes(kSize, 42);
    const Digest digest = Digest::Of(bytes);

    auto writer = store.CreateUpload("large");
    REQUIRE(writer.ok());
    for (size_t off = 0; off < kSize; off += kChunk) {
      REQUIRE((*writer)->Append(bytes.data() + off, kChunk).ok());
    }
    CHECK((*writer)->size() == kSize);
    REQUIRE((*writer)->Commit(digest).ok());

    auto size = store.BlobSize(digest);
    REQUIRE(size.ok());
    CHECK(*size == kSize);
    auto reader = store.OpenBlob(digest);
    REQUIRE(reader.ok());
    // Read in chunks that straddle the append boundaries.
    std::string back;
    std::string buf((1u << 20) + 1, '\0');
    for (;;) {
      auto n = (*reader)->ReadAt(back.size(), buf.data(), buf.size());
      REQUIRE(n.ok());
      if (*n == 0) break;
      back.append(buf.data(), *n);
    }
    CHECK(back.size() == kSize);
    CHECK(back == bytes);
  });
}

}  // namespace
}  // namespace quay
