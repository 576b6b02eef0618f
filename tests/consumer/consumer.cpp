// An embedder's program: stores a blob in an in-memory registry and reads it
// back through libquay's public API, nothing else.
#include <quay/quay.h>

#include <cstdio>
#include <string>

int main() {
  auto registry = quay::Registry::Open(quay::Options{});
  if (!registry.ok()) {
    std::fprintf(stderr, "open: %s\n", registry.status().ToString().c_str());
    return 1;
  }
  const std::string bytes = "bytes an embedder stores";
  auto upload = (*registry)->StartUpload("consumer/app");
  if (!upload.ok() || !(*upload)->Write(bytes.data(), bytes.size()).ok()) return 1;
  auto blob = (*upload)->Commit(quay::Digest::Of(bytes));
  if (!blob.ok()) {
    std::fprintf(stderr, "commit: %s\n", blob.status().ToString().c_str());
    return 1;
  }
  auto stat = (*registry)->StatBlob("consumer/app", quay::Digest::Of(bytes));
  if (!stat.ok() || stat->size != bytes.size()) return 1;
  std::printf("consumer: stored and found %s\n", blob->digest.str().c_str());
  return 0;
}
