// Folders and files that hold private data (the data folder, databases, audit
// journals, uploads, blobs) are created without group or other permission
// bits, whatever the process umask: the databases hold password hashes and
// audit rows, and blobs are private images. Internal to libquay.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <system_error>

namespace quay::core {

inline constexpr mode_t kPrivateDirMode = 0700;
inline constexpr mode_t kPrivateFileMode = 0600;

// mkdir -p: every level it creates gets kPrivateDirMode; levels that already
// exist are left as they are. Fails with ENOTDIR if a level is not a folder.
std::error_code CreatePrivateDirectories(const std::filesystem::path& dir);

// Creates `path` empty with kPrivateFileMode unless it exists. SQLite gives a
// database's -wal and -shm files the database file's mode, so a database
// created through this is private with its companions.
std::error_code CreatePrivateFile(const std::filesystem::path& path);

}  // namespace quay::core
