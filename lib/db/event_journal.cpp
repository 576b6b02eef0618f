#include "db/event_journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
// Inlined: the hash of a few hundred bytes should not cost a call through
// the PLT.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "core/private_files.h"

namespace quay::db {
namespace {

Status Errno(const std::string& what) {
  return Status::Unavailable(what + ": " + std::strerror(errno));
}

void PutU32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

// The record checksum: the low half of XXH3-64, which runs at memory speed
// (CRC-32 from zlib was a visible share of the writer's time per pull).
uint32_t Crc(std::string_view payload) {
  return static_cast<uint32_t>(XXH3_64bits(payload.data(), payload.size()));
}

// Segment numbers of the *.log files in `dir`, parsed from their names.
std::vector<uint64_t> ListSegments(const std::filesystem::path& dir) {
  std::vector<uint64_t> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() != 20 || name.substr(16) != ".log") continue;
    uint64_t n = 0;
    bool digits = true;
    for (size_t i = 0; i < 16; ++i) {
      if (name[i] < '0' || name[i] > '9') digits = false;
      n = n * 10 + static_cast<uint64_t>(name[i] - '0');
    }
    if (digits && n > 0) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A record payload larger than this is corruption, not an event.
constexpr uint32_t kMaxPayload = 16u << 20;

}  // namespace

Result<std::unique_ptr<EventJournal>> EventJournal::Open(const std::filesystem::path& dir,
                                                         uint64_t segment_bytes) {
  std::error_code ec;
  // A new journal is made under a temporary name and renamed once locked:
  // another process looking for journals whose owner died must never find
  // one before its owner holds the lock.
  const bool fresh = !std::filesystem::exists(dir, ec);
  const std::filesystem::path made = fresh ? std::filesystem::path(dir.string() + ".new") : dir;
  // Audit rows are private: 0700 folders and 0600 files whatever the umask.
  ec = core::CreatePrivateDirectories(made);
  if (ec) return Status::Unavailable("cannot create " + made.string() + ": " + ec.message());
  const int fd =
      ::open((made / "LOCK").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, core::kPrivateFileMode);
  if (fd < 0) return Errno("cannot open " + (made / "LOCK").string());
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) return Status::Unavailable("journal in use: " + dir.string());
    errno = err;
    return Errno("cannot lock " + dir.string());
  }
  if (fresh && ::rename(made.c_str(), dir.c_str()) != 0) {
    const Status s = Errno("cannot rename " + made.string());
    ::close(fd);
    return s;
  }
  const std::vector<uint64_t> segments = ListSegments(dir);
  const uint64_t first = segments.empty() ? 0 : segments.front();
  const uint64_t last = segments.empty() ? 0 : segments.back();
  return std::unique_ptr<EventJournal>(new EventJournal(dir, fd, segment_bytes, first, last));
}

EventJournal::EventJournal(std::filesystem::path dir, int lock_fd, uint64_t segment_bytes,
                           uint64_t first, uint64_t last)
    : dir_(std::move(dir)), lock_fd_(lock_fd), segment_bytes_(segment_bytes), first_(first) {
  // Segments left by a previous owner are all closed: the next one this
  // journal writes is after them.
  last_closed_ = last;
}

EventJournal::~EventJournal() {
  if (write_fd_ >= 0) ::close(write_fd_);
  if (read_fd_ >= 0) ::close(read_fd_);
  ::close(lock_fd_);  // releases the flock
}

std::filesystem::path EventJournal::SegmentPath(uint64_t segment) const {
  char name[32];
  std::snprintf(name, sizeof name, "%016llu.log", static_cast<unsigned long long>(segment));
  return dir_ / name;
}

void EventJournal::AppendHeader(std::string& out, uint32_t payload_bytes) {
  char header[kHeaderBytes];
  PutU32(header, payload_bytes);
  PutU32(header + 4, 0);
  out.append(header, kHeaderBytes);
}

Status EventJournal::Sync() {
  if (write_fd_ >= 0 && ::fdatasync(write_fd_) != 0) {
    return Errno("cannot sync " + SegmentPath(writing_.load()).string());
  }
  return Status::Ok();
}

Status EventJournal::StartSegment() {
  const uint64_t next = std::max(writing_.load(), last_closed_.load()) + 1;
  // O_EXCL: a segment is only ever written by the journal that created it.
  const int fd = ::open(SegmentPath(next).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                        core::kPrivateFileMode);
  if (fd < 0) return Errno("cannot create " + SegmentPath(next).string());
  // The closed segment and the new name reach the disk before records go to
  // the new segment.
  if (write_fd_ >= 0) {
    (void)::fdatasync(write_fd_);
    ::close(write_fd_);
  }
  if (const int dir_fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir_fd >= 0) {
    (void)::fsync(dir_fd);
    ::close(dir_fd);
  }
  write_fd_ = fd;
  if (writing_.load() != 0) last_closed_.store(writing_.load());
  // Readers look at written_ only for the segment writing_ names: publish the
  // new (empty) size before the new number.
  written_.store(0, std::memory_order_release);
  writing_.store(next, std::memory_order_release);
  if (first_.load() == 0) first_.store(next);
  return Status::Ok();
}

Status EventJournal::Write(std::string& records) {
  if (records.empty()) return Status::Ok();
  // Fill in the checksums, checking the framing the producers wrote.
  for (size_t at = 0; at < records.size();) {
    if (records.size() - at < kHeaderBytes) return Status::Internal("journal record framing");
    const uint32_t n = GetU32(records.data() + at);
    if (records.size() - at - kHeaderBytes < n) return Status::Internal("journal record framing");
    PutU32(records.data() + at + 4, Crc(std::string_view(records.data() + at + kHeaderBytes, n)));
    at += kHeaderBytes + n;
  }
  if (write_fd_ < 0 || written_.load() >= segment_bytes_) {
    if (auto s = StartSegment(); !s.ok()) return s;
  }
  const uint64_t start = written_.load();
  size_t done = 0;
  while (done < records.size()) {
    const ssize_t n = ::write(write_fd_, records.data() + done, records.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const Status s = Errno("cannot write " + SegmentPath(writing_.load()).string());
      // A partial write would leave a torn record in the middle of the
      // segment, hiding everything written after it: cut it off, and if that
      // fails too, move on to a new segment.
      if (done > 0 && ::ftruncate(write_fd_, static_cast<off_t>(start)) != 0) {
        ::close(write_fd_);
        write_fd_ = -1;
      }
      return s;
    }
    done += static_cast<size_t>(n);
  }
  written_.store(start + records.size(), std::memory_order_release);
  return Status::Ok();
}

Result<size_t> EventJournal::Read(JournalPosition& pos, size_t max_records,
                                  const std::function<void(std::string_view)>& fn,
                                  uint64_t* torn_bytes) {
  std::lock_guard lock(read_mu_);
  size_t passed = 0;
  // The rest of the segment at `pos` is lost: on to the next one.
  auto skip_torn = [&](uint64_t end) {
    if (torn_bytes != nullptr) *torn_bytes += end - pos.offset;
    pos = {pos.segment + 1, 0};
  };
  while (passed < max_records) {
    if (pos.segment < first_.load()) pos = {first_.load(), 0};
    if (pos.segment == 0) return passed;  // nothing written yet
    // The writer publishes written_ (the size of segment writing_) before a
    // new segment number; re-checking the number after reading the size
    // keeps a size from being taken for the wrong segment.
    uint64_t writing = 0;
    uint64_t written = 0;
    do {
      writing = writing_.load(std::memory_order_acquire);
      written = written_.load(std::memory_order_acquire);
    } while (writing != writing_.load(std::memory_order_acquire));
    const bool open = pos.segment == writing;
    if (pos.segment > std::max(writing, last_closed_.load())) return passed;
    if (read_segment_ != pos.segment || (!open && !read_closed_)) {
      if (read_segment_ != pos.segment) {
        if (read_fd_ >= 0) ::close(read_fd_);
        read_fd_ = ::open(SegmentPath(pos.segment).c_str(), O_RDONLY | O_CLOEXEC);
        read_segment_ = pos.segment;
        if (read_fd_ < 0) {
          read_segment_ = 0;
          if (errno != ENOENT) return Errno("cannot open " + SegmentPath(pos.segment).string());
          pos = {pos.segment + 1, 0};  // a gap: never created, or deleted by hand
          continue;
        }
      }
      read_closed_ = !open;
      if (!open) {
        // Closed: nobody appends to it any more, so its size is its end.
        struct stat st {};
        if (::fstat(read_fd_, &st) != 0) return Errno("cannot stat journal segment");
        read_size_ = static_cast<uint64_t>(st.st_size);
      }
    }
    const uint64_t end = open ? written : read_size_;
    if (pos.offset >= end) {
      if (open) return passed;  // caught up with the writer
      pos = {pos.segment + 1, 0};
      continue;
    }
    const size_t want = static_cast<size_t>(std::min<uint64_t>(end - pos.offset, 1u << 20));
    read_buffer_.resize(want);
    const ssize_t got =
        ::pread(read_fd_, read_buffer_.data(), want, static_cast<off_t>(pos.offset));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Errno("cannot read " + SegmentPath(pos.segment).string());
    size_t at = 0;
    bool torn = got == 0;  // shorter than its recorded end
    bool big = false;      // one record larger than what was read
    while (!torn && passed < max_records) {
      const uint64_t offset = pos.offset + at;
      if (offset >= end) break;
      const size_t left = static_cast<size_t>(got) - at;
      if (left < kHeaderBytes) {
        torn = offset + left >= end;  // a partial header ends the segment
        break;
      }
      const uint32_t n = GetU32(read_buffer_.data() + at);
      if (n > kMaxPayload || offset + kHeaderBytes + n > end) {
        torn = true;
        break;
      }
      if (left - kHeaderBytes < n) {
        big = at == 0;
        break;
      }
      const std::string_view payload(read_buffer_.data() + at + kHeaderBytes, n);
      if (Crc(payload) != GetU32(read_buffer_.data() + at + 4)) {
        torn = true;
        break;
      }
      fn(payload);
      ++passed;
      at += kHeaderBytes + n;
    }
    pos.offset += at;
    if (big) {
      // Read exactly that record.
      const size_t size = kHeaderBytes + GetU32(read_buffer_.data());
      read_buffer_.resize(size);
      if (::pread(read_fd_, read_buffer_.data(), size, static_cast<off_t>(pos.offset)) !=
          static_cast<ssize_t>(size)) {
        return Errno("short read in " + SegmentPath(pos.segment).string());
      }
      const std::string_view payload(read_buffer_.data() + kHeaderBytes, size - kHeaderBytes);
      torn = Crc(payload) != GetU32(read_buffer_.data() + 4);
      if (!torn) {
        fn(payload);
        ++passed;
        pos.offset += size;
      }
    }
    if (torn) {
      // The writer publishes only whole records: in its open segment this is
      // damage on disk, not a crash's torn tail.
      if (open) return Status::Internal("journal segment being written is corrupt");
      skip_torn(end);
    }
  }
  return passed;
}

void EventJournal::DeleteBefore(const JournalPosition& pos) {
  std::lock_guard lock(read_mu_);
  const uint64_t last = std::max(writing_.load(), last_closed_.load());
  for (uint64_t s = first_.load(); s != 0 && s < pos.segment && s <= last; ++s) {
    std::error_code ec;
    std::filesystem::remove(SegmentPath(s), ec);
    if (read_segment_ == s) {
      ::close(read_fd_);
      read_fd_ = -1;
      read_segment_ = 0;
    }
    first_.store(s + 1);
  }
}

bool EventJournal::AtEnd(const JournalPosition& pos) const {
  const uint64_t writing = writing_.load(std::memory_order_acquire);
  if (writing == 0) return last_closed_.load() == 0 || pos.segment > last_closed_.load();
  return pos.segment == writing && pos.offset >= written_.load(std::memory_order_acquire);
}

std::filesystem::path AuditJournalRoot(const std::string& database_path) {
  const std::filesystem::path p(database_path);
  return p.parent_path() / (p.stem().string() + "-audit-journal");
}

}  // namespace quay::db
