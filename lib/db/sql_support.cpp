#include "db/sql_support.h"

#include <SQLiteCpp/Exception.h>
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
  if (const auto* pe = dynamic_cast<const PostgresError*>(&e)) {
    const std::string& state = pe->sqlstate();
    // Connection loss (08), a server shutting down or restarting (57P),
    // lock timeouts (55P03), serialization failures and deadlocks (40).
    if (state.empty() || state.starts_with("08") || state.starts_with("57P") || state == "55P03" ||
        state.starts_with("40")) {
      return Status::Unavailable(std::string("database unavailable: ") + pe->what());
    }
    if (state == "53100") return Status::NoSpace(std::string("database full: ") + pe->what());
    if (state == "23514" &&
        std::string_view(pe->what()).find("quota exceeded") != std::string_view::npos) {
      return Status::Denied("Quota has been exceeded on namespace");
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
