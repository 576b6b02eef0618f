// The S3 driver.
//
// Keys, under the configured prefix:
//
//   <algorithm>/<first 2 hex>/<hex>                 a committed blob
//   uploads/<upload id>                             an upload's marker; its body is the
//                                                   session nonce (random hex)
//   upload-data/<upload id>/<nonce>/<offset:020>    the upload's bytes from <offset> on
//
// An upload's bytes are the chain of its data objects from offset 0: each
// object starts where the previous one ends. A writer buffers one part
// (S3Options::part_size) in memory, rewrites that part's object on Sync and
// seals it (starts the next object) when it is full, so every object but the
// last holds at least 5 MiB. Everything a writer needs to continue (the
// nonce, the chain, the last part's bytes) is therefore in the store, and any
// instance can reopen the upload. Objects off the chain (left by a crash
// while truncating) are ignored and removed by the next OpenUpload.
//
// S3 cannot read back or truncate the parts of an incomplete multipart
// upload, which ReadUpload and OpenUpload(id, keep) need; so the parts live
// as ordinary objects and Commit stitches them into the blob's key: one
// CopyObject when there is one part, otherwise a multipart upload of
// UploadPartCopy calls (no byte passes through quayd, and blobs over 5 GiB
// work). CompleteMultipartUpload and CopyObject are atomic, so a reader sees
// no blob or the whole blob.
//
// The session nonce tells writers apart: a writer whose upload was deleted
// (and perhaps created again under the same id) finds another nonce, or
// none, in the marker, and fails with NotFound instead of writing into
// someone else's upload.
#include "storage/s3/s3_blob_store.h"

#include <openssl/rand.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/str_cat.h"
#include "storage/s3/s3_client.h"
#include "storage/upload_id_validation.h"

namespace quay::storage::s3 {
namespace {

constexpr uint64_t kMinPartSize = 5ull << 20;  // S3's minimum for all parts but the last
constexpr uint64_t kMaxPartSize = 5ull << 30;  // S3's maximum part (and CopyObject) size
constexpr size_t kOffsetDigits = 20;

struct Segment {
  std::string key;
  uint64_t offset = 0;
  uint64_t size = 0;
  // When set, the segment's bytes as they were when the reader was opened
  // (a part that its writer may still rewrite).
  std::shared_ptr<const std::string> bytes;
};

struct UploadLayout {
  std::string nonce;
  std::vector<Segment> chain;       // contiguous from offset 0
  std::vector<std::string> strays;  // data objects off the chain
  uint64_t size() const { return chain.empty() ? 0 : chain.back().offset + chain.back().size; }
};

// An open writer's state, shared with ReadUpload of the same store.
struct LiveUpload {
  std::mutex mu;
  std::string nonce;
  std::vector<Segment> sealed;  // full parts, in the store
  uint64_t buffer_offset = 0;   // where the buffered part starts
  std::string buffer;           // the last part
  bool dirty = false;           // the buffer differs from its object in the store
  bool detached = false;        // committed, deleted or reopened: the writer is spent
};

std::string OffsetName(uint64_t offset) {
  std::string digits = std::to_string(offset);
  return std::string(kOffsetDigits - digits.size(), '0') + digits;
}

bool ParseOffset(std::string_view name, uint64_t* offset) {
  if (name.size() != kOffsetDigits) return false;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), *offset);
  return ec == std::errc() && end == name.data() + name.size();
}

Result<std::string> NewNonce() {
  unsigned char raw[12];
  if (RAND_bytes(raw, sizeof raw) != 1) return Status::Internal("failed to draw a random nonce");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

bool ValidNonce(std::string_view nonce) {
  return !nonce.empty() && nonce.size() <= 64 &&
         std::all_of(nonce.begin(), nonce.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

struct S3State {
  S3State(const S3Options& opts, std::shared_ptr<HttpTransport> transport, int list_page_size)
      : options(opts),
        client(S3ClientConfig{opts.endpoint, opts.bucket,
                              SigV4Credentials{opts.access_key, opts.secret_key, opts.region},
                              list_page_size},
               std::move(transport), opts.clock ? opts.clock : Clock::System()) {
    std::string_view p = options.prefix;
    while (!p.empty() && p.front() == '/') p.remove_prefix(1);
    while (!p.empty() && p.back() == '/') p.remove_suffix(1);
    if (!p.empty()) prefix = std::string(p) + "/";
    options.secret_key.clear();  // the client holds it; nothing else needs it
  }

  std::string Key(std::string_view rest) const { return core::StrCat({prefix, rest}); }
  std::string MarkerKey(std::string_view id) const { return Key(core::StrCat({"uploads/", id})); }
  std::string DataPrefix(std::string_view id) const {
    return Key(core::StrCat({"upload-data/", id, "/"}));
  }
  std::string DataKey(std::string_view id, std::string_view nonce, uint64_t offset) const {
    return core::StrCat({DataPrefix(id), nonce, "/", OffsetName(offset)});
  }
  std::string BlobKey(const Digest& digest) const {
    const std::string_view hex = digest.hex();
    return Key(core::StrCat({digest.algorithm_name(), "/", hex.substr(0, 2), "/", hex}));
  }

  // The upload's nonce; NotFound(kUpload) if there is no such upload.
  Result<std::string> ReadNonce(std::string_view id) const {
    auto marker = client.GetObjectRange(MarkerKey(id), 0, 128, Subject::kUpload);
    if (!marker.ok()) return marker.status();
    if (!ValidNonce(marker->bytes)) {
      return Status::Internal(core::StrCat({"s3 upload marker ", MarkerKey(id), " is malformed"}));
    }
    return std::move(marker->bytes);
  }

  Result<UploadLayout> LoadLayout(std::string_view id) const {
    UploadLayout layout;
    auto nonce = ReadNonce(id);
    if (!nonce.ok()) return nonce.status();
    layout.nonce = std::move(*nonce);
    auto objects = client.ListObjects(DataPrefix(id));
    if (!objects.ok()) return objects.status();
    const std::string ours = DataPrefix(id) + layout.nonce + "/";
    std::vector<Segment> candidates;
    for (ObjectInfo& object : *objects) {
      uint64_t offset = 0;
      if (object.key.starts_with(ours) &&
          ParseOffset(std::string_view(object.key).substr(ours.size()), &offset)) {
        candidates.push_back({std::move(object.key), offset, object.size, nullptr});
      } else {
        layout.strays.push_back(std::move(object.key));
      }
    }
    std::sort(candidates.begin(), candidates.end(),
              [](const Segment& a, const Segment& b) { return a.offset < b.offset; });
    uint64_t next = 0;
    for (Segment& segment : candidates) {
      if (segment.offset == next && segment.size > 0) {
        next += segment.size;
        layout.chain.push_back(std::move(segment));
      } else {
        layout.strays.push_back(std::move(segment.key));
      }
    }
    return layout;
  }

  // Registers `live` as the one open writer of `id`; an earlier one is spent.
  void Attach(const std::string& id, const std::shared_ptr<LiveUpload>& live) {
    std::shared_ptr<LiveUpload> previous;
    {
      std::lock_guard lock(mu);
      auto& slot = uploads[id];
      previous = slot.lock();
      slot = live;
    }
    if (previous && previous != live) {
      std::lock_guard lock(previous->mu);
      previous->detached = true;
    }
  }

  // Forgets `id`'s writer (only `live`, when given) and marks it spent.
  void Detach(std::string_view id, const LiveUpload* live = nullptr) {
    std::shared_ptr<LiveUpload> current;
    {
      std::lock_guard lock(mu);
      auto it = uploads.find(id);
      if (it == uploads.end()) return;
      current = it->second.lock();
      if (live != nullptr && current.get() != live && current) return;
      uploads.erase(it);
    }
    if (current && current.get() != live) {
      std::lock_guard lock(current->mu);
      current->detached = true;
    }
  }

  std::shared_ptr<LiveUpload> FindLive(std::string_view id) {
    std::lock_guard lock(mu);
    auto it = uploads.find(id);
    return it == uploads.end() ? nullptr : it->second.lock();
  }

  Status DeleteUploadObjects(std::string_view id) const {
    if (Status s = client.DeleteObject(MarkerKey(id)); !s.ok()) return s;
    auto objects = client.ListObjects(DataPrefix(id));
    if (!objects.ok()) return objects.status();
    for (const ObjectInfo& object : *objects) {
      if (Status s = client.DeleteObject(object.key); !s.ok()) return s;
    }
    return Status::Ok();
  }

  S3Options options;  // without the secret key
  S3Client client;
  std::string prefix;  // "" or "<prefix>/"
  std::mutex mu;
  std::map<std::string, std::weak_ptr<LiveUpload>, std::less<>> uploads;
};

class S3BlobReader final : public BlobReader {
 public:
  S3BlobReader(std::shared_ptr<S3State> state, std::vector<Segment> segments, uint64_t size,
               Subject subject)
      : state_(std::move(state)), segments_(std::move(segments)), size_(size), subject_(subject) {}

  // A reader that starts with bytes [0, first.size()) already fetched.
  void Prefill(std::string first) {
    window_offset_ = 0;
    window_ = std::move(first);
  }

  uint64_t size() const override { return size_; }

  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) override {
    if (offset >= size_ || n == 0) return size_t{0};
    n = static_cast<size_t>(std::min<uint64_t>(n, size_ - offset));
    if (offset >= window_offset_ && offset < window_offset_ + window_.size()) {
      const size_t count = std::min<uint64_t>(n, window_offset_ + window_.size() - offset);
      std::memcpy(buf, window_.data() + (offset - window_offset_), count);
      return count;
    }
    auto it = std::upper_bound(segments_.begin(), segments_.end(), offset,
                               [](uint64_t o, const Segment& s) { return o < s.offset; });
    if (it == segments_.begin()) return Status::Internal("s3 reader: offset before the first part");
    const Segment& segment = *std::prev(it);
    const uint64_t within = offset - segment.offset;
    if (within >= segment.size) return Status::Internal("s3 reader: offset between parts");
    const uint64_t left = segment.size - within;
    if (segment.bytes) {
      const size_t count = std::min<uint64_t>(n, left);
      std::memcpy(buf, segment.bytes->data() + within, count);
      return count;
    }
    const uint64_t fetch =
        std::min<uint64_t>(std::max<uint64_t>(n, state_->options.read_ahead), left);
    auto range = state_->client.GetObjectRange(segment.key, within, fetch, subject_);
    if (!range.ok()) return range.status();
    if (range->bytes.empty()) {
      return Status::Internal(
          core::StrCat({"s3 object ", segment.key, " is shorter than expected"}));
    }
    window_offset_ = offset;
    window_ = std::move(range->bytes);
    const size_t count = std::min<uint64_t>(n, window_.size());
    std::memcpy(buf, window_.data(), count);
    return count;
  }

 private:
  std::shared_ptr<S3State> state_;
  std::vector<Segment> segments_;  // by offset
  uint64_t size_;
  Subject subject_;
  uint64_t window_offset_ = 0;
  std::string window_;  // the last range fetched
};

class S3UploadWriter final : public UploadWriter {
 public:
  S3UploadWriter(std::shared_ptr<S3State> state, std::string id, std::shared_ptr<LiveUpload> live)
      : state_(std::move(state)), id_(std::move(id)), live_(std::move(live)) {}

  // Best effort, like a file's unsynced bytes: what was appended is written
  // so that the next OpenUpload finds it.
  ~S3UploadWriter() override {
    {
      std::lock_guard lock(live_->mu);
      if (!live_->detached && live_->dirty && CheckOwnerLocked().ok()) (void)StoreBufferLocked();
    }
    state_->Detach(id_, live_.get());
  }

  uint64_t size() const override {
    std::lock_guard lock(live_->mu);
    return live_->buffer_offset + live_->buffer.size();
  }

  Status Append(const char* data, size_t n) override {
    std::lock_guard lock(live_->mu);
    if (live_->detached) return Spent();
    const uint64_t part = state_->options.part_size;
    while (n > 0) {
      const size_t take = std::min<uint64_t>(n, part - live_->buffer.size());
      live_->buffer.append(data, take);
      live_->dirty = true;
      data += take;
      n -= take;
      if (live_->buffer.size() == part) {
        if (Status s = SealLocked(); !s.ok()) return s;
      }
    }
    return Status::Ok();
  }

  Status Sync() override {
    std::lock_guard lock(live_->mu);
    if (live_->detached) return Spent();
    if (!live_->dirty) return Status::Ok();
    if (Status s = CheckOwnerLocked(); !s.ok()) return s;
    return StoreBufferLocked();
  }

  Status Commit(const Digest& digest) override {
    auto created = Assemble(digest);
    if (!created.ok()) return created.status();
    // The blob is in place; a failure to remove the area leaves it for the
    // caller's reconciliation (ListUploads), so it is not an error here.
    (void)state_->DeleteUploadObjects(id_);
    return Status::Ok();
  }

  Result<bool> Publish(const Digest& digest) override { return Assemble(digest); }

 private:
  static Status Spent() {
    return Status::NotFound(Subject::kUpload, "upload was committed, removed or reopened");
  }

  // The marker must still hold this writer's nonce.
  Status CheckOwnerLocked() {
    auto nonce = state_->ReadNonce(id_);
    if (!nonce.ok()) {
      if (nonce.status().IsNotFound()) {
        live_->detached = true;
        return Status::NotFound(Subject::kUpload, "upload was removed");
      }
      return nonce.status();
    }
    if (*nonce != live_->nonce) {
      live_->detached = true;
      return Status::NotFound(Subject::kUpload, "upload was removed and created again");
    }
    return Status::Ok();
  }

  Status StoreBufferLocked() {
    const std::string key = state_->DataKey(id_, live_->nonce, live_->buffer_offset);
    if (Status s = state_->client.PutObject(key, live_->buffer); !s.ok()) return s;
    live_->dirty = false;
    return Status::Ok();
  }

  // The full buffer becomes a sealed part; the next part starts empty.
  Status SealLocked() {
    if (Status s = CheckOwnerLocked(); !s.ok()) return s;
    if (Status s = StoreBufferLocked(); !s.ok()) return s;
    live_->sealed.push_back({state_->DataKey(id_, live_->nonce, live_->buffer_offset),
                             live_->buffer_offset, live_->buffer.size(), nullptr});
    live_->buffer_offset += live_->buffer.size();
    live_->buffer.clear();
    return Status::Ok();
  }

  // Makes the blob from the upload's parts unless it exists; true when this
  // call created it. The writer is spent afterwards.
  Result<bool> Assemble(const Digest& digest) {
    if (digest.empty()) return Status::InvalidArgument(Subject::kDigest, "empty digest");
    std::lock_guard lock(live_->mu);
    if (live_->detached) return Spent();
    if (Status s = CheckOwnerLocked(); !s.ok()) return s;
    // The area keeps its bytes (Publish leaves it for the caller to remove).
    if (live_->dirty) {
      if (Status s = StoreBufferLocked(); !s.ok()) return s;
    }
    const std::string blob_key = state_->BlobKey(digest);
    auto existing = state_->client.HeadObject(blob_key, Subject::kBlob);
    if (existing.ok()) {
      live_->detached = true;
      return false;
    }
    if (!existing.status().IsNotFound()) return existing.status();
    std::vector<Segment> parts = live_->sealed;
    if (!live_->buffer.empty()) {
      parts.push_back({state_->DataKey(id_, live_->nonce, live_->buffer_offset),
                       live_->buffer_offset, live_->buffer.size(), nullptr});
    }
    if (Status s = CopyParts(parts, blob_key); !s.ok()) return s;
    live_->detached = true;
    return true;
  }

  Status CopyParts(const std::vector<Segment>& parts, const std::string& blob_key) {
    const S3Client& client = state_->client;
    if (parts.empty()) return client.PutObject(blob_key, "");
    if (parts.size() == 1) return client.CopyObject(parts[0].key, blob_key);
    auto upload_id = client.CreateMultipartUpload(blob_key);
    if (!upload_id.ok()) return upload_id.status();
    std::vector<std::string> etags;
    Status s;
    for (size_t i = 0; i < parts.size() && s.ok(); ++i) {
      auto etag = client.UploadPartCopy(blob_key, *upload_id, static_cast<int>(i + 1), parts[i].key,
                                        0, parts[i].size - 1);
      if (etag.ok()) {
        etags.push_back(std::move(*etag));
      } else {
        s = etag.status();
      }
    }
    if (s.ok()) s = client.CompleteMultipartUpload(blob_key, *upload_id, etags);
    if (!s.ok()) (void)client.AbortMultipartUpload(blob_key, *upload_id);
    return s;
  }

  std::shared_ptr<S3State> state_;
  std::string id_;
  std::shared_ptr<LiveUpload> live_;
};

class S3BlobStore final : public BlobStore {
 public:
  explicit S3BlobStore(std::shared_ptr<S3State> state) : state_(std::move(state)) {}

  Result<std::unique_ptr<UploadWriter>> CreateUpload(std::string_view id) override {
    if (Status s = ValidateUploadId(id); !s.ok()) return s;
    const std::string marker = state_->MarkerKey(id);
    // A HEAD first for stores that ignore If-None-Match on PUT; the
    // conditional PUT closes the race where they honour it.
    auto existing = state_->client.HeadObject(marker, Subject::kUpload);
    if (existing.ok()) return Status::Conflict(Subject::kUpload, "upload already exists");
    if (!existing.status().IsNotFound()) return existing.status();
    auto nonce = NewNonce();
    if (!nonce.ok()) return nonce.status();
    if (Status s = state_->client.PutObject(marker, *nonce, /*if_absent=*/true); !s.ok()) {
      if (s.code() == Code::kConflict) {
        return Status::Conflict(Subject::kUpload, "upload already exists");
      }
      return s;
    }
    auto live = std::make_shared<LiveUpload>();
    live->nonce = std::move(*nonce);
    return Writer(std::string(id), std::move(live));
  }

  Result<std::unique_ptr<UploadWriter>> OpenUpload(std::string_view id, uint64_t keep) override {
    if (Status s = ValidateUploadId(id); !s.ok()) return s;
    auto layout = state_->LoadLayout(id);
    if (!layout.ok()) return layout.status();
    if (layout->size() < keep) {
      return Status::RangeInvalid(Subject::kUpload, "upload holds fewer bytes than requested");
    }
    auto live = std::make_shared<LiveUpload>();
    live->nonce = layout->nonce;
    std::vector<std::string> drop;
    const S3Client& client = state_->client;
    for (Segment& segment : layout->chain) {
      const uint64_t end = segment.offset + segment.size;
      if (end <= keep) {
        live->sealed.push_back(std::move(segment));
      } else if (segment.offset < keep) {
        // `keep` cuts this part: its first bytes become the buffer, and the
        // shorter object replaces it at once (atomically), so that the
        // truncation is in the store before anything else changes.
        auto head = client.GetObjectRange(segment.key, 0, keep - segment.offset, Subject::kUpload);
        if (!head.ok()) return head.status();
        if (head->bytes.size() != keep - segment.offset) {
          return Status::Internal(
              core::StrCat({"s3 object ", segment.key, " is shorter than expected"}));
        }
        if (Status s = client.PutObject(segment.key, head->bytes); !s.ok()) return s;
        live->buffer_offset = segment.offset;
        live->buffer = std::move(head->bytes);
      } else {
        drop.push_back(std::move(segment.key));
      }
    }
    if (live->buffer.empty()) {
      live->buffer_offset = keep;
      // A last part that is not full is continued, not followed by a new one.
      if (!live->sealed.empty() && live->sealed.back().size < state_->options.part_size) {
        const Segment& last = live->sealed.back();
        auto bytes = client.GetObjectRange(last.key, 0, last.size, Subject::kUpload);
        if (!bytes.ok()) return bytes.status();
        if (bytes->bytes.size() != last.size) {
          return Status::Internal(
              core::StrCat({"s3 object ", last.key, " is shorter than expected"}));
        }
        live->buffer_offset = last.offset;
        live->buffer = std::move(bytes->bytes);
        live->sealed.pop_back();
      }
    }
    // In offset order: removing the object at `keep` first ends the chain
    // there even if a crash interrupts the rest.
    for (const std::string& key : drop) {
      if (Status s = client.DeleteObject(key); !s.ok()) return s;
    }
    for (const std::string& key : layout->strays) {
      if (Status s = client.DeleteObject(key); !s.ok()) return s;
    }
    return Writer(std::string(id), std::move(live));
  }

  Result<std::unique_ptr<BlobReader>> ReadUpload(std::string_view id) override {
    if (Status s = ValidateUploadId(id); !s.ok()) return s;
    if (auto live = state_->FindLive(id)) {
      std::lock_guard lock(live->mu);
      if (!live->detached) {
        std::vector<Segment> segments = live->sealed;
        const uint64_t size = live->buffer_offset + live->buffer.size();
        if (!live->buffer.empty()) {
          segments.push_back({"", live->buffer_offset, live->buffer.size(),
                              std::make_shared<const std::string>(live->buffer)});
        }
        return Reader(std::move(segments), size);
      }
    }
    auto layout = state_->LoadLayout(id);
    if (!layout.ok()) return layout.status();
    const uint64_t size = layout->size();
    // The last part may still be rewritten by its writer: it is read now.
    if (!layout->chain.empty() && layout->chain.back().size < state_->options.part_size) {
      Segment& last = layout->chain.back();
      auto bytes = state_->client.GetObjectRange(last.key, 0, last.size, Subject::kUpload);
      if (!bytes.ok()) return bytes.status();
      if (bytes->bytes.size() != last.size) {
        return Status::Conflict(Subject::kUpload, "upload changed while it was being read");
      }
      last.bytes = std::make_shared<const std::string>(std::move(bytes->bytes));
    }
    return Reader(std::move(layout->chain), size);
  }

  Status DeleteUpload(std::string_view id) override {
    if (Status s = ValidateUploadId(id); !s.ok()) return s;
    state_->Detach(id);
    return state_->DeleteUploadObjects(id);
  }

  Result<std::vector<std::string>> ListUploads() override {
    std::vector<ObjectInfo> markers;
    const std::string prefix = state_->Key("uploads/");
    if (Status s = state_->client.ListObjects(prefix, "/", &markers, nullptr); !s.ok()) return s;
    std::vector<std::string> ids;
    for (const ObjectInfo& marker : markers) {
      std::string id = marker.key.substr(prefix.size());
      if (ValidateUploadId(id).ok()) ids.push_back(std::move(id));
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  Result<std::unique_ptr<BlobReader>> OpenBlob(const Digest& digest) override {
    if (digest.empty()) return Status::InvalidArgument(Subject::kDigest, "empty digest");
    const std::string key = state_->BlobKey(digest);
    auto first = state_->client.GetObjectRange(key, 0, state_->options.read_ahead, Subject::kBlob);
    if (!first.ok()) return first.status();
    auto reader = std::make_unique<S3BlobReader>(
        state_, std::vector<Segment>{{key, 0, first->object_size, nullptr}}, first->object_size,
        Subject::kBlob);
    reader->Prefill(std::move(first->bytes));
    return std::unique_ptr<BlobReader>(std::move(reader));
  }

  Result<uint64_t> BlobSize(const Digest& digest) override {
    if (digest.empty()) return Status::InvalidArgument(Subject::kDigest, "empty digest");
    return state_->client.HeadObject(state_->BlobKey(digest), Subject::kBlob);
  }

  Result<std::string> PresignBlobGet(const Digest& digest, std::chrono::seconds lifetime) override {
    if (digest.empty()) return Status::InvalidArgument(Subject::kDigest, "empty digest");
    // S3 refuses a presigned URL valid for more than a week.
    if (lifetime.count() < 1 || lifetime > std::chrono::hours(24 * 7)) {
      return Status::InvalidArgument(Subject::kNone, "a direct URL lives 1 s to 7 days");
    }
    return state_->client.PresignGet(state_->BlobKey(digest), lifetime);
  }

  Status DeleteBlob(const Digest& digest) override {
    if (digest.empty()) return Status::InvalidArgument(Subject::kDigest, "empty digest");
    return state_->client.DeleteObject(state_->BlobKey(digest));
  }

  Result<std::vector<Digest>> ListBlobs() override {
    std::vector<Digest> digests;
    for (std::string_view algorithm : {"sha256", "sha512"}) {
      const std::string prefix = state_->Key(std::string(algorithm) + "/");
      auto objects = state_->client.ListObjects(prefix);
      if (!objects.ok()) return objects.status();
      for (const ObjectInfo& object : *objects) {
        // "<2 hex>/<hex>"; anything else under the prefix is not ours.
        std::string_view rest = std::string_view(object.key).substr(prefix.size());
        if (rest.size() < 4 || rest[2] != '/' || rest.substr(0, 2) != rest.substr(3, 2)) continue;
        auto digest = Digest::Parse(core::StrCat({algorithm, ":", rest.substr(3)}));
        if (digest.ok()) digests.push_back(std::move(*digest));
      }
    }
    std::sort(digests.begin(), digests.end());
    return digests;
  }

 private:
  Result<std::unique_ptr<UploadWriter>> Writer(std::string id, std::shared_ptr<LiveUpload> live) {
    state_->Attach(id, live);
    return std::unique_ptr<UploadWriter>(
        std::make_unique<S3UploadWriter>(state_, std::move(id), std::move(live)));
  }

  Result<std::unique_ptr<BlobReader>> Reader(std::vector<Segment> segments, uint64_t size) {
    return std::unique_ptr<BlobReader>(
        std::make_unique<S3BlobReader>(state_, std::move(segments), size, Subject::kUpload));
  }

  std::shared_ptr<S3State> state_;
};

}  // namespace

Status CheckS3Options(const S3Options& options) {
  auto invalid = [](std::string msg) { return Status::InvalidArgument(Subject::kNone, msg); };
  if (!options.endpoint.starts_with("http://") && !options.endpoint.starts_with("https://")) {
    return invalid("s3 endpoint must start with http:// or https://");
  }
  if (options.endpoint.find('/', options.endpoint.find("://") + 3) != std::string::npos &&
      !options.endpoint.ends_with("/")) {
    return invalid("s3 endpoint must not have a path (the bucket is addressed in the path)");
  }
  if (options.bucket.empty() || options.bucket.find('/') != std::string::npos) {
    return invalid("s3 bucket must be a non-empty name without '/'");
  }
  if (options.access_key.empty() || options.secret_key.empty()) {
    return invalid("s3 access key and secret key are required");
  }
  if (options.region.empty()) return invalid("s3 region must not be empty");
  if (options.part_size < kMinPartSize || options.part_size > kMaxPartSize) {
    return invalid("s3 part size must be between 5 MiB and 5 GiB");
  }
  if (options.read_ahead == 0) return invalid("s3 read-ahead must be positive");
  return Status::Ok();
}

Result<std::shared_ptr<BlobStore>> OpenS3BlobStoreWithTransport(
    const S3Options& options, std::shared_ptr<HttpTransport> transport, int list_page_size) {
  if (Status s = CheckS3Options(options); !s.ok()) return s;
  auto state = std::make_shared<S3State>(options, std::move(transport), list_page_size);
  Status reachable =
      options.create_bucket ? state->client.CreateBucket() : state->client.HeadBucket();
  if (!reachable.ok()) return reachable;
  return std::shared_ptr<BlobStore>(std::make_shared<S3BlobStore>(std::move(state)));
}

}  // namespace quay::storage::s3

namespace quay {

Result<std::shared_ptr<BlobStore>> OpenS3BlobStore(const S3Options& options) {
  if (Status s = storage::s3::CheckS3Options(options); !s.ok()) return s;
  storage::s3::HttpTransportOptions transport;
  transport.connect_timeout = options.connect_timeout;
  transport.stall_timeout = options.stall_timeout;
  transport.verify_tls = options.verify_tls;
  transport.ca_file = options.ca_file;
  return storage::s3::OpenS3BlobStoreWithTransport(options,
                                                   storage::s3::NewCurlTransport(transport));
}

}  // namespace quay
