#include "core/private_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace quay::core {

std::error_code CreatePrivateDirectories(const std::filesystem::path& dir) {
  if (dir.empty()) return {};
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    return S_ISDIR(st.st_mode) ? std::error_code()
                               : std::make_error_code(std::errc::not_a_directory);
  }
  const std::filesystem::path parent = dir.lexically_normal().parent_path();
  if (!parent.empty() && parent != dir && parent != dir.root_path()) {
    if (std::error_code ec = CreatePrivateDirectories(parent)) return ec;
  }
  if (::mkdir(dir.c_str(), kPrivateDirMode) == 0) return {};
  const int err = errno;
  // Created meanwhile by another process: fine if it is a folder.
  if (err == EEXIST && ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return {};
  return std::error_code(err, std::generic_category());
}

std::error_code CreatePrivateFile(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kPrivateFileMode);
  if (fd < 0) {
    // Existing files (or links an operator placed on purpose) keep their mode.
    if (errno == EEXIST) return {};
    return std::error_code(errno, std::generic_category());
  }
  ::close(fd);
  return {};
}

}  // namespace quay::core
