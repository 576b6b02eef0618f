// What only the filesystem driver promises: its on-disk layout, that nothing
// partial ever appears under blobs/, and that it survives a restart.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "quay/storage.h"
#include "storage_test_support.h"

namespace quay {
namespace {

namespace fs = std::filesystem;
using storage_test::PseudoRandomBytes;
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

// Whether this process has `path` open with O_DIRECT (from /proc/self/fdinfo).
bool OpenWithDirectIo(const std::string& path) {
  for (const auto& entry : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    if (fs::read_symlink(entry.path(), ec) != fs::path(path)) continue;
    std::ifstream info("/proc/self/fdinfo/" + entry.path().filename().string());
    std::string key;
    while (info >> key) {
      if (key == "flags:") {
        std::string octal;
        info >> octal;
        if (std::stoul(octal, nullptr, 8) & O_DIRECT) return true;
      }
    }
  }
  return false;
}

// Durable writers stage bytes in page-aligned buffers and write them with
// O_DIRECT (storage/direct_appender.h): whole buffers on a thread, the
// unaligned tail through the page cache, again with O_DIRECT once its block
// fills. Appends of odd sizes across buffer boundaries, a Sync in the middle
// of a block, a resume at an unaligned offset and a commit must keep every
// byte in order, with O_DIRECT and without (QUAY_DIRECT_IO=0, the page-cache
// path a file system that refuses O_DIRECT gets), on /tmp and on tmpfs.
TEST_CASE("large uploads keep every byte in order through O_DIRECT staging") {
  struct Setup {
    std::string parent;
    bool direct;
  };
  std::vector<Setup> setups = {{"/tmp", true}, {"/tmp", false}};
  if (fs::is_directory("/dev/shm")) setups.push_back({"/dev/shm", true});
  for (const Setup& setup : setups) {
    const std::string& parent = setup.parent;
    CAPTURE(parent);
    CAPTURE(setup.direct);
    if (setup.direct) {
      ::unsetenv("QUAY_DIRECT_IO");
    } else {
      ::setenv("QUAY_DIRECT_IO", "0", 1);
    }
    const std::string root = parent + "/quay-direct-test-" + std::to_string(::getpid());
    fs::remove_all(root);
    auto store = OpenStore(root);
    const std::string first = PseudoRandomBytes((5u << 20) + 123, 1);
    const std::string second = PseudoRandomBytes((2u << 20) + 4095, 2);
    const auto append_in_pieces = [](UploadWriter& w, std::string_view bytes, size_t piece) {
      for (size_t at = 0; at < bytes.size(); at += piece) {
        const size_t n = std::min(piece, bytes.size() - at);
        REQUIRE(w.Append(bytes.data() + at, n).ok());
      }
    };
    {
      auto writer = store->CreateUpload("big");
      REQUIRE(writer.ok());
      append_in_pieces(**writer, std::string_view(first).substr(0, 1000), 333);
      REQUIRE((*writer)->Sync().ok());  // an unaligned tail, synced
      append_in_pieces(**writer, std::string_view(first).substr(1000), 7777);
      REQUIRE((*writer)->Sync().ok());
      CHECK((*writer)->size() == first.size());
      CHECK(ReadUploadBytes(*store, "big") == first);
      // tmpfs takes O_DIRECT since Linux 6.6; older kernels refuse it.
      if (parent == "/tmp" || !setup.direct) {
        CHECK(OpenWithDirectIo(fs::canonical(root + "/uploads/big").string()) == setup.direct);
      }
    }
    // Resume inside a block, as after a PATCH whose tail was never acknowledged.
    const size_t keep = (3u << 20) + 17;
    auto resumed = store->OpenUpload("big", keep);
    REQUIRE(resumed.ok());
    append_in_pieces(**resumed, second, 65536 + 1);
    const std::string whole = first.substr(0, keep) + second;
    const Digest digest = Digest::Of(whole);
    REQUIRE((*resumed)->Commit(digest).ok());
    CHECK(ReadBlob(*store, digest) == whole);
    store.reset();
    fs::remove_all(root);
  }
  ::unsetenv("QUAY_DIRECT_IO");
}

}  // namespace quay
