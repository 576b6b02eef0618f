#include "registry/blob_upload.h"

#include <exception>
#include <vector>

#include "storage/hashing_writer.h"
#include "storage/synced_size.h"

namespace quay::registry {
namespace {

constexpr size_t kRehashBuffer = 1 << 20;
// Uploads larger than this hash on a second thread (background_digester.h).
constexpr uint64_t kBackgroundHashFrom = 8u << 20;

// Feeds the first `length` bytes of an upload area to `digester`.
Status FeedUploadPrefix(BlobStore& store, std::string_view id, uint64_t length,
                        Digester& digester) {
  auto reader = store.ReadUpload(id);
  if (!reader.ok()) return reader.status();
  if ((*reader)->size() < length) {
    return Status::RangeInvalid(Subject::kUpload, "upload holds fewer bytes than were saved");
  }
  std::vector<char> buf(kRehashBuffer);
  uint64_t pos = 0;
  while (pos < length) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), length - pos));
    auto n = (*reader)->ReadAt(pos, buf.data(), want);
    if (!n.ok()) return n.status();
    if (*n == 0) return Status::Internal("upload shrank while being hashed");
    digester.Update(buf.data(), *n);
    pos += *n;
  }
  return Status::Ok();
}

}  // namespace

Result<Digester> RebuildDigester(BlobStore& store, std::string_view id, uint64_t length) {
  Digester d(DigestAlgorithm::kSha256);
  if (auto s = FeedUploadPrefix(store, id, length, d); !s.ok()) return s;
  return d;
}

Result<Digest> HashUploadPrefix(BlobStore& store, std::string_view id, uint64_t length,
                                DigestAlgorithm algorithm) {
  Digester d(algorithm);
  if (auto s = FeedUploadPrefix(store, id, length, d); !s.ok()) return s;
  return d.Finish();
}

BlobUploadImpl::BlobUploadImpl(Context* ctx, std::string id, std::string repository,
                               std::unique_ptr<UploadWriter> writer, Digester digester,
                               uint64_t saved_offset)
    : ctx_(ctx),
      id_(std::move(id)),
      repository_(std::move(repository)),
      writer_(std::move(writer)),
      digester_(std::move(digester)),
      saved_offset_(saved_offset),
      offset_(saved_offset) {}

BlobUploadImpl::~BlobUploadImpl() {
  // Unsaved bytes are forgotten: the database still says saved_offset_, and
  // the store truncates the area to that on the next resume. Only a hash that
  // covers exactly the saved bytes may be reused. The hash state first: a
  // writer that hashes (storage/hashing_writer.h) holds it.
  JoinDigester();
  writer_.reset();
  if (!ended_ && digester_valid_ && offset_ == saved_offset_) {
    ctx_->sessions.Park(id_, saved_offset_, std::move(digester_));
  }
  ctx_->sessions.Release(id_);
}

Status BlobUploadImpl::Write(const char* data, size_t n) {
  if (ended_) return Status::InvalidArgument(Subject::kUpload, "upload already committed");
  if (offset_ + n > ctx_->options.max_blob_bytes) {
    return Status::TooLarge(Subject::kUpload, "blob exceeds the maximum size of " +
                                                  std::to_string(ctx_->options.max_blob_bytes) +
                                                  " bytes");
  }
  if (!background_ && !writer_hashes_ && !writer_declined_hashing_ && digester_valid_) {
    // Best, at any size: the writer hashes from its own staging buffers (no
    // copy), each full buffer while it is being written, so that even a
    // 1 MiB blob is hashed and written at once rather than one after the other.
    auto* hashing = dynamic_cast<storage::HashingWriter*>(writer_.get());
    writer_hashes_ = hashing != nullptr && hashing->HashAppends(digester_);
    writer_declined_hashing_ = !writer_hashes_;
  }
  if (!background_ && !writer_hashes_ && offset_ + n > kBackgroundHashFrom && digester_valid_) {
    try {
      background_ = std::make_unique<BackgroundDigester>(std::move(digester_));
    } catch (const std::exception&) {
      // No thread to be had (resource limits): the state went with the
      // failed object, so Commit hashes the upload area once instead.
      digester_valid_ = false;
    }
  }
  // Hashing first: in the background it overlaps the write below.
  if (background_) {
    background_->Update(data, n);
  } else if (!writer_hashes_) {
    digester_.Update(data, n);
  }
  if (auto s = writer_->Append(data, n); !s.ok()) {
    digester_valid_ = false;  // the area may hold part of this write
    DropUnsavedBytes();
    return s;
  }
  offset_ += n;
  return Status::Ok();
}

void BlobUploadImpl::DropUnsavedBytes() {
  // Reopening at the saved offset truncates the area to it (BlobStore::
  // OpenUpload). At once rather than at the next resume: on a full disk the
  // unacknowledged bytes hold the space that other requests (and the
  // session's own retry) need. A hash state the writer held goes with it
  // (digester_valid_ is already false).
  writer_hashes_ = false;
  writer_.reset();
  auto reopened = ctx_->store->OpenUpload(id_, saved_offset_);
  if (!reopened.ok()) {
    ctx_->logger->Log(LogLevel::kWarn, "registry", "failed to drop unsaved upload bytes",
                      {{"upload", id_}, {"error", reopened.status().ToString()}});
    ended_ = true;  // no writer left; the session resumes from its row
    return;
  }
  writer_ = std::move(*reopened);
  offset_ = saved_offset_;
}

void BlobUploadImpl::JoinDigester() {
  if (writer_hashes_) {
    writer_hashes_ = false;
    auto* hashing = dynamic_cast<storage::HashingWriter*>(writer_.get());
    std::optional<Digester> taken = hashing ? hashing->TakeDigester() : std::nullopt;
    if (taken) {
      digester_ = std::move(*taken);
    } else {
      digester_valid_ = false;  // lost with a spent writer: Commit rehashes the area
    }
  }
  if (!background_) return;
  digester_ = background_->Take();
  background_.reset();
}

Status BlobUploadImpl::Save() {
  if (ended_) return Status::InvalidArgument(Subject::kUpload, "upload already committed");
  if (offset_ == saved_offset_) return Status::Ok();
  // Bytes first, then the offset that acknowledges them, both durable: an
  // acknowledged chunk survives a power loss, and a crash between the two
  // leaves an offset that is behind the bytes, never ahead of them. A store
  // that recorded the offset with the bytes (storage/synced_size.h) has made
  // it durable already: the row needs no fsync of its own, and Reconcile()
  // moves a row a power loss left behind.
  Status s = writer_->Sync();
  if (s.ok()) {
    const auto* recording = dynamic_cast<const storage::SizeRecordingWriter*>(writer_.get());
    const bool recorded = recording != nullptr && recording->last_sync_recorded_size();
    s = ctx_->db->SaveUploadOffset(id_, offset_, ctx_->NowMicros(), /*durable=*/!recorded);
  }
  if (!s.ok()) {
    digester_valid_ = false;
    if (s.IsNoSpace()) DropUnsavedBytes();
    return s;
  }
  saved_offset_ = offset_;
  return Status::Ok();
}

Result<Digest> BlobUploadImpl::DigestFor(const Digest& expected) {
  JoinDigester();
  if (expected.algorithm() == digester_.algorithm() && digester_valid_) {
    digester_valid_ = false;  // Finish() spends it
    return digester_.Finish();
  }
  // Another algorithm (sha512) or lost state: read the bytes back once,
  // after the writer put any it still holds into the area.
  if (auto s = writer_->Flush(); !s.ok()) return s;
  return HashUploadPrefix(*ctx_->store, id_, offset_, expected.algorithm());
}

Result<BlobInfo> BlobUploadImpl::Commit(const Digest& expected,
                                        std::optional<uint64_t> expected_size) {
  if (ended_) return Status::InvalidArgument(Subject::kUpload, "upload already committed");
  if (expected.empty()) return Status::InvalidArgument(Subject::kDigest, "digest missing");
  if (expected_size && *expected_size != offset_) {
    return Status::SizeMismatch("upload holds " + std::to_string(offset_) + " bytes, expected " +
                                std::to_string(*expected_size));
  }
  auto actual = DigestFor(expected);
  if (!actual.ok()) return actual.status();
  if (*actual != expected) {
    return Status::DigestMismatch("content digest " + actual->str() + " does not match " +
                                  expected.str());
  }
  // Commit order: bytes durable and in place as the blob (Publish: fsync the
  // file, link it as blobs/.../<digest>, fsync that directory), then the row
  // that makes the blob visible and ends the session, then the upload area's
  // removal. A kill before the row leaves the session with all its bytes
  // (it resumes, or its client PUTs again) plus an unreferenced blob file;
  // a kill after the row leaves an area without a row, which Reconcile()
  // removes. Never a session row without its bytes, never a row without a
  // blob. The digest's lock keeps GC from deleting a file the store decided
  // to keep (it already existed) before the row below refers to it.
  auto locked = ctx_->digest_locks.Lock(expected);
  if (!locked.ok()) return locked.status();
  auto created = writer_->Publish(expected);
  if (!created.ok()) return created.status();
  ended_ = true;
  if (auto s = ctx_->db->CommitBlob(id_, repository_, expected, offset_, ctx_->NowMicros());
      !s.ok()) {
    ctx_->logger->Log(LogLevel::kError, "registry", "failed to record committed blob",
                      {{"digest", expected.str()}, {"error", s.ToString()}});
    // The session keeps its area and may be retried. A blob file this call
    // made (still under the digest lock, so nobody else relies on it) goes
    // when the row certainly was not written: the session had ended, or the
    // database could not grow (a full disk keeps no stray copy). After
    // another error the commit might still reach the database, so the file
    // stays; unreferenced, GC removes it, and a resumed session copies its
    // area first (BlobStore::OpenUpload).
    if (*created && (s.IsNotFound() || s.IsNoSpace())) (void)ctx_->store->DeleteBlob(expected);
    NoteQuotaRefusal(*ctx_, repository_, s);
    return s;
  }
  if (auto s = ctx_->store->DeleteUpload(id_); !s.ok()) {
    ctx_->logger->Log(LogLevel::kWarn, "registry", "failed to delete upload area",
                      {{"upload", id_}, {"error", s.ToString()}});
  }
  ctx_->sessions.Forget(id_);
  return BlobInfo{expected, offset_};
}

}  // namespace quay::registry
