#include "host/cmd/space_reserve.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace quayd {
namespace {

std::string ReservePath(const std::string& data_dir) { return data_dir + "/space-reserve"; }

}  // namespace

bool EnsureSpaceReserve(const std::string& data_dir) {
  const std::string path = ReservePath(data_dir);
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 &&
      static_cast<uint64_t>(st.st_blocks) * 512 >= kSpaceReserveBytes) {
    return true;
  }
  // A temporary name, so that a reserve is never half there.
  const std::string temp = path + ".new";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  // Allocated blocks, not a sparse file: its point is the space it holds.
  const int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(kSpaceReserveBytes));
  ::close(fd);
  if (rc != 0 || ::rename(temp.c_str(), path.c_str()) < 0) {
    ::unlink(temp.c_str());
    return false;
  }
  return true;
}

bool ReleaseSpaceReserve(const std::string& data_dir) {
  return ::unlink(ReservePath(data_dir).c_str()) == 0;
}

}  // namespace quayd
