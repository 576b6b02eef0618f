// Where the secret that encrypts stored private keys comes from
// (IdentityOptions::database_secret_key, Quay's DATABASE_SECRET_KEY), when
// the embedder did not configure one. Internal to lib/api.
//
// A database file gets a secret file beside it: "<data_dir>/database_secret_key"
// (or, with only Options::database_path, in the database file's folder),
// created on first need with 32 random bytes as 64 hex characters. Every
// process that opens the same folder reads the same file, so instances on one
// folder decrypt each other's keys. Its text is used exactly like a
// configured DATABASE_SECRET_KEY, so an operator may move it into the
// configuration later. An in-memory database gets a random secret kept with
// its connections (both die with the process), shared by every service on it.
#pragma once

#include <string>
#include <string_view>

#include "db/connection.h"
#include "quay/logger.h"
#include "quay/options.h"
#include "quay/status.h"

namespace quay::api {

inline constexpr std::string_view kDatabaseSecretFileName = "database_secret_key";

// The secret for a database opened with `options` on `pool`. Unavailable
// when the secret file cannot be read or created.
Result<std::string> DatabaseSecretFor(const Options& options, db::ConnectionPool& pool,
                                      Logger& logger);

// The secret in `path`, creating the file first if it does not exist. The
// file appears complete or not at all (written to a temporary name, fsync'd,
// then hard-linked into place, which fails if another process got there
// first: the loser reads the winner's file, so concurrent creators agree).
// Mode 0600. Trailing white space is not part of the secret. A file that is
// readable by group or others is used, with a warning.
Result<std::string> LoadOrCreateSecretFile(const std::string& path, Logger& logger);

}  // namespace quay::api
