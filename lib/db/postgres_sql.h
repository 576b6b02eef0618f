// SQLite's dialect to PostgreSQL's, for the statements the stores share.
// Internal to lib/db.
//
// The stores' SQL is written once, for SQLite; most of it is standard and
// runs on PostgreSQL once a few idioms are rewritten. A statement this does
// not cover passes its own PostgreSQL text to Connection::Prepare, which
// still gets the parameter rewrite.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace quay::db {

struct PostgresSql {
  std::string text;
  int parameters = 0;  // the highest $n used
  // Named parameters (":name"), numbered in order of first appearance as
  // SQLite numbers them: names[n - 1] is $n's name, "" for a positional one.
  std::vector<std::string> names;
};

// Rewrites, outside string literals and quoted names:
//   ?  ?NNN  :name             -> $n  $NNN  $n (a bare ? or a new name takes the
//                                 highest so far + 1)
//   INSERT OR IGNORE ... [RETURNING ...]
//                              -> INSERT ... ON CONFLICT DO NOTHING [RETURNING ...]
//   INDEXED BY name            -> (removed: an index hint)
//   CROSS JOIN t ON            -> INNER JOIN t ON
//   x IN table                 -> x IN (SELECT * FROM table)
//   x LIKE y                   -> x ILIKE y (SQLite's LIKE ignores ASCII case)
//   a IS b, a IS NOT b         -> IS [NOT] DISTINCT FROM (unless b is NULL, TRUE, FALSE)
//   MAX(a, b), MIN(a, b)       -> GREATEST, LEAST (the two-argument scalar forms)
//   instr, IFNULL              -> strpos, COALESCE
//   CAST(x AS INTEGER)         -> CAST(x AS BIGINT)
//   json_each(x) [alias]       -> json_array_elements_text(CAST(x AS json)) AS alias(value)
//   json_group_array, json_object, json_array
//                              -> json_agg, json_build_object, json_build_array
//   substr(s, from, n)         -> substr(s, from, GREATEST(n, 0))
//   lower(hex(randomblob(16))) -> 32 random hex digits
PostgresSql TranslateForPostgres(std::string_view sqlite);

// Only the parameter rewrite, for text already in PostgreSQL's dialect.
PostgresSql NumberParameters(std::string_view sql);

}  // namespace quay::db
