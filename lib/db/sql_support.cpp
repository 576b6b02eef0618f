#include "db/sql_support.h"

#include <sqlite3.h>

#include <string_view>

namespace quay::db {

Status FromException(const std::exception& e) {
  if (const auto* se = dynamic_cast<const SQLite::Exception*>(&e)) {
    const int code = se->getErrorCode();
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
      return Status::Unavailable(std::string("database busy: ") + se->what());
    }
    // SQLite rolls back what it could not write; the database stays intact
    // and readable, so a full disk is reported as such and reads go on.
    if (code == SQLITE_FULL) {
      return Status::NoSpace(std::string("database full: ") + se->what());
    }
    // The namespace_usage trigger's refusal (schema v10).
    if ((code & 0xff) == SQLITE_CONSTRAINT &&
        std::string_view(se->what()).find("quota exceeded") != std::string_view::npos) {
      return Status::Denied("Quota has been exceeded on namespace");
    }
    if (code == SQLITE_IOERR) {
      return Status::Unavailable(std::string("database i/o failure: ") + se->what());
    }
  }
  return Status::Internal(std::string("database error: ") + e.what());
}

std::string JsonArray(const std::vector<Digest>& digests) {
  std::string out = "[";
  for (size_t i = 0; i < digests.size(); ++i) {
    if (i) out += ',';
    out += '"';
    out += digests[i].str();
    out += '"';
  }
  out += ']';
  return out;
}

std::string JsonArray(const std::vector<int64_t>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(ids[i]);
  }
  out += ']';
  return out;
}

}  // namespace quay::db
