// A reserve of disk space in the data folder, so that `quayd gc` can still
// free space on a full disk.
//
// GC deletes database rows before files (a crash must never leave a row
// without its bytes), and on a full disk SQLite cannot even write the WAL
// frames of a DELETE: without room to spare, GC would free nothing. So
// `quayd serve` (at start) and `quayd gc` (at the end of a run) keep
// <data-dir>/space-reserve, a file of kSpaceReserveBytes allocated blocks;
// `quayd gc`, when a collection fails with NoSpace, deletes it and tries once
// more. The reserve is made again only when there is room for it.
#pragma once

#include <cstdint>
#include <string>

namespace quayd {

inline constexpr uint64_t kSpaceReserveBytes = 4u << 20;

// Makes the reserve if it is missing; true if it exists afterwards. A disk
// too full for it leaves none (and no partial file).
bool EnsureSpaceReserve(const std::string& data_dir);

// Deletes the reserve; true if there was one to give back.
bool ReleaseSpaceReserve(const std::string& data_dir);

}  // namespace quayd
