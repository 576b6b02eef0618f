// RequestBody::Stream: how the pieces the connection reads reach a handler's
// sink. Large pieces pass uncopied; small ones are gathered, but never so far
// that a body's bytes wait for its end (issue 15: a 1 MiB blob whose first
// piece was small reached the store in one piece after its last byte).
#include "host/net/request_body.h"

#include <doctest/doctest.h>
#include <httplib.h>

#include <cstddef>
#include <string>
#include <vector>

namespace {

using quayd::RequestBody;

// The body `pieces` as the connection would hand them over, with
// Content-Length; records what the sink saw and how much the reader had fed
// at each call.
struct Fed {
  std::vector<size_t> sizes;        // each sink call's size
  std::vector<size_t> fed_at_call;  // bytes the reader had handed over by then
  std::vector<const char*> pointers;
  std::string bytes;
  RequestBody::Outcome outcome{};
};

Fed Stream(const std::vector<std::string>& pieces, size_t stop_after_calls = 0) {
  size_t total = 0;
  for (const auto& p : pieces) total += p.size();
  httplib::Request req;
  req.set_header("Content-Length", std::to_string(total));
  size_t fed = 0;
  httplib::ContentReader reader(
      [&](httplib::ContentReceiver receiver) {
        for (const auto& p : pieces) {
          fed += p.size();
          if (!receiver(p.data(), p.size())) return false;
        }
        return true;
      },
      [](httplib::MultipartContentHeader, httplib::ContentReceiver) { return false; });
  RequestBody body(req, &reader);
  REQUIRE(body.framing().ok());
  Fed out;
  out.outcome = body.Stream([&](const char* data, size_t n) {
    out.sizes.push_back(n);
    out.fed_at_call.push_back(fed);
    out.pointers.push_back(data);
    out.bytes.append(data, n);
    return stop_after_calls == 0 || out.sizes.size() < stop_after_calls;
  });
  return out;
}

std::string Piece(size_t n, char fill) { return std::string(n, fill); }

}  // namespace

TEST_CASE("a small first piece does not hold the rest of the body back") {
  const size_t big = 256 << 10;
  std::vector<std::string> pieces = {Piece(4000, 'a'), Piece(big, 'b'), Piece(big, 'c'),
                                     Piece(big, 'd'), Piece(big - 4000, 'e')};
  Fed f = Stream(pieces);
  CHECK(f.outcome == RequestBody::Outcome::kComplete);
  std::string all;
  for (const auto& p : pieces) all += p;
  CHECK(f.bytes == all);  // every byte, in order
  // The small piece goes out when the large one after it arrives, and each
  // large piece as it arrives, not after the body's last byte.
  REQUIRE(f.sizes.size() == 5);
  CHECK(f.sizes[0] == 4000);
  CHECK(f.fed_at_call[0] == 4000 + big);
  CHECK(f.fed_at_call[1] == 4000 + big);
  CHECK(f.fed_at_call[2] == 4000 + 2 * big);
  // Large pieces reach the sink uncopied.
  CHECK(f.pointers[1] == pieces[1].data());
  CHECK(f.pointers[4] == pieces[4].data());
}

TEST_CASE("small pieces are gathered up to kDirectPiece") {
  std::vector<std::string> pieces;
  for (int i = 0; i < 100; ++i) pieces.push_back(Piece(1000, static_cast<char>('A' + i % 26)));
  Fed f = Stream(pieces);
  CHECK(f.outcome == RequestBody::Outcome::kComplete);
  std::string all;
  for (const auto& p : pieces) all += p;
  CHECK(f.bytes == all);
  // 100,000 bytes: one gathered piece of 64 KiB, then the rest at the end.
  REQUIRE(f.sizes.size() == 2);
  CHECK(f.sizes[0] == RequestBody::kDirectPiece);
  CHECK(f.fed_at_call[0] < 100000);
  CHECK(f.sizes[1] == 100000 - RequestBody::kDirectPiece);
}

TEST_CASE("a sink that stops ends the stream, gathered or not") {
  const size_t big = 128 << 10;
  Fed f = Stream({Piece(10, 'x'), Piece(big, 'y'), Piece(big, 'z')}, /*stop_after_calls=*/1);
  CHECK(f.outcome == RequestBody::Outcome::kStopped);
  CHECK(f.sizes.size() == 1);  // the large piece after the refused one is not offered
  Fed g = Stream({Piece(10, 'x'), Piece(big, 'y'), Piece(big, 'z')}, /*stop_after_calls=*/2);
  CHECK(g.outcome == RequestBody::Outcome::kStopped);
  CHECK(g.sizes.size() == 2);
  CHECK(g.fed_at_call[1] == 10 + big);
}
