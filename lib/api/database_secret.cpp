#include "api/database_secret.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "auth/secrets.h"
#include "core/str_cat.h"

namespace quay::api {
namespace {

constexpr size_t kGeneratedBytes = 32;
// A secret file is a line of text; anything much larger is not one.
constexpr size_t kMaxSecretFileBytes = 4096;

Status FileError(std::string_view what, const std::string& path, int error) {
  return Status::Unavailable(core::StrCat(
      {"failed to ", what, " the database secret key file ", path, ": ", std::strerror(error)}));
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// The secret in an existing file; NotFound if there is none.
Result<std::string> ReadSecretFile(const std::string& path, Logger& logger) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return Status::NotFound(Subject::kNone, "no database secret key file");
    return FileError("open", path, errno);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return FileError("stat", path, errno);
  if (!S_ISREG(st.st_mode)) {
    return Status::Unavailable("the database secret key file " + path + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    logger.Log(LogLevel::kWarn, "identity",
               "database secret key file is readable by other users; chmod 600 it",
               {{"path", path}});
  }
  std::string text(kMaxSecretFileBytes + 1, '\0');
  size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return FileError("read", path, errno);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got > kMaxSecretFileBytes) {
    return Status::Unavailable("the database secret key file " + path + " is too large");
  }
  text.resize(got);
  while (!text.empty() && std::strchr(" \t\r\n", text.back()) != nullptr) text.pop_back();
  if (text.empty()) {
    // Never replaced silently: keys may have been sealed under what it held.
    return Status::Unavailable("the database secret key file " + path +
                               " is empty; restore it or set DATABASE_SECRET_KEY");
  }
  return text;
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Unavailable(std::strerror(errno));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// The new file's name in the folder must survive a power loss.
void SyncFolder(const std::string& path) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  Fd fd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() >= 0) ::fsync(fd.get());
}

}  // namespace

Result<std::string> LoadOrCreateSecretFile(const std::string& path, Logger& logger) {
  Result<std::string> existing = ReadSecretFile(path, logger);
  if (existing.ok() || !existing.status().IsNotFound()) return existing;

  std::string secret = auth::RandomHex(kGeneratedBytes);
  const std::string temporary = path + ".tmp." + auth::RandomToken(12);
  {
    Fd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (fd.get() < 0) return FileError("create", temporary, errno);
    Status written = WriteAll(fd.get(), secret + "\n");
    if (written.ok() && ::fsync(fd.get()) != 0) written = Status::Unavailable(std::strerror(errno));
    if (!written.ok()) {
      ::unlink(temporary.c_str());
      return Status::Unavailable("failed to write the database secret key file " + temporary +
                                 ": " + written.message());
    }
  }
  // link(), unlike rename(), never replaces a file another process put
  // there meanwhile (it may already have sealed keys under its secret).
  const int linked = ::link(temporary.c_str(), path.c_str());
  const int link_error = errno;
  ::unlink(temporary.c_str());
  if (linked != 0) {
    if (link_error == EEXIST) return ReadSecretFile(path, logger);
    return FileError("create", path, link_error);
  }
  SyncFolder(path);
  logger.Log(LogLevel::kInfo, "identity", "created database secret key file", {{"path", path}});
  return secret;
}

Result<std::string> DatabaseSecretFor(const Options& options, db::ConnectionPool& pool,
                                      Logger& logger) {
  if (!options.identity.database_secret_key.empty()) return options.identity.database_secret_key;
  // Without a folder to keep a file in (in memory, or PostgreSQL without a
  // data folder), the secret lives as long as the pool; instances that share
  // a PostgreSQL database must be given the same DATABASE_SECRET_KEY.
  if (pool.in_memory() || (pool.dialect() == db::Dialect::kPostgres && options.data_dir.empty())) {
    return pool.MemorySecret([] { return auth::RandomHex(kGeneratedBytes); });
  }
  std::filesystem::path folder = !options.data_dir.empty()
                                     ? std::filesystem::path(options.data_dir)
                                     : std::filesystem::path(pool.path()).parent_path();
  return LoadOrCreateSecretFile((folder / kDatabaseSecretFileName).string(), logger);
}

}  // namespace quay::api
