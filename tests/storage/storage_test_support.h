// Helpers shared by the storage tests: a scratch directory and small
// read/write shortcuts that REQUIRE success, so test bodies read as the
// behaviour they check.
#pragma once

#include <doctest/doctest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "quay/digest.h"
#include "quay/storage.h"

namespace quay::storage_test {

// A fresh directory under /tmp, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/quay-storage-test-XXXXXX";
    const char* made = ::mkdtemp(pattern);
    REQUIRE(made != nullptr);
    path_ = made;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Reads a reader from offset 0 to its end in odd-sized chunks, so chunk
// boundaries do not line up with how the bytes were written.
inline std::string ReadAll(BlobReader& reader) {
  std::string out;
  char buf[4099];
  for (;;) {
    auto n = reader.ReadAt(out.size(), buf, sizeof buf);
    REQUIRE(n.ok());
    if (*n == 0) break;
    out.append(buf, *n);
  }
  return out;
}

inline std::string ReadBlob(BlobStore& store, const Digest& digest) {
  auto reader = store.OpenBlob(digest);
  REQUIRE(reader.ok());
  return ReadAll(**reader);
}

inline std::string ReadUploadBytes(BlobStore& store, std::string_view id) {
  auto reader = store.ReadUpload(id);
  REQUIRE(reader.ok());
  return ReadAll(**reader);
}

// Uploads `bytes` under `id` in one append and commits them as their digest.
inline Digest PutBlob(BlobStore& store, std::string_view id, std::string_view bytes) {
  auto writer = store.CreateUpload(id);
  REQUIRE(writer.ok());
  REQUIRE((*writer)->Append(bytes.data(), bytes.size()).ok());
  const Digest digest = Digest::Of(bytes);
  REQUIRE((*writer)->Commit(digest).ok());
  return digest;
}

// Deterministic bytes that differ per seed and do not repeat with a short period.
inline std::string PseudoRandomBytes(size_t n, uint32_t seed) {
  std::string out(n, '\0');
  uint64_t x = 0x9e3779b97f4a7c15ull ^ seed;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out[i] = static_cast<char>(x >> 24);
  }
  return out;
}

}  // namespace quay::storage_test
