// The main of http-api, and its route-coverage check: after every test case
// has run, each row of quayd::ApiRoutes() (by nickname) must have answered at
// least one request of a counting ApiServer (the functional tests; the
// permission matrix does not count, it sends every row by construction).
// The check reads the table, so a row added later fails this binary until a
// test exercises it. It runs only for an unfiltered run (a -tc/-ts/-sf
// filter skips it).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "api_fixture.h"

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  const int rc = context.run();
  if (context.shouldExit()) return rc;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    for (std::string_view filter : {"-tc", "-ts", "-sf", "-sc", "--test-case", "--test-suite",
                                    "--source-file", "--subcase", "-tce", "-tse", "-sfe"}) {
      if (arg.starts_with(filter)) return rc;
    }
  }
  const std::set<std::string> covered = quayd::apitest::CoveredRoutes();
  std::string missing;
  size_t rows = 0;
  for (const quayd::ApiRoute& route : quayd::ApiRoutes()) {
    ++rows;
    if (!covered.contains(std::string(route.nickname))) {
      missing += "  " + std::string(quayd::HttpMethodName(route.method)) + " " +
                 std::string(route.path) + " (" + std::string(route.nickname) + ")\n";
    }
  }
  if (!missing.empty()) {
    std::fprintf(stderr,
                 "route coverage: FAILED - these /api/v1 route rows were not exercised by any "
                 "functional test (tests/http/api_*_test.cpp):\n%s",
                 missing.c_str());
    return rc != 0 ? rc : 1;
  }
  std::fprintf(stderr, "route coverage: all %zu route rows exercised\n", rows);
  return rc;
}
