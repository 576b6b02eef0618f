// quayd's account and repository administration commands (user add/passwd,
// robot add, token add, repo visibility/grant, org add, org team
// add/role/member): each opens the
// IdentityService on the data folder, makes one change (audited like any
// other) and exits. They may run while `quayd serve` uses the same folder
// (SQLite WAL with a busy timeout serialises the writers).
//
// Secrets: passwords are read from `in` (a terminal gets a prompt with echo
// off), never from the command line; a created robot or app-specific token
// is printed once on `out`, alone on its line, so scripts can capture it.
// Messages go to `err`.
#pragma once

#include <cstdio>

#include "host/cmd/cli.h"

namespace quayd {

// Exit status: 0 done, 1 failed (the reason on `err`), 2 bad configuration.
int RunAdmin(const AdminFlags& flags, std::FILE* in = stdin, std::FILE* out = stdout,
             std::FILE* err = stderr);

}  // namespace quayd
