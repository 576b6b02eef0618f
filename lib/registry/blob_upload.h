// BlobUpload as the registry implements it: bytes go to the store's upload
// area and through the digester in one pass.
#pragma once

#include <memory>
#include <string>

#include "quay/registry.h"
#include "registry/background_digester.h"
#include "registry/context.h"

namespace quay::registry {

class BlobUploadImpl final : public BlobUpload {
 public:
  // Takes over a session already acquired in ctx->sessions (released on destruction).
  BlobUploadImpl(Context* ctx, std::string id, std::string repository,
                 std::unique_ptr<UploadWriter> writer, Digester digester, uint64_t saved_offset);
  ~BlobUploadImpl() override;

  const std::string& id() const override { return id_; }
  const std::string& repository() const override { return repository_; }
  uint64_t offset() const override { return offset_; }

  Status Write(const char* data, size_t n) override;
  Status Save() override;
  Result<BlobInfo> Commit(const Digest& expected, std::optional<uint64_t> expected_size) override;

 private:
  Result<Digest> DigestFor(const Digest& expected);
  // Brings the hash state back from the background thread, if one runs.
  void JoinDigester();
  // After a failed Write or Save: cuts the area back to the saved offset.
  void DropUnsavedBytes();

  Context* ctx_;
  std::string id_;
  std::string repository_;
  std::unique_ptr<UploadWriter> writer_;
  Digester digester_;
  // Hashes on a second thread once the upload is large (background_digester.h);
  // while it exists it owns the hash state and digester_ is empty.
  std::unique_ptr<BackgroundDigester> background_;
  // Or the writer hashes (storage/hashing_writer.h) and holds the state.
  bool writer_hashes_ = false;
  bool writer_declined_hashing_ = false;  // asked once per writer
  bool digester_valid_ = true;            // false once Finish() ran or a write failed
  uint64_t saved_offset_;
  uint64_t offset_;
  bool ended_ = false;  // committed (or writer lost): nothing to park
};

// Hashes the first `length` bytes of an upload area (rebuilding hash state
// after a restart, or for a digest algorithm other than the running one).
Result<Digest> HashUploadPrefix(BlobStore& store, std::string_view id, uint64_t length,
                                DigestAlgorithm algorithm);
Result<Digester> RebuildDigester(BlobStore& store, std::string_view id, uint64_t length);

}  // namespace quay::registry
