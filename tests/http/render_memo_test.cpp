// RenderMemo: a fragment is rendered once per page object and view, and
// never served for another object, even one at a reused address.
#include "host/api/render_memo.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

using quayd::RenderMemo;

TEST_CASE("render memo: once per object and view, again for a new object") {
  RenderMemo memo;
  int renders = 0;
  auto render = [&](const std::string& page) {
    ++renders;
    return "[" + page + "]";
  };
  auto a = std::make_shared<const std::string>("a");
  CHECK(*memo.Render(a, RenderMemo::View::kTagList, render) == "[a]");
  CHECK(*memo.Render(a, RenderMemo::View::kTagList, render) == "[a]");
  CHECK(renders == 1);
  // Another view of the same page is its own rendering.
  CHECK(*memo.Render(a, RenderMemo::View::kRepositoryTags,
                     [](const std::string& p) { return "{" + p + "}"; }) == "{a}");
  CHECK(*memo.Render(a, RenderMemo::View::kTagList, render) == "[a]");
  CHECK(renders == 1);

  // A page the library replaced: a new object, rendered anew. (Were the new
  // page at the old one's address, the entry's expired weak_ptr would not
  // match it.)
  a.reset();
  auto b = std::make_shared<const std::string>("b");
  CHECK(*memo.Render(b, RenderMemo::View::kTagList, render) == "[b]");
  CHECK(renders == 2);
}

TEST_CASE("render memo: stays within its budget") {
  RenderMemo memo(16 * 1024);  // 1 KiB a shard
  std::vector<std::shared_ptr<const std::string>> pages;
  int renders = 0;
  auto render = [&](const std::string& page) {
    ++renders;
    return std::string(300, page[0]);
  };
  for (int i = 0; i < 200; ++i) {
    pages.push_back(std::make_shared<const std::string>(1, static_cast<char>('a' + i % 26)));
    memo.Render(pages.back(), RenderMemo::View::kAuditLogs, render);
  }
  CHECK(renders == 200);
  // Not all 200 fragments (60 KB) can have been kept in 16 KiB.
  for (const auto& p : pages) memo.Render(p, RenderMemo::View::kAuditLogs, render);
  CHECK(renders > 200 + 100);
  // A fragment larger than a shard is rendered but never kept.
  auto big = std::make_shared<const std::string>("z");
  auto huge = [&](const std::string&) {
    ++renders;
    return std::string(4096, 'z');
  };
  const int before = renders;
  memo.Render(big, RenderMemo::View::kAuditLogs, huge);
  memo.Render(big, RenderMemo::View::kAuditLogs, huge);
  CHECK(renders == before + 2);
}
