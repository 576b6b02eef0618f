// The filesystem driver.
//
// On-disk layout under the root (the data dir):
//
//   <root>/blobs/<algorithm>/<first 2 hex>/<hex>   a committed blob, mode 0600 (folders 0700)
//   <root>/uploads/<upload id>                     in-progress bytes of one upload
//
// A blob appears only through rename(2) of a complete upload file, so a reader
// (or a restart after a crash) sees either no blob or all of its bytes. With
// `durable`, Commit makes the data and every directory entry on the path
// durable before it returns: on a journaling filesystem (ext4, XFS, btrfs)
// with one fsync of the file after its name is in place, elsewhere with an
// fsync of the data and then of each directory changed (see Layout). Everything else in the store
// is stateless system calls, so the store is safe to share between threads and processes; the only
// in-memory state is a cache of directories already known to be durable.
//
// All I/O goes through POSIX calls that report errors as errno values; nothing
// here throws.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/private_files.h"
#include "quay/storage.h"
#include "storage/direct_appender.h"
#include "storage/hashing_writer.h"
#include "storage/synced_size.h"
#include "storage/upload_id_validation.h"

namespace quay {
namespace {

// Blobs are private images: no group or other bits whatever the umask
// (core/private_files.h).
constexpr mode_t kDirMode = core::kPrivateDirMode;
constexpr mode_t kFileMode = core::kPrivateFileMode;

// Errors that may go away on retry (fd exhaustion) are Unavailable so a host
// can answer "try later", a full disk is NoSpace (it goes away only once space
// is freed); anything else is an unexpected failure.
Status ErrnoStatus(std::string_view action, const std::string& path, int err) {
  std::string msg = "failed to ";
  msg.append(action).append(" ").append(path).append(": ").append(std::strerror(err));
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return Status::NoSpace(std::move(msg));
    case EAGAIN:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
    case EBUSY:
      return Status::Unavailable(std::move(msg));
    default:
      return Status::Internal(std::move(msg));
  }
}

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // A close error is ignored: data that must be durable was fsync'd before,
  // and retrying close(2) after EINTR is wrong on Linux.
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

int OpenRetrying(const std::string& path, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

int FsyncRetrying(int fd) {
  int rc;
  do {
    rc = ::fsync(fd);
  } while (rc < 0 && errno == EINTR);
  return rc;
}

// Makes the entries of `dir` (files created, renamed or removed in it) durable.
Status FsyncDir(const std::string& dir) {
  UniqueFd fd(OpenRetrying(dir, O_RDONLY | O_DIRECTORY));
  if (!fd.valid()) return ErrnoStatus("open directory", dir, errno);
  if (FsyncRetrying(fd.get()) < 0) return ErrnoStatus("fsync directory", dir, errno);
  return Status::Ok();
}

// `path` has no trailing slash (OpenFilesystemBlobStore trims them).
std::string ParentOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

struct DirEntry {
  std::string name;
  bool is_dir = false;
  bool is_file = false;
};

// The entries of `dir` except "." and "..". A missing directory is empty: a
// concurrent DeleteBlob or another process may remove what we just listed.
Status ReadDirEntries(const std::string& dir, std::vector<DirEntry>* out) {
  out->clear();
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return Status::Ok();
    return ErrnoStatus("open directory", dir, errno);
  }
  Status status;
  for (;;) {
    errno = 0;
    const dirent* e = ::readdir(d);
    if (e == nullptr) {
      if (errno != 0) status = ErrnoStatus("read directory", dir, errno);
      break;
    }
    std::string_view name(e->d_name);
    if (name == "." || name == "..") continue;
    DirEntry entry{std::string(name)};
    unsigned char type = e->d_type;
    if (type == DT_UNKNOWN) {
      // Some filesystems (XFS without ftype, some network ones) leave d_type empty.
      struct stat st;
      if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
      }
    }
    entry.is_dir = type == DT_DIR;
    entry.is_file = type == DT_REG;
    out->push_back(std::move(entry));
  }
  ::closedir(d);
  return status;
}

// Whether the ext4 file system holding `path` has a journal. ext4 runs
// without one when made with `-O ^has_journal` (the development machine of
// 2026-12-03 is such a one: /sys/fs/ext4/vda/journal_task reads "<none>"),
// and ext2 mounted as ext4 shares the magic number. The kernel names the
// journal's thread in /sys/fs/ext4/<device>/journal_task; anything we cannot
// read counts as no journal, which only costs directory fsyncs.
bool Ext4HasJournal(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return false;
  const std::string dev_link =
      "/sys/dev/block/" + std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
  char target[PATH_MAX];
  const ssize_t n = ::readlink(dev_link.c_str(), target, sizeof(target) - 1);
  if (n <= 0) return false;
  target[n] = '\0';
  const char* name = std::strrchr(target, '/');
  name = name ? name + 1 : target;
  UniqueFd fd(OpenRetrying(std::string("/sys/fs/ext4/") + name + "/journal_task", O_RDONLY));
  if (!fd.valid()) return false;
  char task[64];
  const ssize_t r = ::read(fd.get(), task, sizeof(task) - 1);
  if (r <= 0) return false;
  task[r] = '\0';
  return std::strncmp(task, "<none>", 6) != 0 && task[0] != '\n';
}

// Whether fsync(2) of a file also makes durable every directory change made
// before it, so that a blob's new name needs no fsync of its directory.
// POSIX promises only the file's own data and inode, but the journaling
// filesystems named here commit metadata in order: ext4 with its journal
// (jbd2) commits the transaction holding the inode's last change, which holds
// the link(2) or rename(2) that named it and every earlier mkdir(2); XFS
// forces its log up to the inode's last change the same way; btrfs logs an
// fsync'd inode's new names with it. One fsync then does the work of three
// (data, the blob's directory, and a new fan-out directory's parent), which
// is most of the cost of a small durable push. Anything else (NFS, FUSE,
// ext4 without a journal, whose fsync syncs at most one parent of one of the
// inode's names) takes the strict path: data first, then each directory.
bool NamesFollowFileSync(const std::string& root) {
  struct statfs fs;
  if (::statfs(root.c_str(), &fs) != 0) return false;
  switch (static_cast<unsigned long>(fs.f_type)) {
    case 0xEF53UL:  // EXT4_SUPER_MAGIC (also ext3, and ext2 mounted as ext4)
      return Ext4HasJournal(root);
    case 0x58465342UL:  // XFS_SUPER_MAGIC
    case 0x9123683EUL:  // BTRFS_SUPER_MAGIC
      return true;
    default:
      return false;
  }
}

// Uploads bypass the page cache unless QUAY_DIRECT_IO=0 (a diagnostic, to
// measure the difference: docs/performance.md, issue 15).
bool DirectIoWanted() {
  const char* v = std::getenv("QUAY_DIRECT_IO");
  return v == nullptr || std::string_view(v) != "0";
}

// An upload's writer starts writeback of what it has written every this many
// bytes (sync_file_range), so that the fsync before a chunk is acknowledged,
// or before a blob is committed, finds little left to write: the disk works
// while the body is still arriving instead of after it.
constexpr uint64_t kWritebackEvery = 4u << 20;

// The extended attribute in which Sync() records the size it made durable
// (storage/synced_size.h): decimal digits.
constexpr const char* kSyncedSizeAttr = "user.quay.synced";

bool RecordSyncedSize(int fd, uint64_t size) {
  const std::string text = std::to_string(size);
  return ::fsetxattr(fd, kSyncedSizeAttr, text.data(), text.size(), 0) == 0;
}

// The recorded size, if any (and readable as one).
std::optional<uint64_t> ReadSyncedSize(const std::string& path) {
  char buf[24];
  const ssize_t n = ::getxattr(path.c_str(), kSyncedSizeAttr, buf, sizeof(buf) - 1);
  if (n <= 0) return std::nullopt;
  uint64_t value = 0;
  for (ssize_t i = 0; i < n; ++i) {
    if (buf[i] < '0' || buf[i] > '9' || value > (UINT64_MAX - 9) / 10) return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(buf[i] - '0');
  }
  return value;
}

// The paths of one store and the durability bookkeeping its writers share.
class Layout {
 public:
  Layout(std::string root, bool durable)
      : root_(std::move(root)),
        blobs_(root_ + "/blobs"),
        uploads_(root_ + "/uploads"),
        durable_(durable),
        names_follow_file_sync_(durable && NamesFollowFileSync(root_)),
        direct_io_(durable && DirectIoWanted()) {}

  const std::string& root() const { return root_; }
  const std::string& blobs() const { return blobs_; }
  const std::string& uploads() const { return uploads_; }
  bool durable() const { return durable_; }
  // Durable, and a file's fsync also makes its names durable
  // (NamesFollowFileSync): no directory is fsync'd on the push path.
  bool names_follow_file_sync() const { return names_follow_file_sync_; }

  // The upload file at `path` opened once more, with O_DIRECT, for a durable
  // writer (storage/direct_appender.h); invalid where the file system refuses
  // it (tmpfs: EINVAL), which is remembered, or without durability.
  UniqueFd OpenDirect(const std::string& path) {
    if (!direct_io_.load(std::memory_order_relaxed)) return UniqueFd();
    UniqueFd fd(OpenRetrying(path, O_RDWR | O_DIRECT));
    if (!fd.valid() && errno == EINVAL) direct_io_.store(false, std::memory_order_relaxed);
    return fd;
  }

  // Upload areas whose entry in uploads/ is durable: a Sync fsync'd the
  // directory after the area's file was created. A chunked push has one
  // writer per PATCH; only the first pays for that fsync. Forgotten whenever
  // the file under the id changes (created, copied, removed).
  bool UploadEntryDurable(std::string_view id) {
    std::lock_guard lock(mu_);
    return durable_upload_entries_.contains(std::string(id));
  }
  void NoteUploadEntryDurable(std::string_view id) {
    std::lock_guard lock(mu_);
    durable_upload_entries_.insert(std::string(id));
  }
  void ForgetUploadEntry(std::string_view id) {
    std::lock_guard lock(mu_);
    durable_upload_entries_.erase(std::string(id));
  }

  std::string UploadPath(std::string_view id) const { return uploads_ + "/" + std::string(id); }
  std::string BlobAlgorithmDir(const Digest& d) const {
    return blobs_ + "/" + std::string(d.algorithm_name());
  }
  std::string BlobDir(const Digest& d) const {
    return BlobAlgorithmDir(d) + "/" + std::string(d.hex().substr(0, 2));
  }
  std::string BlobPath(const Digest& d) const { return BlobDir(d) + "/" + std::string(d.hex()); }

  // mkdir -p for a blob's directory. With durability, each level's entry in its
  // parent is fsync'd before the level is trusted (unless the blob's own
  // fsync, which comes later, makes it durable too). Levels are remembered once
  // durable: a directory that merely exists may have been created by a
  // concurrent Commit that has not finished its fsync yet, so existence alone
  // is not enough to skip the parent's fsync.
  Status EnsureBlobDir(const Digest& d) {
    if (Status s = EnsureDir(BlobAlgorithmDir(d), blobs_); !s.ok()) return s;
    return EnsureDir(BlobDir(d), BlobAlgorithmDir(d));
  }

 private:
  Status EnsureDir(const std::string& dir, const std::string& parent) {
    if (durable_) {
      std::lock_guard lock(mu_);
      if (durable_dirs_.contains(dir)) return Status::Ok();
    }
    bool created = true;
    if (::mkdir(dir.c_str(), kDirMode) < 0) {
      if (errno != EEXIST) return ErrnoStatus("create directory", dir, errno);
      created = false;
    }
    if (!durable_ || names_follow_file_sync_) return Status::Ok();
    if (Status s = FsyncDir(parent); !s.ok()) {
      // Best effort: without its entry durable the directory must not look
      // settled to a later Commit. Fails harmlessly if another blob is in it.
      if (created) ::rmdir(dir.c_str());
      return s;
    }
    std::lock_guard lock(mu_);
    durable_dirs_.insert(dir);
    return Status::Ok();
  }

  const std::string root_;
  const std::string blobs_;
  const std::string uploads_;
  const bool durable_;
  const bool names_follow_file_sync_;
  std::atomic<bool> direct_io_;

  std::mutex mu_;
  std::set<std::string> durable_dirs_;            // guarded by mu_
  std::set<std::string> durable_upload_entries_;  // guarded by mu_
};

// Reads a file through its descriptor with pread(2): the descriptor pins the
// inode, so unlinking the blob (DeleteBlob, GC) does not disturb the reader.
class FileBlobReader final : public BlobReader {
 public:
  FileBlobReader(UniqueFd fd, uint64_t size, std::string path)
      : fd_(std::move(fd)), size_(size), path_(std::move(path)) {}

  uint64_t size() const override { return size_; }

  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) override {
    // Bounded by the size seen at open, so an upload that keeps growing reads
    // as the snapshot size() describes.
    if (offset >= size_) return size_t{0};
    n = static_cast<size_t>(std::min<uint64_t>(n, size_ - offset));
    size_t done = 0;
    while (done < n) {
      const ssize_t r = ::pread(fd_.get(), buf + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("read", path_, errno);
      }
      if (r == 0) break;  // truncated underneath us (an upload reopened with a smaller keep)
      done += static_cast<size_t>(r);
    }
    return done;
  }

 private:
  UniqueFd fd_;
  uint64_t size_;
  std::string path_;
};

class FileUploadWriter final : public UploadWriter,
                               public storage::SizeRecordingWriter,
                               public storage::HashingWriter {
 public:
  FileUploadWriter(std::shared_ptr<Layout> layout, std::string id, UniqueFd fd, uint64_t size)
      : layout_(std::move(layout)),
        id_(std::move(id)),
        path_(layout_->UploadPath(id_)),
        fd_(std::move(fd)),
        size_(size),
        written_back_(size) {}

  // Keeps what was appended in the area, as the interface promises; an error
  // here only loses unacknowledged bytes, which a resume cuts off anyway.
  ~FileUploadWriter() override { (void)Flush(); }

  uint64_t size() const override { return size_; }

  Status Flush() override {
    if (!direct_) return Status::Ok();
    if (int rc = direct_->Flush(); rc != 0) return ErrnoStatus("write", path_, rc);
    return Status::Ok();
  }

  // No fsync here: an upload's bytes become durable at Sync (before a chunk
  // is acknowledged) or Commit. A crash loses at most unacknowledged tails,
  // which OpenUpload's `keep` cuts off.
  Status Append(const char* data, size_t n) override {
    if (!fd_.valid()) return Status::NotFound(Subject::kUpload, "upload already committed");
    if (!direct_tried_) OpenDirect();
    if (direct_) {
      if (int rc = direct_->Append(data, n); rc != 0) return ErrnoStatus("write", path_, rc);
      size_ += n;
      return Status::Ok();
    }
    while (n > 0) {
      const ssize_t w = ::write(fd_.get(), data, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("write", path_, errno);
      }
      if (w == 0) return ErrnoStatus("write", path_, ENOSPC);  // no progress: treat as full
      data += w;
      n -= static_cast<size_t>(w);
      size_ += static_cast<uint64_t>(w);  // size() reports what really reached the file
    }
    if (layout_->durable() && size_ - written_back_ >= kWritebackEvery) {
      // Only starts the writes (no wait, no metadata): a hint, so its
      // failure changes nothing; the fsync that follows reports real errors.
      (void)::sync_file_range(fd_.get(), static_cast<off_t>(written_back_),
                              static_cast<off_t>(size_ - written_back_), SYNC_FILE_RANGE_WRITE);
      written_back_ = size_;
    }
    return Status::Ok();
  }

  bool last_sync_recorded_size() const override { return recorded_; }

  bool HashAppends(Digester& digester) override {
    if (!fd_.valid()) return false;
    if (!direct_tried_) OpenDirect();
    if (!direct_) return false;
    direct_->HashInto(std::move(digester));
    return true;
  }

  std::optional<Digester> TakeDigester() override {
    if (!direct_ || !direct_->hashing()) return std::nullopt;
    return direct_->TakeDigester();
  }

  Status Sync() override {
    recorded_ = false;
    if (!fd_.valid()) return Status::NotFound(Subject::kUpload, "upload already committed");
    if (Status s = Flush(); !s.ok()) return s;
    if (!layout_->durable()) return Status::Ok();
    // The size first, so that the fsync below makes it durable with the
    // bytes it counts (inode metadata: fsync, not fdatasync). A filesystem
    // without user attributes just leaves the offset to the database.
    const bool recorded = RecordSyncedSize(fd_.get(), size_);
    if (FsyncRetrying(fd_.get()) < 0) return ErrnoStatus("fsync", path_, errno);
    // The area's entry in uploads/ too, once per area: without it the file
    // could vanish in a power loss and take the acknowledged bytes with it.
    // Not at creation: a monolithic push (POST, PUT) never syncs its area and
    // should not pay for the directory either. Where names follow the file's
    // fsync, the one above already did it.
    if (!entry_synced_ && !layout_->names_follow_file_sync()) {
      if (!layout_->UploadEntryDurable(id_)) {
        if (Status s = FsyncDir(layout_->uploads()); !s.ok()) return s;
        layout_->NoteUploadEntryDurable(id_);
      }
      entry_synced_ = true;
    }
    recorded_ = recorded;
    return Status::Ok();
  }

  Status Commit(const Digest& digest) override {
    auto published = Place(digest, /*keep_upload=*/false);
    return published.ok() ? Status::Ok() : published.status();
  }

  Result<bool> Publish(const Digest& digest) override { return Place(digest, true); }

 private:
  // Puts the bytes in place as the blob `digest`. Order, with durability: the
  // data is fsync'd, then the blob's name appears, then its directory is
  // fsync'd; where names follow the file's fsync, the name appears first and
  // one fsync of the file then makes data and name durable. Either way the
  // caller writes the row after that. With `keep_upload` the blob
  // is a second hard link to the upload's file and the upload's own name
  // stays until the caller removes it after the row: a kill between the two
  // then leaves a session that still has every byte it acknowledged, instead
  // of a session row whose area is gone (which the next start would delete).
  // True when this call created the blob.
  Result<bool> Place(const Digest& digest, bool keep_upload) {
    if (!fd_.valid()) return Status::NotFound(Subject::kUpload, "upload already committed");
    if (digest.empty()) return Status::InvalidArgument(Subject::kDigest, "empty digest");
    const bool durable = layout_->durable();

    if (Status s = Flush(); !s.ok()) return s;
    if (Status s = CheckStillOurUpload(); !s.ok()) return s;
    if (Status s = layout_->EnsureBlobDir(digest); !s.ok()) return s;

    const std::string blob_path = layout_->BlobPath(digest);
    struct stat st;
    if (::stat(blob_path.c_str(), &st) == 0) {
      // Content-addressed: the existing blob has these very bytes. Keeping it
      // rather than renaming over it leaves its inode (and readers) alone.
      // The upload's removal need not be durable: an area that reappears
      // after a power loss has no session row and Reconcile() removes it.
      if (!keep_upload) layout_->ForgetUploadEntry(id_);
      if (!keep_upload && ::unlink(path_.c_str()) < 0 && errno != ENOENT) {
        return ErrnoStatus("remove upload", path_, errno);
      }
      CloseFiles();
      return false;
    }
    // A blob carries no session bookkeeping (it would outlive the session
    // as a stale attribute of a hard-linked inode). Best effort: the
    // attribute is read only on upload areas, so a filesystem that refuses
    // to remove it must not fail the commit.
    (void)::fremovexattr(fd_.get(), kSyncedSizeAttr);
    const bool sync_after_naming = durable && layout_->names_follow_file_sync();
    if (durable && !sync_after_naming && FsyncRetrying(fd_.get()) < 0) {
      return ErrnoStatus("fsync", path_, errno);
    }
    bool linked = false;
    if (keep_upload) {
      if (::link(path_.c_str(), blob_path.c_str()) == 0) {
        linked = true;
      } else if (errno == EEXIST) {
        // A concurrent commit of the same digest won since the stat: same bytes.
        CloseFiles();
        return false;
      } else if (errno == ENOENT) {
        return Status::NotFound(Subject::kUpload, "upload was removed");
      } else if (errno != EPERM && errno != EOPNOTSUPP && errno != EMLINK) {
        return ErrnoStatus("link upload to", blob_path, errno);
      }
      // A filesystem without hard links: rename, and the upload is gone
      // before its row (the window the link closes stays open there).
    }
    // A concurrent Commit of the same digest may win between stat and rename;
    // rename then replaces identical bytes atomically, which readers never see.
    if (!linked) layout_->ForgetUploadEntry(id_);  // renamed away: the entry goes
    if (!linked && ::rename(path_.c_str(), blob_path.c_str()) < 0) {
      if (errno == ENOENT) return Status::NotFound(Subject::kUpload, "upload was removed");
      return ErrnoStatus("rename upload to", blob_path, errno);
    }
    if (sync_after_naming) {
      // Data and name in one. The digest lock the caller holds keeps any
      // other commit of this digest from taking the visible name for a
      // durable blob before this returns.
      if (FsyncRetrying(fd_.get()) < 0) {
        const int err = errno;
        // The bytes may not be on disk: a linked name goes (the upload keeps
        // them and may be retried); a renamed one stays as an unreferenced
        // blob of correct bytes, which GC removes.
        if (linked) ::unlink(blob_path.c_str());
        return ErrnoStatus("fsync", blob_path, err);
      }
      CloseFiles();
      return true;
    }
    CloseFiles();
    if (!durable) return true;
    // The blob is visible from here on; a failure below only means its entry
    // may not survive a crash yet.
    // Only the new entry must be durable; the vanished upload entry may come
    // back after a power loss as an orphan area, which Reconcile() removes.
    if (Status s = FsyncDir(layout_->BlobDir(digest)); !s.ok()) return s;
    return true;
  }

  // A DeleteUpload plus a CreateUpload of the same id while this writer lived
  // would otherwise commit someone else's bytes under our digest.
  Status CheckStillOurUpload() const {
    struct stat ours, named;
    if (::fstat(fd_.get(), &ours) < 0) return ErrnoStatus("stat", path_, errno);
    if (::stat(path_.c_str(), &named) < 0) {
      if (errno == ENOENT) return Status::NotFound(Subject::kUpload, "upload was removed");
      return ErrnoStatus("stat", path_, errno);
    }
    if (ours.st_dev != named.st_dev || ours.st_ino != named.st_ino) {
      return Status::NotFound(Subject::kUpload, "upload was removed");
    }
    return Status::Ok();
  }

  // At the first append, not at creation: a POST that starts a session
  // writes nothing and should not pay for a second open. Without O_DIRECT
  // (refused, or no durability) the bytes go through the page cache.
  void OpenDirect() {
    direct_tried_ = true;
    direct_fd_ = layout_->OpenDirect(path_);
    if (!direct_fd_.valid()) return;
    direct_ = storage::DirectAppender::Open(direct_fd_.get(), fd_.get(), size_);
    if (!direct_) direct_fd_.Reset();
  }

  // The writer is spent: the appender first, since it writes through both.
  void CloseFiles() {
    direct_.reset();
    direct_fd_.Reset();
    fd_.Reset();
  }

  std::shared_ptr<Layout> layout_;
  std::string id_;
  std::string path_;
  UniqueFd fd_;         // invalid once committed
  UniqueFd direct_fd_;  // O_DIRECT, when the file system takes it
  // Declared after the descriptors it writes through, so destroyed first.
  std::unique_ptr<storage::DirectAppender> direct_;
  uint64_t size_;
  uint64_t written_back_ = 0;  // bytes whose writeback Append has started
  bool direct_tried_ = false;  // OpenDirect() ran
  bool recorded_ = false;      // the last Sync() recorded size_ (synced_size.h)
  bool entry_synced_ = false;  // uploads/ fsync'd since this writer opened
};

class FilesystemBlobStore final : public BlobStore, public storage::SyncedSizeStore {
 public:
  explicit FilesystemBlobStore(std::shared_ptr<Layout> layout) : layout_(std::move(layout)) {}

  Result<std::unique_ptr<UploadWriter>> CreateUpload(std::string_view id) override {
    if (Status s = storage::ValidateUploadId(id); !s.ok()) return s;
    const std::string path = layout_->UploadPath(id);
    UniqueFd fd(OpenRetrying(path, O_WRONLY | O_CREAT | O_EXCL, kFileMode));
    if (fd.valid()) layout_->ForgetUploadEntry(id);  // a new file, a new entry
    if (!fd.valid()) {
      if (errno == EEXIST) return Status::Conflict(Subject::kUpload, "upload already exists");
      return ErrnoStatus("create upload", path, errno);
    }
    return std::unique_ptr<UploadWriter>(
        std::make_unique<FileUploadWriter>(layout_, std::string(id), std::move(fd), 0));
  }

  Result<std::unique_ptr<UploadWriter>> OpenUpload(std::string_view id, uint64_t keep) override {
    if (Status s = storage::ValidateUploadId(id); !s.ok()) return s;
    const std::string path = layout_->UploadPath(id);
    UniqueFd fd(OpenRetrying(path, O_WRONLY));
    if (!fd.valid()) {
      if (errno == ENOENT) return Status::NotFound(Subject::kUpload, "upload unknown");
      return ErrnoStatus("open upload", path, errno);
    }
    struct stat st;
    if (::fstat(fd.get(), &st) < 0) return ErrnoStatus("stat", path, errno);
    if (static_cast<uint64_t>(st.st_size) < keep) {
      return Status::RangeInvalid(Subject::kUpload, "upload holds fewer bytes than requested");
    }
    if (st.st_nlink > 1) {
      // Still a hard link of a blob (a kill after Publish, before the row or
      // before the area's removal): truncating or appending would change
      // the blob's bytes under its digest, so the session gets its own copy.
      layout_->ForgetUploadEntry(id);  // the copy is a new entry
      auto copied = Detach(path, keep);
      if (!copied.ok()) return copied.status();
      fd = std::move(*copied);
    }
    int rc;
    do {
      rc = ::ftruncate(fd.get(), static_cast<off_t>(keep));
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) return ErrnoStatus("truncate", path, errno);
    // A size recorded past `keep` (a Sync whose offset the session never
    // saved) no longer describes the area.
    if (auto recorded = ReadSyncedSize(path); recorded && *recorded > keep) {
      if (!RecordSyncedSize(fd.get(), keep) && ::fremovexattr(fd.get(), kSyncedSizeAttr) < 0 &&
          errno != ENODATA) {
        return ErrnoStatus("clear attribute of", path, errno);
      }
    }
    if (::lseek(fd.get(), 0, SEEK_END) < 0) return ErrnoStatus("seek", path, errno);
    return std::unique_ptr<UploadWriter>(
        std::make_unique<FileUploadWriter>(layout_, std::string(id), std::move(fd), keep));
  }

  Result<std::unique_ptr<BlobReader>> ReadUpload(std::string_view id) override {
    if (Status s = storage::ValidateUploadId(id); !s.ok()) return s;
    return OpenReader(layout_->UploadPath(id), Subject::kUpload, "upload unknown");
  }

  Status DeleteUpload(std::string_view id) override {
    if (Status s = storage::ValidateUploadId(id); !s.ok()) return s;
    layout_->ForgetUploadEntry(id);
    return RemoveFile(layout_->UploadPath(id), "remove upload");
  }

  Result<std::optional<uint64_t>> SyncedUploadSize(std::string_view id) override {
    if (Status s = storage::ValidateUploadId(id); !s.ok()) return s;
    const std::string path = layout_->UploadPath(id);
    struct stat st;
    if (::stat(path.c_str(), &st) < 0) {
      if (errno == ENOENT) return Status::NotFound(Subject::kUpload, "upload unknown");
      return ErrnoStatus("stat", path, errno);
    }
    std::optional<uint64_t> recorded = ReadSyncedSize(path);
    if (recorded && *recorded > static_cast<uint64_t>(st.st_size)) recorded.reset();
    return recorded;
  }

  Result<std::vector<std::string>> ListUploads() override {
    std::vector<DirEntry> entries;
    if (Status s = ReadDirEntries(layout_->uploads(), &entries); !s.ok()) return s;
    std::vector<std::string> ids;
    for (auto& e : entries) {
      if (e.is_file && storage::ValidateUploadId(e.name).ok()) ids.push_back(std::move(e.name));
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  Result<std::unique_ptr<BlobReader>> OpenBlob(const Digest& digest) override {
    if (digest.empty()) return Status::InvalidArgument(Subject::kDigest, "empty digest");
    return OpenReader(layout_->BlobPath(digest), Subject::kBlob, "blob unknown");
  }

  Result<uint64_t> BlobSize(const Digest& digest) override {
    if (digest.empty()) return Status::InvalidArgument(Subject::kDigest, "empty digest");
    const std::string path = layout_->BlobPath(digest);
    struct stat st;
    if (::stat(path.c_str(), &st) < 0) {
      if (errno == ENOENT || errno == ENOTDIR)
        return Status::NotFound(Subject::kBlob, "blob unknown");
      return ErrnoStatus("stat", path, errno);
    }
    if (!S_ISREG(st.st_mode)) return Status::NotFound(Subject::kBlob, "blob unknown");
    return static_cast<uint64_t>(st.st_size);
  }

  // Empty prefix directories are left in place: at most 256 per algorithm, and
  // removing one would race with a Commit about to rename into it.
  Status DeleteBlob(const Digest& digest) override {
    if (digest.empty()) return Status::InvalidArgument(Subject::kDigest, "empty digest");
    return RemoveFile(layout_->BlobPath(digest), "remove blob");
  }

  // Walks blobs/<algorithm>/<prefix>/ and keeps only names that are the digest
  // their place in the tree says they are; anything else (temp files, editor
  // droppings, misplaced files) is not a blob.
  Result<std::vector<Digest>> ListBlobs() override {
    std::vector<Digest> digests;
    std::vector<DirEntry> algorithms, prefixes, files;
    if (Status s = ReadDirEntries(layout_->blobs(), &algorithms); !s.ok()) return s;
    for (const auto& algorithm : algorithms) {
      if (!algorithm.is_dir) continue;
      const std::string algorithm_dir = layout_->blobs() + "/" + algorithm.name;
      if (Status s = ReadDirEntries(algorithm_dir, &prefixes); !s.ok()) return s;
      for (const auto& prefix : prefixes) {
        if (!prefix.is_dir || prefix.name.size() != 2) continue;
        if (Status s = ReadDirEntries(algorithm_dir + "/" + prefix.name, &files); !s.ok()) return s;
        for (const auto& file : files) {
          if (!file.is_file) continue;
          auto digest = Digest::Parse(algorithm.name + ":" + file.name);
          if (!digest.ok() || digest->algorithm_name() != algorithm.name ||
              digest->hex().substr(0, 2) != prefix.name) {
            continue;
          }
          digests.push_back(std::move(digest).value());
        }
      }
    }
    std::sort(digests.begin(), digests.end());
    return digests;
  }

 private:
  static Result<std::unique_ptr<BlobReader>> OpenReader(const std::string& path, Subject subject,
                                                        const char* missing) {
    UniqueFd fd(OpenRetrying(path, O_RDONLY));
    if (!fd.valid()) {
      if (errno == ENOENT || errno == ENOTDIR) return Status::NotFound(subject, missing);
      return ErrnoStatus("open", path, errno);
    }
    struct stat st;
    if (::fstat(fd.get(), &st) < 0) return ErrnoStatus("stat", path, errno);
    if (!S_ISREG(st.st_mode)) return Status::NotFound(subject, missing);
    return std::unique_ptr<BlobReader>(
        std::make_unique<FileBlobReader>(std::move(fd), static_cast<uint64_t>(st.st_size), path));
  }

  // Replaces the upload file at `path` by a new file holding the first `keep`
  // bytes of `from`, and returns it open for writing. The copy is written
  // under a name ListUploads ignores (it is not an upload id) and renamed
  // over the area, so a crash midway leaves the shared area as it was.
  Result<UniqueFd> Detach(const std::string& path, uint64_t keep) {
    UniqueFd in(OpenRetrying(path, O_RDONLY));
    if (!in.valid()) return ErrnoStatus("open upload", path, errno);
    const int from = in.get();
    const std::string temp = path + ".detach";
    UniqueFd out(OpenRetrying(temp, O_RDWR | O_CREAT | O_TRUNC, kFileMode));
    if (!out.valid()) return ErrnoStatus("create", temp, errno);
    std::vector<char> buf(1 << 20);
    uint64_t pos = 0;
    while (pos < keep) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), keep - pos));
      const ssize_t r = ::pread(from, buf.data(), want, static_cast<off_t>(pos));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        const int err = r < 0 ? errno : EIO;
        ::unlink(temp.c_str());
        return ErrnoStatus("read", path, err);
      }
      for (size_t done = 0; done < static_cast<size_t>(r);) {
        const ssize_t w = ::write(out.get(), buf.data() + done, static_cast<size_t>(r) - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
          const int err = w < 0 ? errno : ENOSPC;
          ::unlink(temp.c_str());
          return ErrnoStatus("write", temp, err);
        }
        done += static_cast<size_t>(w);
      }
      pos += static_cast<uint64_t>(r);
    }
    if (layout_->durable() && FsyncRetrying(out.get()) < 0) {
      const int err = errno;
      ::unlink(temp.c_str());
      return ErrnoStatus("fsync", temp, err);
    }
    if (::rename(temp.c_str(), path.c_str()) < 0) {
      const int err = errno;
      ::unlink(temp.c_str());
      return ErrnoStatus("rename", temp, err);
    }
    return out;
  }

  static Status RemoveFile(const std::string& path, std::string_view action) {
    if (::unlink(path.c_str()) < 0 && errno != ENOENT && errno != ENOTDIR) {
      return ErrnoStatus(action, path, errno);
    }
    return Status::Ok();
  }

  std::shared_ptr<Layout> layout_;
};

// mkdir that accepts an existing directory (and only a directory).
Status MakeDir(const std::string& dir, bool* created) {
  *created = false;
  if (::mkdir(dir.c_str(), kDirMode) == 0) {
    *created = true;
    return Status::Ok();
  }
  if (errno != EEXIST) return ErrnoStatus("create directory", dir, errno);
  struct stat st;
  if (::stat(dir.c_str(), &st) < 0) return ErrnoStatus("stat", dir, errno);
  if (!S_ISDIR(st.st_mode)) return ErrnoStatus("create directory", dir, ENOTDIR);
  return Status::Ok();
}

// mkdir -p for the root; parents that already exist are left as they are.
Status MakeDirs(const std::string& dir, bool* created) {
  *created = false;
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return ErrnoStatus("use as directory", dir, ENOTDIR);
    return Status::Ok();
  }
  const std::string parent = ParentOf(dir);
  if (parent != dir && parent != "." && parent != "/") {
    bool parent_created;
    if (Status s = MakeDirs(parent, &parent_created); !s.ok()) return s;
  }
  return MakeDir(dir, created);
}

}  // namespace

Result<std::shared_ptr<BlobStore>> OpenFilesystemBlobStore(const std::string& root, bool durable) {
  if (root.empty()) return Status::InvalidArgument(Subject::kNone, "blob store root is empty");
  std::string trimmed = root;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();

  auto layout = std::make_shared<Layout>(trimmed, durable);
  bool root_created, blobs_created, uploads_created;
  if (Status s = MakeDirs(layout->root(), &root_created); !s.ok()) return s;
  if (Status s = MakeDir(layout->blobs(), &blobs_created); !s.ok()) return s;
  if (Status s = MakeDir(layout->uploads(), &uploads_created); !s.ok()) return s;
  if (durable) {
    // Commit only fsyncs below blobs/ and uploads/, so their own entries (and
    // the root's, when we made it) are made durable here, once.
    if (blobs_created || uploads_created) {
      if (Status s = FsyncDir(layout->root()); !s.ok()) return s;
    }
    if (root_created) {
      if (Status s = FsyncDir(ParentOf(layout->root())); !s.ok()) return s;
    }
  }
  return std::shared_ptr<BlobStore>(std::make_shared<FilesystemBlobStore>(std::move(layout)));
}

}  // namespace quay
