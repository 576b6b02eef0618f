// An append-only journal of opaque records in numbered segment files: events
// that must be kept from the moment they happen but are indexed later (the
// audit appender's pulls, api/audit_appender.cpp). Internal to lib/db.
//
// On disk: <dir>/LOCK (flock'd by the owning process) and <dir>/<segment>.log,
// segments numbered from 1 with 16 decimal digits. A record is
//   [u32 payload length][u32 checksum of the payload][payload], little
// endian; the checksum is the low 32 bits of XXH3-64.
// The writer only ever appends to a segment it created itself, so a record
// torn by a crash is at the end of a segment nobody writes to any more; a
// reader stops at the first record that is short or fails its checksum and treats
// the rest of that segment as lost (it was never fully written).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "quay/status.h"

namespace quay::db {

struct JournalPosition {
  uint64_t segment = 0;  // 0: before the first segment
  uint64_t offset = 0;
  bool operator==(const JournalPosition&) const = default;
};

class EventJournal {
 public:
  // Header bytes before each payload.
  static constexpr size_t kHeaderBytes = 8;

  // Opens `dir` (created if missing: as `<dir>.new`, renamed once locked, so
  // that no one else opens it first) and takes its lock. Unavailable when
  // another live owner holds the lock; a journal whose owner died can be
  // opened (the kernel drops the flock with the process).
  static Result<std::unique_ptr<EventJournal>> Open(const std::filesystem::path& dir,
                                                    uint64_t segment_bytes = 64u << 20);
  ~EventJournal();
  EventJournal(const EventJournal&) = delete;
  EventJournal& operator=(const EventJournal&) = delete;

  // Appends a header for a payload of `payload_bytes` to `out`, its checksum
  // left zero: the caller appends the payload, and Write() fills in the
  // checksums (on the writer's thread, not the thread that made the record).
  static void AppendHeader(std::string& out, uint32_t payload_bytes);

  // Writes whole records (AppendHeader + payload, one after another) at the
  // end of the current segment, starting a new segment first when the current
  // one is full or when there is none yet. One writer thread at a time. The
  // records are then visible to Read(). `records` is modified (checksums).
  Status Write(std::string& records);

  // Makes everything written so far durable (fdatasync). The writer's thread.
  Status Sync();

  // Calls `fn` for each whole, valid record after `pos`, in order, at most
  // `max_records` of them, advancing `pos` past each record passed. Moves on
  // to the next segment at the end of a segment the writer has left (and past
  // a torn tail, reported through `torn_bytes`). Returns how many records it
  // passed. Safe beside a concurrent Write(); one reader at a time.
  Result<size_t> Read(JournalPosition& pos, size_t max_records,
                      const std::function<void(std::string_view payload)>& fn,
                      uint64_t* torn_bytes = nullptr);

  // Deletes the segments before `pos.segment` (already indexed).
  void DeleteBefore(const JournalPosition& pos);

  // Whether every written record is before `pos` (nothing left to read).
  bool AtEnd(const JournalPosition& pos) const;

  const std::filesystem::path& dir() const { return dir_; }

 private:
  EventJournal(std::filesystem::path dir, int lock_fd, uint64_t segment_bytes, uint64_t first,
               uint64_t last);
  std::filesystem::path SegmentPath(uint64_t segment) const;
  Status StartSegment();

  const std::filesystem::path dir_;
  const int lock_fd_;
  const uint64_t segment_bytes_;
  int write_fd_ = -1;
  // Segments on disk are [first_, writing_]: segments older than writing_ are
  // closed; writing_ (when non-zero) is the one Write() appends to, and
  // written_ its size so far. Read() never reads past written_ in writing_.
  std::atomic<uint64_t> first_;
  std::atomic<uint64_t> last_closed_{0};  // newest closed segment
  std::atomic<uint64_t> writing_{0};
  std::atomic<uint64_t> written_{0};
  mutable std::mutex read_mu_;  // the reader's open segment
  uint64_t read_segment_ = 0;
  int read_fd_ = -1;
  bool read_closed_ = false;  // read_size_ is the closed segment's size
  uint64_t read_size_ = 0;
  std::string read_buffer_;
};

// The path of the instance journals of the database at `database_path`:
// <dir>/<stem>-audit-journal (quay.db -> quay-audit-journal).
std::filesystem::path AuditJournalRoot(const std::string& database_path);

}  // namespace quay::db
