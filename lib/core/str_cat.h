// Strings built from pieces in one allocation. Internal to libquay.
//
// Why not `"literal '" + std::string(view) + "'"`: that shape starts with
// operator+(const char*, std::string&&), which inserts the literal at the
// front of the temporary; GCC 12 at -O2/-O3 inlines it and reports a
// -Wrestrict overlap that cannot happen (a false positive that broke
// --buildtype=release under -Werror). StrCat appends into one reserved
// string instead: no insert at the front, no temporaries, no warning.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace quay::core {

inline std::string StrCat(std::initializer_list<std::string_view> pieces) {
  size_t size = 0;
  for (std::string_view p : pieces) size += p.size();
  std::string out;
  out.reserve(size);
  for (std::string_view p : pieces) out.append(p);
  return out;
}

}  // namespace quay::core
