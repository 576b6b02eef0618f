// Design (see postgres_server.h for the interface):
//
// - initdb (~0.6 s) runs once per user and server version into a cached
//   "pristine" cluster under TempRoot(), created under a file lock and published
//   by rename, so parallel test processes neither race nor see a half-made one.
// - Each test process copies it (cp -a) into its own run folder and starts its
//   own postmaster there, on a free 127.0.0.1 port and a unix socket in that
//   folder.
// - The postmaster is the child of a "keeper" process forked from the test in
//   its own session. The keeper holds the read end of a pipe whose only write
//   end is the test's; when the test exits *or dies* (even kill -9), the pipe
//   reads EOF and the keeper stops the postmaster and deletes the run folder.
// - If the keeper is killed too, the next test process to start a server
//   sweeps run folders whose owner process is gone, and their postmasters.
#include "postgres_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <linux/magic.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace quay::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kDefaultBinDir = "/usr/lib/postgresql/15/bin";
// Part of the cached cluster's name: bump it when InitdbOptions() change.
constexpr int kPristineFormat = 1;
constexpr auto kStartTimeout = std::chrono::seconds(60);

// A throwaway cluster: no fsync at initdb either, C locale so results do not
// depend on the machine, and 1 MB WAL segments so the copy is 29 MB, not 39.
std::vector<std::string> InitdbOptions() {
  return {"-U",         "postgres",       "--auth=trust", "--no-sync", "--encoding=UTF8",
          "--locale=C", "--wal-segsize=1"};
}

std::runtime_error Errno(const std::string& what) {
  return std::runtime_error("quay test postgres: " + what + ": " + std::strerror(errno));
}

bool TimingWanted() {
  const char* v = std::getenv("QUAY_TEST_PG_TIMING");
  return v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
}

void ReportTime(const char* phase, Clock::time_point since) {
  if (!TimingWanted()) return;
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - since).count();
  std::fprintf(stderr, "quay test postgres [%d]: %s %.1f ms\n", static_cast<int>(getpid()), phase,
               ms);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The end of a log, from a line start, small enough for an exception message.
std::string Tail(const std::string& text, size_t max = 4000) {
  if (text.size() <= max) return text;
  size_t start = text.find('\n', text.size() - max);
  return "...\n" + text.substr(start == std::string::npos ? text.size() - max : start + 1);
}

// /dev/shm if it is a tmpfs with room to spare. Creating the ~1000 files of a
// cluster (cp -a, CREATE DATABASE) measured ~10x faster there than on ext4.
bool RoomyTmpfs(const char* dir) {
  struct statfs fs_info;
  struct statvfs vfs_info;
  return statfs(dir, &fs_info) == 0 && fs_info.f_type == TMPFS_MAGIC &&
         statvfs(dir, &vfs_info) == 0 &&
         static_cast<unsigned long long>(vfs_info.f_bavail) * vfs_info.f_frsize >= (1ULL << 30) &&
         access(dir, W_OK | X_OK) == 0;
}

// Where clusters live: QUAY_TEST_PG_TMPDIR, else TMPDIR, else a roomy
// /dev/shm, else /tmp.
std::string TempRoot() {
  std::string root;
  for (const char* name : {"QUAY_TEST_PG_TMPDIR", "TMPDIR"}) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') {
      root = value;
      break;
    }
  }
  if (root.empty()) root = RoomyTmpfs("/dev/shm") ? "/dev/shm" : "/tmp";
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  // Absolute, as the server reports its data directory (Launch compares).
  std::error_code ec;
  const fs::path absolute = fs::absolute(root, ec);
  return ec ? root : absolute.string();
}

std::string BinDir() {
  const char* dir = std::getenv("QUAY_TEST_PG_BINDIR");
  return dir != nullptr && *dir != '\0' ? dir : kDefaultBinDir;
}

// execv needs a path, and execvp is not safe between fork and exec.
std::string Tool(const char* name) {
  for (const char* dir : {"/usr/bin/", "/bin/"}) {
    std::string path = std::string(dir) + name;
    if (access(path.c_str(), X_OK) == 0) return path;
  }
  throw std::runtime_error(std::string("quay test postgres: no ") + name + " in /usr/bin or /bin");
}

// Whom the server runs as: PostgreSQL refuses to run as root, so root hands
// it (and the folders it uses) to `nobody`.
struct Account {
  bool drop = false;  // children switch to uid/gid
  uid_t uid = 0;
  gid_t gid = 0;
};

Account ServerAccount() {
  Account account;
  account.uid = geteuid();
  account.gid = getegid();
  if (account.uid != 0) return account;
  const passwd* pw = getpwnam("nobody");
  if (pw == nullptr)
    throw std::runtime_error("quay test postgres: running as root and there is no user 'nobody'");
  account.drop = true;
  account.uid = pw->pw_uid;
  account.gid = pw->pw_gid;
  if (const group* gr = getgrnam("nogroup")) account.gid = gr->gr_gid;
  return account;
}

std::string MakeTempDir(const std::string& prefix, const Account& who) {
  std::string path = prefix + "XXXXXX";
  if (mkdtemp(path.data()) == nullptr) throw Errno("mkdtemp " + path);
  if (who.drop && chown(path.c_str(), who.uid, who.gid) != 0) {
    std::error_code ec;
    fs::remove(path, ec);
    throw Errno("chown " + path);
  }
  return path;
}

// Process start time in clock ticks (/proc/<pid>/stat field 22): with the pid
// it names a process even after the pid is reused. -1 if there is none.
long long StartTime(pid_t pid) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream fields(stat.substr(paren + 1));
  std::string field;
  for (int i = 3; i <= 22; ++i) fields >> field;
  return fields ? std::atoll(field.c_str()) : -1;
}

int WaitFor(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 0;  // ECHILD: the test ignores SIGCHLD; assume success
  }
  return status;
}

std::string DescribeStatus(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("signal ") + strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

// ---- Between fork and exec ----
// The test may have other threads, so a forked child may only make
// async-signal-safe calls: no allocation, no locks, raw syscalls.

class Argv {
 public:
  explicit Argv(std::vector<std::string> args) : args_(std::move(args)) {
    for (std::string& arg : args_) ptrs_.push_back(arg.data());
    ptrs_.push_back(nullptr);
  }
  Argv(const Argv&) = delete;
  Argv& operator=(const Argv&) = delete;
  char* const* get() const { return ptrs_.data(); }
  std::string str() const {
    std::string out;
    for (const std::string& arg : args_) out += (out.empty() ? "" : " ") + arg;
    return out;
  }

 private:
  std::vector<std::string> args_;
  std::vector<char*> ptrs_;
};

void ChildWrite(const char* text) {
  ssize_t ignored = write(2, text, std::strlen(text));
  (void)ignored;
}

[[noreturn]] void ChildFail(const char* what, const char* arg) {
  ChildWrite("quay test postgres: ");
  ChildWrite(what);
  ChildWrite(arg);
  ChildWrite("\n");
  _exit(127);
}

// stdin = `in`, stdout = stderr = `out`, fd 3 = `extra` (if >= 0), nothing
// else: a postmaster holding a test's pipe open would make its reader hang.
void ChildSetFds(int in, int out, int extra) {
  // Move them above 3 first, so dup2 cannot overwrite one with another.
  in = fcntl(in, F_DUPFD, 10);
  out = fcntl(out, F_DUPFD, 10);
  if (extra >= 0) extra = fcntl(extra, F_DUPFD, 10);
  if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) _exit(127);
  if (extra >= 0 && dup2(extra, 3) < 0) _exit(127);
  const int first = extra >= 0 ? 4 : 3;
  if (close_range(first, ~0U, 0) != 0) {
    for (int fd = first; fd < 65536; ++fd) close(fd);
  }
}

// Children must not inherit the test's handlers (doctest's), ignored or
// blocked signals.
void ChildResetSignals() {
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

void ChildBecome(const Account& who) {
  if (!who.drop) return;
  // Raw syscalls: they are async-signal-safe; glibc's wrappers promise not.
  if (syscall(SYS_setgroups, 0, nullptr) != 0 ||
      syscall(SYS_setresgid, who.gid, who.gid, who.gid) != 0 ||
      syscall(SYS_setresuid, who.uid, who.uid, who.uid) != 0)
    ChildFail("cannot switch to the server user", "");
}

volatile sig_atomic_t keeper_stop = 0;
void OnKeeperSignal(int) { keeper_stop = 1; }

// fd 3 is the pipe from the test, 1 and 2 the server log.
[[noreturn]] void KeeperMain(const Argv& server, const Argv& remove, const Account& who) {
  // Its own session: on a timeout `meson test` kills the test's whole process
  // group, and the keeper must survive that to clean up.
  setsid();
  prctl(PR_SET_NAME, "quay-pg-keeper");
  ChildResetSignals();
  ChildBecome(who);
  // Being asked to stop is the same as the test going away (exec resets
  // these handlers for the postmaster).
  struct sigaction stop = {};
  stop.sa_handler = OnKeeperSignal;
  sigemptyset(&stop.sa_mask);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaction(sig, &stop, nullptr);

  const pid_t postmaster = fork();
  if (postmaster < 0) _exit(120);
  if (postmaster == 0) {
    close(3);
    execv(server.get()[0], server.get());
    ChildFail("cannot run ", server.get()[0]);
  }
  while (keeper_stop == 0) {
    pollfd test = {3, POLLIN, 0};
    if (poll(&test, 1, 100) > 0) {
      char byte;
      const ssize_t n = read(3, &byte, 1);
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) break;
    }
    int status;
    // It exited on its own (failed to start, crashed): leave the log for the
    // test to read; the test then deletes the folder.
    if (waitpid(postmaster, &status, WNOHANG) == postmaster) _exit(100);
  }
  // Immediate shutdown: there is nothing to save.
  kill(postmaster, SIGQUIT);
  for (int i = 0; waitpid(postmaster, nullptr, WNOHANG) == 0; ++i) {
    if (i == 1000) kill(postmaster, SIGKILL);
    const timespec tick = {0, 10 * 1000 * 1000};
    nanosleep(&tick, nullptr);
  }
  execv(remove.get()[0], remove.get());
  _exit(121);
}

// Runs a program to completion as `who`; returns its stdout and stderr.
std::string Run(std::vector<std::string> args, const Account& who) {
  const Argv argv(std::move(args));
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) throw Errno("pipe");
  const int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    ChildSetFds(devnull, out[1], -1);
    ChildResetSignals();
    ChildBecome(who);
    // Set after the uid change, which clears it: an initdb orphaned by a
    // killed test would go on writing into a folder nobody will clean.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    execv(argv.get()[0], argv.get());
    ChildFail("cannot run ", argv.get()[0]);
  }
  close(out[1]);
  if (devnull >= 0) close(devnull);
  if (pid < 0) {
    close(out[0]);
    throw Errno("fork");
  }
  std::string output;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(out[0], buf, sizeof buf);
    if (n > 0) {
      output.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(out[0]);
  const int status = WaitFor(pid);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("quay test postgres: `" + argv.str() + "` failed (" +
                             DescribeStatus(status) + "):\n" + Tail(output));
  }
  return output;
}

// "15.20" from "postgres (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)".
std::string ServerVersion(const std::string& bindir, const Account& who) {
  const std::string out = Run({bindir + "/postgres", "-V"}, who);
  std::string version;
  const size_t start = out.find(") ");
  for (size_t i = start == std::string::npos ? out.size() : start + 2; i < out.size(); ++i) {
    const char c = out[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.') break;
    version += c;
  }
  if (version.empty())
    throw std::runtime_error("quay test postgres: unexpected `postgres -V`: " + out);
  return version;
}

bool PristineUsable(const std::string& path, uid_t uid) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return false;
  // Only our own, private folder: /tmp is shared with other users.
  if (!S_ISDIR(st.st_mode) || st.st_uid != uid || (st.st_mode & 077) != 0) return false;
  // A /tmp cleaner may have deleted old files inside it.
  return access((path + "/PG_VERSION").c_str(), F_OK) == 0 &&
         access((path + "/global/pg_control").c_str(), F_OK) == 0 &&
         access((path + "/base/1/PG_VERSION").c_str(), F_OK) == 0;
}

// The cluster initdb makes, kept for every later test process of this server
// user and version. "" when it cannot be used (then each process runs initdb).
std::string EnsurePristine(const std::string& tmp, const std::string& bindir,
                           const std::string& version, const Account& who) {
  const std::string name = "quay-pg-pristine-" + std::to_string(who.uid) + "-" + version + "-v" +
                           std::to_string(kPristineFormat);
  const std::string path = tmp + "/" + name;
  // Parallel test processes: the first creates it, the others wait here.
  const int lock =
      open((path + ".lock").c_str(), O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (lock < 0) return "";
  struct Unlock {
    int fd;
    ~Unlock() { close(fd); }
  } unlock{lock};
  while (flock(lock, LOCK_EX) != 0) {
    if (errno != EINTR) return "";
  }
  if (PristineUsable(path, who.uid)) return path;

  std::error_code ec;
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (st.st_uid != who.uid) return "";  // someone else's: not ours to replace
    fs::remove_all(path, ec);             // damaged
  }
  // Left by creators killed midway; with the lock held, none is in use.
  for (const fs::directory_entry& entry : fs::directory_iterator(tmp, ec)) {
    const std::string leftover = entry.path().filename().string();
    if (leftover.rfind(name + ".tmp-", 0) == 0 && lstat(entry.path().c_str(), &st) == 0 &&
        st.st_uid == who.uid)
      fs::remove_all(entry.path(), ec);
  }

  const std::string staging = MakeTempDir(path + ".tmp-", who);
  try {
    std::vector<std::string> initdb = {bindir + "/initdb", "-D", staging};
    for (std::string& option : InitdbOptions()) initdb.push_back(std::move(option));
    Run(std::move(initdb), who);
  } catch (...) {
    fs::remove_all(staging, ec);
    throw;
  }
  if (rename(staging.c_str(), path.c_str()) != 0) {
    fs::remove_all(staging, ec);
    return "";
  }
  return path;
}

// Exists and is not a zombie: an orphan's new parent (a container's pid 1)
// may never reap it.
bool Running(pid_t pid) {
  const std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  const size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

// Stops the postmaster of a dead test process whose keeper died as well.
void KillStalePostmaster(const std::string& data_dir) {
  std::ifstream pid_file(data_dir + "/postmaster.pid");
  pid_t pid = 0;
  if (!(pid_file >> pid) || pid <= 1) return;
  // The pid may have been reused: only a process started for this folder.
  std::string cmdline = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
  if (cmdline.find(data_dir) == std::string::npos) return;
  kill(pid, SIGQUIT);
  for (int i = 0; i < 500 && Running(pid); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (Running(pid)) kill(pid, SIGKILL);
}

// Run folders whose owner is gone (owner file: "<pid> <start time>").
void SweepStale(const std::string& tmp, const Account& who) {
  const std::string prefix = "quay-pg-run-" + std::to_string(who.uid) + "-";
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(tmp, ec)) {
    const std::string dir = entry.path().string();
    struct stat st;
    if (entry.path().filename().string().rfind(prefix, 0) != 0 || lstat(dir.c_str(), &st) != 0 ||
        !S_ISDIR(st.st_mode) || st.st_uid != who.uid)
      continue;
    std::ifstream owner(dir + "/owner");
    long long pid = 0;
    long long start = 0;
    if (owner >> pid >> start) {
      if (Running(static_cast<pid_t>(pid)) && StartTime(static_cast<pid_t>(pid)) == start) continue;
    } else if (time(nullptr) - st.st_mtime < 60) {
      continue;  // just made; its owner file is on the way
    }
    KillStalePostmaster(dir + "/data");
    fs::remove_all(dir, ec);
  }
}

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw Errno("socket");
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    throw Errno("bind 127.0.0.1:0");
  }
  close(fd);
  return ntohs(addr.sin_port);
}

class Server {
 public:
  Server() = default;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();

  void Start();
  std::string NewDatabase();
  std::string Uri(const std::string& database) const {
    return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + database;
  }

 private:
  // False if the postmaster exited (its log in *log); throws on other failures.
  bool Launch(const std::string& bindir, const std::string& data, const Account& who,
              std::string* log);
  // Returns the keeper's wait status, -1 if there was none.
  int StopKeeper();
  // (Re)opens the admin session; returns the server's data directory, "" if
  // that fails.
  std::string Connect();

  pid_t owner_ = 0;
  std::string run_dir_;
  int port_ = 0;
  pid_t keeper_ = -1;
  int life_ = -1;  // write end of the keeper's pipe
  bool keeper_started_ = false;
  PGconn* admin_ = nullptr;
  int databases_ = 0;
};

Server::~Server() {
  // A fork()ed child exiting: the server belongs to its parent. Closing our
  // copy of the pipe is all; PQfinish would end the parent's session.
  if (owner_ != getpid()) {
    if (life_ >= 0) close(life_);
    return;
  }
  const Clock::time_point start = Clock::now();
  if (admin_ != nullptr) PQfinish(admin_);
  const int status = StopKeeper();
  if (keeper_started_) ReportTime("stop", start);
  // The keeper deletes the folder unless it had already exited; if it was
  // killed, its postmaster may still run.
  if (!run_dir_.empty() && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
    if (status != -1 && WIFSIGNALED(status)) KillStalePostmaster(run_dir_ + "/data");
    std::error_code ec;
    fs::remove_all(run_dir_, ec);
  }
}

int Server::StopKeeper() {
  if (life_ >= 0) close(life_);
  life_ = -1;
  if (keeper_ <= 0) return -1;
  const int status = WaitFor(keeper_);
  keeper_ = -1;
  return status;
}

void Server::Start() {
  owner_ = getpid();
  Clock::time_point start = Clock::now();
  const Account who = ServerAccount();
  const std::string bindir = BinDir();
  if (access((bindir + "/postgres").c_str(), X_OK) != 0) {
    throw std::runtime_error("quay test postgres: no PostgreSQL server in " + bindir +
                             " (apt-get install postgresql, or set QUAY_TEST_PG_BINDIR)");
  }
  const std::string tmp = TempRoot();
  SweepStale(tmp, who);
  const std::string version = ServerVersion(bindir, who);
  const std::string pristine = EnsurePristine(tmp, bindir, version, who);
  ReportTime("pristine cluster ready", start);

  start = Clock::now();
  run_dir_ = MakeTempDir(tmp + "/quay-pg-run-" + std::to_string(who.uid) + "-", who);
  {
    std::ofstream owner(run_dir_ + "/owner");
    owner << getpid() << ' ' << StartTime(getpid()) << '\n';
  }
  const std::string data = run_dir_ + "/data";
  if (pristine.empty()) {
    std::vector<std::string> initdb = {bindir + "/initdb", "-D", data};
    for (std::string& option : InitdbOptions()) initdb.push_back(std::move(option));
    Run(std::move(initdb), who);
  } else {
    Run({Tool("cp"), "-a", "--", pristine, data}, who);
  }
  ReportTime(pristine.empty() ? "initdb" : "copy", start);

  start = Clock::now();
  for (int attempt = 1;; ++attempt) {
    port_ = FreePort();
    std::string log;
    if (Launch(bindir, data, who, &log)) break;
    // Another process took the probed port before the postmaster bound it.
    if (attempt < 5 && log.find("already in use") != std::string::npos) {
      if (TimingWanted()) std::fprintf(stderr, "quay test postgres: port %d taken, again\n", port_);
      continue;
    }
    throw std::runtime_error("quay test postgres: the server did not start; its log:\n" +
                             Tail(log));
  }
  ReportTime("server start", start);
}

bool Server::Launch(const std::string& bindir, const std::string& data, const Account& who,
                    std::string* log) {
  const std::string log_path = run_dir_ + "/postgres.log";
  // Its socket goes in the private folder, if the path fits in sun_path.
  const bool socket_fits =
      run_dir_.size() + sizeof("/.s.PGSQL.65535") <= sizeof(sockaddr_un::sun_path);
  const std::vector<std::string> settings = {
      "listen_addresses=127.0.0.1",
      "port=" + std::to_string(port_),
      "unix_socket_directories=" + (socket_fits ? run_dir_ : std::string()),
      // Throwaway data: durability off for speed.
      "fsync=off",
      "synchronous_commit=off",
      "full_page_writes=off",
      "wal_level=minimal",
      "max_wal_senders=0",
      // Several servers share 2 cores: small, and no background vacuuming of
      // databases that live for seconds.
      "shared_buffers=16MB",
      "max_connections=100",
      "autovacuum=off",
      // The log (shown when startup fails) without the two checkpoints
      // FILE_COPY makes per CREATE DATABASE.
      "log_checkpoints=off",
  };
  std::vector<std::string> args = {bindir + "/postgres", "-D", data};
  for (const std::string& setting : settings) {
    args.push_back("-c");
    args.push_back(setting);
  }
  const Argv server(std::move(args));
  const Argv remove({Tool("rm"), "-rf", "--", run_dir_});

  const int log_fd =
      open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) throw Errno("open " + log_path);
  const int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int life[2];
  if (devnull < 0 || pipe2(life, O_CLOEXEC) != 0) {
    close(log_fd);
    if (devnull >= 0) close(devnull);
    throw Errno("pipe");
  }
  const pid_t keeper = fork();
  if (keeper == 0) {
    ChildSetFds(devnull, log_fd, life[0]);
    KeeperMain(server, remove, who);
  }
  close(life[0]);
  close(log_fd);
  close(devnull);
  if (keeper < 0) {
    close(life[1]);
    throw Errno("fork");
  }
  keeper_ = keeper;
  keeper_started_ = true;
  life_ = life[1];

  const std::string ping = "host=127.0.0.1 port=" + std::to_string(port_) +
                           " user=postgres dbname=postgres connect_timeout=5";
  const Clock::time_point deadline = Clock::now() + kStartTimeout;
  for (;;) {
    // Ours, not another test's server that won the race for the port.
    if (PQping(ping.c_str()) == PQPING_OK && Connect() == data) return true;
    int status;
    const pid_t done = waitpid(keeper_, &status, WNOHANG);
    if (done == keeper_) {
      keeper_ = -1;
      close(life_);
      life_ = -1;
      *log = ReadFile(log_path);
      return false;
    }
    if (Clock::now() > deadline) {
      const std::string text = ReadFile(log_path);
      StopKeeper();
      run_dir_.clear();  // the keeper deleted it
      throw std::runtime_error("quay test postgres: the server did not start in " +
                               std::to_string(kStartTimeout.count()) + " s; its log:\n" +
                               Tail(text));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string Server::Connect() {
  if (admin_ != nullptr) PQfinish(admin_);
  admin_ = PQconnectdb(Uri("postgres").c_str());
  if (PQstatus(admin_) != CONNECTION_OK) return "";
  PGresult* result = PQexec(admin_, "SHOW data_directory");
  std::string dir = PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) == 1
                        ? PQgetvalue(result, 0, 0)
                        : "";
  PQclear(result);
  return dir;
}

std::string Server::NewDatabase() {
  for (int attempt = 1;; ++attempt) {
    if (PQstatus(admin_) != CONNECTION_OK && Connect().empty()) {
      // Most likely the server died: its log says why.
      throw std::runtime_error(std::string("quay test postgres: cannot connect: ") +
                               PQerrorMessage(admin_) + "server log:\n" +
                               Tail(ReadFile(run_dir_ + "/postgres.log")));
    }
    const std::string name = "quay_test_" + std::to_string(++databases_);
    // From template0, which nobody connects to (CREATE DATABASE needs its
    // template idle). FILE_COPY measured 2-3x faster than the default
    // WAL_LOG: with fsync off its checkpoints are cheap, while WAL_LOG pushes
    // all ~7 MB of the template through WAL and the small shared_buffers.
    const std::string sql = "CREATE DATABASE " + name + " TEMPLATE template0 STRATEGY FILE_COPY";
    PGresult* result = PQexec(admin_, sql.c_str());
    const bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
    PQclear(result);
    if (ok) return Uri(name);
    // A test may have ended our session (pg_terminate_backend): once more.
    if (attempt == 1 && PQstatus(admin_) != CONNECTION_OK) continue;
    throw std::runtime_error("quay test postgres: " + sql + ": " + PQerrorMessage(admin_));
  }
}

// One server per process, started on first use. A failed start is not
// retried: every later call fails at once with the same message.
class Instance {
 public:
  template <typename F>
  auto With(F use) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_.empty()) throw std::runtime_error(error_);
    if (server_ == nullptr) {
      auto server = std::make_unique<Server>();
      try {
        server->Start();
      } catch (const std::exception& e) {
        error_ = e.what();
        throw;
      }
      server_ = std::move(server);
    }
    return use(*server_);
  }

 private:
  std::mutex mu_;
  std::unique_ptr<Server> server_;  // destroyed at exit: stops the server
  std::string error_;
};

Instance& TheInstance() {
  static Instance instance;
  return instance;
}

}  // namespace

bool UsePostgres() {
  const char* backend = std::getenv("QUAY_TEST_BACKEND");
  return backend != nullptr && std::strcmp(backend, "postgres") == 0;
}

std::string FreshPostgresDatabase() {
  return TheInstance().With([](Server& server) { return server.NewDatabase(); });
}

std::string TestDatabasePath() { return UsePostgres() ? FreshPostgresDatabase() : std::string(); }

std::string PostgresAdminUri() {
  return TheInstance().With([](Server& server) { return server.Uri("postgres"); });
}

}  // namespace quay::testing
