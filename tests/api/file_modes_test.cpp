// Everything the library creates in a data folder is private: folders 0700 and
// files 0600 whatever the process umask. The databases hold password hashes
// and audit rows, and blobs are private images.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "identity_test_support.h"

using namespace quay;
using quay::testing::AdminActor;
using quay::testing::FastIdentityOptions;
using quay::testing::OpenIdentity;
using quay::testing::OpenRegistry;
using quay::testing::PushBlob;
using quay::testing::PushImage;
using quay::testing::TempDir;

namespace {

// Restores the umask however the test ends.
struct Umask {
  mode_t saved;
  explicit Umask(mode_t mask) : saved(::umask(mask)) {}
  ~Umask() { ::umask(saved); }
};

// Every path under `root` (root included) with group or other bits set.
std::vector<std::string> Shared(const std::filesystem::path& root, size_t* seen) {
  std::vector<std::string> out;
  const auto check = [&](const std::filesystem::path& p) {
    struct stat st;
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    ++*seen;
    if ((st.st_mode & 077) != 0) {
      out.push_back(p.string() + " mode " + std::to_string(st.st_mode & 0777));
    }
  };
  check(root);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    check(entry.path());
  }
  return out;
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

}  // namespace

TEST_CASE("the data folder, databases, journals, uploads and blobs have no group/other bits") {
  Umask umask(0022);
  TempDir tmp;
  // A folder the library creates itself, with a missing parent.
  const std::filesystem::path data = std::filesystem::path(tmp.path()) / "deep" / "data";
  {
    Options options = FastIdentityOptions(data.string());
    auto identity = OpenIdentity(options);
    auto registry = OpenRegistry(options);
    REQUIRE(identity->CreateUser(AdminActor(), "alice", "alice@example.com", "pw").ok());
    auto appender = identity->audit().NewAppender({});
    CHECK(appender->Append(AuditEvent::By(AdminActor(), "pull_repo", "alice/app")));
    REQUIRE(appender->Flush().ok());
    PushImage(*registry, "alice/app", "modes", "v1");
    // An upload left open: its file stays in uploads/.
    auto upload = registry->StartUpload("alice/app");
    REQUIRE(upload.ok());
    REQUIRE((*upload)->Write("partial", 7).ok());
    size_t seen = 0;
    const auto shared = Shared(std::filesystem::path(tmp.path()) / "deep", &seen);
    CHECK_MESSAGE(shared.empty(), Joined(shared));
    // The walk saw the databases with their WAL files, journals and blobs.
    bool wal = false, journal = false, blob = false, upload_file = false;
    for (const auto& e : std::filesystem::recursive_directory_iterator(data)) {
      const std::string p = e.path().string();
      wal |= p.ends_with("quay.db-wal");
      journal |= p.find("audit-journal") != std::string::npos && e.is_regular_file();
      blob |= p.find("/blobs/") != std::string::npos && e.is_regular_file();
      upload_file |= p.find("/uploads/") != std::string::npos && e.is_regular_file();
    }
    CHECK(wal != quay::testing::UsePostgres());  // on PostgreSQL there is no database file
    CHECK(journal);
    CHECK(blob);
    CHECK(upload_file);
    CHECK(seen > 8);
  }
  // Reopening changes nothing.
  {
    auto identity = OpenIdentity(FastIdentityOptions(data.string()));
    auto registry = OpenRegistry(FastIdentityOptions(data.string()));
    PushBlob(*registry, "alice/app", "another blob");
    size_t seen = 0;
    const auto shared = Shared(data, &seen);
    CHECK_MESSAGE(shared.empty(), Joined(shared));
  }
}
