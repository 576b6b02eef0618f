// What only the filesystem driver promises: its on-disk layout, that nothing
// partial ever appears under blobs/, and that it survives a restart.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "quay/storage.h"
#include "storage_test_support.h"

namespace quay {
namespace {

namespace fs = std::filesystem;
using storage_test::PutBlob;
using storage_test::ReadBlob;
using storage_test::ReadUploadBytes;
using storage_test::TempDir;

std::shared_ptr<BlobStore> OpenStore(const std::string& root, bool durable = true) {
  auto store = OpenFilesystemBlobStore(root, durable);
  REQUIRE(store.ok());
  return std::move(store).value();
}

// Regular files anywhere under `dir`, as paths relative to it.
std::vector<std::string> FilesUnder(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(fs::relative(entry.path(), dir).string());
  }
  return files;
}

void WriteFile(const fs::path& path, std::string_view bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  REQUIRE(out.good());
}

TEST_CASE("opening a filesystem store creates its root, blobs/ and uploads/") {
  TempDir tmp;
  const std::string root = tmp.path() + "/nested/data/";
  OpenStore(root);
  CHECK(fs::is_directory(tmp.path() + "/nested/data/blobs"));
  CHECK(fs::is_directory(tmp.path() + "/nested/data/uploads"));
  // Opening again over the existing tree is fine.
  CHECK(OpenFilesystemBlobStore(root).ok());
}

TEST_CASE("a filesystem store cannot be opened over a file or an empty path") {
  TempDir tmp;
  WriteFile(tmp.path() + "/plain-file", "x");
  CHECK_FALSE(OpenFilesystemBlobStore(tmp.path() + "/plain-file").ok());
  CHECK_FALSE(OpenFilesystemBlobStore(tmp.path() + "/plain-file/below").ok());
  CHECK_FALSE(OpenFilesystemBlobStore("").ok());
}

TEST_CASE("a writer dropped without commit (a crash) leaves nothing under blobs/") {
  TempDir tmp;
  const std::string root = tmp.path() + "/data";
  {
    auto store = OpenStore(root);
    auto writer = store->CreateUpload("crashed");
    REQUIRE(writer.ok());
    REQUIRE((*writer)->Append("partial ", 8).ok());
    REQUIRE((*writer)->Append("layer", 5).ok());
    // The writer and the store go away here, as in a process that died.
  }
  CHECK(FilesUnder(root + "/blobs").empty());
  CHECK(FilesUnder(root + "/uploads") == std::vector<std::string>{"crashed"});

  // After the restart the upload resumes from the acknowledged offset.
  auto store = OpenStore(root);
  auto blobs = store->ListBlobs();
  REQUIRE(blobs.ok());
  CHECK(blobs->empty());
  auto uploads = store->ListUploads();
  REQUIRE(uploads.ok());
  CHECK(*uploads == std::vector<std::string>{"crashed"});
  auto writer = store->OpenUpload("crashed", 8);
  REQUIRE(writer.ok());
  REQUIRE((*writer)->Append("blob", 4).ok());
  const Digest digest = Digest::Of("partial blob");
  REQUIRE((*writer)->Commit(digest).ok());
  CHECK(ReadBlob(*store, digest) == "partial blob");
}

TEST_CASE("a committed blob lives at blobs/<algorithm>/<2 hex>/<hex>, readable, not executable") {
  for (bool durable : {true, false}) {
    CAPTURE(durable);
    TempDir tmp;
    const std::string root = tmp.path() + "/data";
    auto store = OpenStore(root, durable);
    const Digest digest = PutBlob(*store, "u1", "layout check");

    const std::string hex(digest.hex());
    const std::string relative = "sha256/" + hex.substr(0, 2) + "/" + hex;
    CHECK(FilesUnder(root + "/blobs") == std::vector<std::string>{relative});
    CHECK(FilesUnder(root + "/uploads").empty());

    struct stat st;
    REQUIRE(::stat((root + "/blobs/" + relative).c_str(), &st) == 0);
    CHECK(S_ISREG(st.st_mode));
    CHECK(st.st_size == 12);
    // 0600 whatever the umask: blobs are private images.
    CHECK((st.st_mode & 0777) == 0600);
  }
}

TEST_CASE("ListBlobs ignores files that are not committed blobs") {
  TempDir tmp;
  const std::string root = tmp.path() + "/data";
  auto store = OpenStore(root);
  const Digest real = PutBlob(*store, "u1", "the only real blob");
  const std::string hex(real.hex());
  const std::string prefix_dir = root + "/blobs/sha256/" + hex.substr(0, 2);
  const std::string other_hex(Digest::Of("elsewhere").hex());

  WriteFile(prefix_dir + "/" + hex + ".tmp", "temp");          // a temp name beside the blob
  WriteFile(prefix_dir + "/.tmp-upload-123", "temp");          // a hidden temp file
  WriteFile(prefix_dir + "/" + hex.substr(0, 63), "short");    // not a full digest
  WriteFile(root + "/blobs/sha256/zz/" + other_hex, "bytes");  // right name, wrong prefix
  WriteFile(root + "/blobs/sha256/" + other_hex, "bytes");     // a digest outside any prefix
  WriteFile(root + "/blobs/md5/ab/abcdef", "bytes");           // an unknown algorithm
  WriteFile(root + "/blobs/junk", "bytes");                    // a file where algorithms go
  fs::create_directories(root + "/blobs/sha256/" + other_hex.substr(0, 2) + "/" + other_hex);
  WriteFile(root + "/uploads/not an id.tmp", "temp");  // uploads/ gets the same care
  fs::create_directories(root + "/uploads/a-directory");

  auto blobs = store->ListBlobs();
  REQUIRE(blobs.ok());
  CHECK(*blobs == std::vector<Digest>{real});
  auto uploads = store->ListUploads();
  REQUIRE(uploads.ok());
  CHECK(uploads->empty());
  CHECK(store->OpenBlob(Digest::Of("elsewhere")).status().code() == Code::kNotFound);
}

TEST_CASE("malformed upload ids never reach the filesystem") {
  TempDir tmp;
  const std::string root = tmp.path() + "/data";
  auto store = OpenStore(root);
  fs::create_directories(root + "/uploads/a");
  for (const char* id : {"../escape", "../../escape", "a/b", "..", "."}) {
    CAPTURE(id);
    CHECK(store->CreateUpload(id).status().code() == Code::kInvalidArgument);
    CHECK(store->DeleteUpload(id).code() == Code::kInvalidArgument);
  }
  CHECK_FALSE(fs::exists(root + "/escape"));
  CHECK_FALSE(fs::exists(tmp.path() + "/escape"));
  CHECK_FALSE(fs::exists(root + "/uploads/a/b"));
  CHECK(fs::is_directory(root + "/uploads"));
  CHECK(fs::is_directory(root + "/blobs"));
}

TEST_CASE("blobs and uploads survive reopening the store") {
  TempDir tmp;
  const std::string root = tmp.path() + "/data";
  Digest digest;
  {
    auto store = OpenStore(root);
    digest = PutBlob(*store, "u1", "persisted");
    auto writer = store->CreateUpload("u2");
    REQUIRE(writer.ok());
    REQUIRE((*writer)->Append("half", 4).ok());
  }
  auto store = OpenStore(root);
  CHECK(ReadBlob(*store, digest) == "persisted");
  CHECK(ReadUploadBytes(*store, "u2") == "half");
}

}  // namespace
}  // namespace quay
